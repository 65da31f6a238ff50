"""The transcription pipeline a worker runs for one recording, in named stages that report progress.

decode (into a scratch file) → normalize loudness → detect speech → transcribe → diarize → assign
speakers to words and segments → save.
Each stage updates the Job row and appends a progress event.
"""

import asyncio
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.from_thread
import structlog
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.asr.whisper import Transcription, WhisperTranscriber
from spek.audio.loudness import normalize
from spek.audio.samples import Samples
from spek.audio.vad import detect_speech
from spek.diarization import Diarizer, SpeakerCount
from spek.diarization.assign import SpeakerSegment, assign_speakers
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.retries import RetryLater, WorkerStopping, backoff_seconds, is_transient
from spek.recordings.models import Recording, Segment, Transcript
from spek.storage import Storage, SyncReader

log = structlog.get_logger("spek.pipeline")

# Where each stage starts on the job's 0..1 progress scale.
STAGE_START = {
    "decoding": 0.02,
    "normalizing": 0.05,
    "detecting speech": 0.07,
    "transcribing": 0.1,
    "diarizing": 0.8,
    "saving": 0.95,
}


@dataclass
class PipelineTools:
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    storage: Storage
    transcriber: Callable[[], WhisperTranscriber]
    diarizer: Callable[[], Diarizer]
    stopping: threading.Event  # set when the worker is shutting down
    max_attempts: int = 3
    retry_backoff_seconds: float = 10.0
    # Decoded audio waits here (unnamed, encrypted) while a job runs: the worker passes `<data dir>/tmp`.
    scratch_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


class Cancelled(Exception):
    """The user cancelled the job; its CANCELLED event has been sent already."""


async def transcribe_recording(tools: PipelineTools, job_id: uuid.UUID) -> None:
    """Run the pipeline once; RetryLater or WorkerStopping tell the queue to run it again."""
    async with tools.sessionmaker() as session:
        job = await session.get(Job, job_id)
        recording = (await session.execute(select(Recording).where(Recording.job_id == job_id))).scalar_one_or_none()
        if job is None or recording is None or job.status.is_terminal:
            return  # deleted or cancelled meanwhile: nothing to do
        job.attempts += 1
        if job.attempts > tools.max_attempts:
            # Earlier runs ended without a word: their worker was killed (out of memory, a crash).
            await jobs.report(
                session, tools.redis, job, status=JobStatus.FAILED,
                error=f"Transcription failed: the worker stopped during each of {tools.max_attempts} attempts (last in the {job.stage or 'first'} stage).",
            )
            return
        try:
            await _run(tools, session, job, recording)
        except Cancelled:
            log.info("pipeline.cancelled", job_id=str(job_id))
        except (WorkerStopping, asyncio.CancelledError):
            if not tools.stopping.is_set():
                raise  # the user's cancelJob: ARQ aborted the task, the job is CANCELLED already
            with anyio.CancelScope(shield=True):
                await _hand_back(tools, session, job_id)
            raise
        except Exception as e:
            await session.rollback()
            job = await session.get_one(Job, job_id)
            if is_transient(e) and job.attempts < tools.max_attempts:
                delay = backoff_seconds(job.attempts, tools.retry_backoff_seconds)
                log.warning("pipeline.retrying", job_id=str(job_id), attempt=job.attempts, delay=delay, error=repr(e))
                await jobs.report(
                    session, tools.redis, job, status=JobStatus.QUEUED,
                    message=f"{_describe(e)}; trying again in {delay:.0f} s (attempt {job.attempts + 1} of {tools.max_attempts})",
                )
                raise RetryLater(delay) from e
            log.exception("pipeline.failed", job_id=str(job_id))
            await jobs.report(session, tools.redis, job, status=JobStatus.FAILED, error=f"Transcription failed: {_describe(e)}")


async def _hand_back(tools: PipelineTools, session: AsyncSession, job_id: uuid.UUID) -> None:
    """Back to the queue for another worker; a hand-back is not a failed attempt."""
    await session.rollback()
    job = await session.get_one(Job, job_id)
    job.attempts -= 1
    await jobs.report(session, tools.redis, job, status=JobStatus.QUEUED, message="the worker is shutting down; another worker will continue")
    log.info("pipeline.handed_back", job_id=str(job_id))


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


