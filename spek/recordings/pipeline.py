"""The transcription pipeline a worker runs for one recording, in named stages that report progress.

decode → transcribe → diarize → assign speakers to words and segments → save.
Each stage updates the Job row and appends a progress event.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import anyio.from_thread
import structlog
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.asr.whisper import Transcription, WhisperTranscriber
from spek.diarization import Diarizer, SpeakerCount
from spek.diarization.assign import SpeakerSegment, assign_speakers
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.media import decode_mono_16k
from spek.recordings.models import Recording, Segment, Transcript
from spek.storage import Storage

log = structlog.get_logger("spek.pipeline")

# Where each stage starts on the job's 0..1 progress scale.
STAGE_START = {"decoding": 0.02, "transcribing": 0.1, "diarizing": 0.8, "saving": 0.95}


@dataclass
class PipelineTools:
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    storage: Storage
    transcriber: Callable[[], WhisperTranscriber]
    diarizer: Callable[[], Diarizer]


class Cancelled(Exception):
    """The user cancelled the job; its CANCELLED event has been sent already."""


async def transcribe_recording(tools: PipelineTools, job_id: uuid.UUID) -> None:
    async with tools.sessionmaker() as session:
        job = await session.get(Job, job_id)
        recording = (await session.execute(select(Recording).where(Recording.job_id == job_id))).scalar_one_or_none()
        if job is None or recording is None or job.status.is_terminal:
            return  # deleted or cancelled meanwhile: nothing to do
        job.attempts += 1
        try:
            await _run(tools, session, job, recording)
        except Cancelled:
            log.info("pipeline.cancelled", job_id=str(job_id))
        except Exception as e:
            log.exception("pipeline.failed", job_id=str(job_id))
            await session.rollback()
            job = await session.get_one(Job, job_id)
            await jobs.report(session, tools.redis, job, status=JobStatus.FAILED, error=f"Transcription failed: {e}")


async def _run(tools: PipelineTools, session: AsyncSession, job: Job, recording: Recording) -> None:
    options = recording.options

    async def stop_if_cancelled() -> None:
        if await jobs.is_cancelled(tools.redis, job.id):
            raise Cancelled

    await jobs.report(session, tools.redis, job, status=JobStatus.RUNNING, stage="decoding", progress=STAGE_START["decoding"])
    async with tools.storage.local_path(recording.storage_key) as path:
        audio = await anyio.to_thread.run_sync(decode_mono_16k, path)

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

    def transcribe() -> Transcription:
        transcriber = tools.transcriber()
        return transcriber.transcribe(
            audio, options.get("language"), options.get("quality", "BALANCED"),
            on_progress=lambda fraction: anyio.from_thread.run(on_progress, fraction),
        )

    result = await anyio.to_thread.run_sync(transcribe)

    await stop_if_cancelled()
    if options.get("diarize", True):
        await jobs.report(session, tools.redis, job, stage="diarizing", progress=STAGE_START["diarizing"])
        count = SpeakerCount(options.get("num_speakers"), options.get("min_speakers"), options.get("max_speakers"))
        turns = await anyio.to_thread.run_sync(lambda: tools.diarizer().diarize(audio, count))
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