async def _run(tools: PipelineTools, session: AsyncSession, job: Job, recording: Recording) -> None:
    # The decoded audio is gone when the job ends, however it ends (done, failed, cancelled, killed).
    with Samples(tools.scratch_dir) as audio:
        await _stages(tools, session, job, recording, audio)


async def _stages(tools: PipelineTools, session: AsyncSession, job: Job, recording: Recording, audio: Samples) -> None:
    options = recording.options

    async def stop_if_cancelled() -> None:
        if await jobs.is_cancelled(tools.redis, job.id):
            raise Cancelled
        if tools.stopping.is_set():
            raise WorkerStopping

    await jobs.report(session, tools.redis, job, status=JobStatus.RUNNING, stage="decoding", progress=STAGE_START["decoding"])

    def decode() -> None:
        # Straight from storage: with encryption on, the plaintext must never land on disk.
        with SyncReader(tools.storage, recording.storage_key) as source:
            audio.decode(source)

    await anyio.to_thread.run_sync(decode)

    await stop_if_cancelled()
    await jobs.report(session, tools.redis, job, stage="normalizing", progress=STAGE_START["normalizing"])
    await anyio.to_thread.run_sync(normalize, audio)

    await stop_if_cancelled()
    await jobs.report(session, tools.redis, job, stage="detecting speech", progress=STAGE_START["detecting speech"])
    speech = await anyio.to_thread.run_sync(detect_speech, audio)

    await stop_if_cancelled()
    await jobs.report(session, tools.redis, job, stage="transcribing", progress=STAGE_START["transcribing"])
    started = time.monotonic()
    span = STAGE_START["diarizing"] - STAGE_START["transcribing"]

    reported = 0.0

    async def on_progress(fraction: float) -> None:
        nonlocal reported
        await stop_if_cancelled()  # raised inside the Whisper thread: it stops at the next segment
        if fraction - reported < 0.02 and fraction < 1.0:
            return  # one event per 2 % of the audio is plenty for a progress bar
        reported = fraction
        elapsed = time.monotonic() - started
        eta = elapsed / fraction * (1 - fraction) if fraction > 0.01 else None
        await jobs.report(session, tools.redis, job, progress=STAGE_START["transcribing"] + span * fraction, eta_seconds=eta)

    def on_progress_in_thread(fraction: float) -> None:
        # Checked here, not only in on_progress: on shutdown ARQ cancels the job's task right away,
        # and this thread must not go on transcribing after it.
        if tools.stopping.is_set():
            raise WorkerStopping
        anyio.from_thread.run(on_progress, fraction)

    def transcribe() -> Transcription:
        transcriber = tools.transcriber()
        return transcriber.transcribe(
            audio, options.get("language"), options.get("quality", "BALANCED"), on_progress=on_progress_in_thread, speech=speech
        )

    result = await anyio.to_thread.run_sync(transcribe)

    await stop_if_cancelled()
    if options.get("diarize", True):
        await jobs.report(session, tools.redis, job, stage="diarizing", progress=STAGE_START["diarizing"])
        count = SpeakerCount(options.get("num_speakers"), options.get("min_speakers"), options.get("max_speakers"))
        turns = await anyio.to_thread.run_sync(lambda: tools.diarizer().diarize(audio, count, speech))
        segments = assign_speakers(result.segments, turns)
    else:
        segments = [SpeakerSegment(s.start, s.end, None, s.words) for s in result.segments]

    await stop_if_cancelled()
    await jobs.report(session, tools.redis, job, stage="saving", progress=STAGE_START["saving"])
    labels = sorted({s.speaker for s in segments if s.speaker})
    transcript = Transcript(
        recording_id=recording.id,
        language=result.language,
        language_probability=result.language_probability,
        duration_seconds=result.duration_seconds,
        model=result.model,
        speakers=[{"label": label, "name": None} for label in labels],
        segments=[
            Segment(
                index=i,
                start=s.start,
                end=s.end,
                speaker=s.speaker,
                text=s.text,
                words=[{"start": w.start, "end": w.end, "text": w.text, "probability": w.probability} for w in s.words],
            )
            for i, s in enumerate(segments)
        ],
    )
    session.add(transcript)
    if recording.duration_seconds is None:
        recording.duration_seconds = result.duration_seconds
    await jobs.report(session, tools.redis, job, status=JobStatus.COMPLETED, stage="saving", message="transcript ready")
