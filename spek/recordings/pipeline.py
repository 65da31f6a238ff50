"""The transcription pipeline a worker runs for one recording, in named stages that report progress.

decode (into a scratch file) → normalize loudness → detect speech → transcribe → diarize → assign
speakers to words and segments → save → index (embed the segments for search).
Each stage updates the Job row and appends a progress event.
"""

import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.from_thread
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.accounts.models import User
from spek.asr.whisper import Transcription, WhisperTranscriber
from spek.audio.loudness import normalize
from spek.audio.samples import Samples
from spek.audio.vad import SpeechRegion
from spek.diarization import Diarizer, SpeakerCount
from spek.diarization.assign import SpeakerSegment, assign_speakers
from spek.diarization.speech import SpeechFinder
from spek.embeddings import Embedder
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.retries import WorkerStopping
from spek.jobs.runner import begin_stage, run_job, stop_if_asked
from spek.notes import service as notes
from spek.recordings.models import Recording
from spek.recordings.options import RecordingOptions
from spek.search import index
from spek.storage import Storage, SyncReader
from spek.transcripts import service as transcripts

# Where each stage starts on the job's 0..1 progress scale.
STAGE_START = {
    "decoding": 0.02,
    "normalizing": 0.05,
    "detecting speech": 0.07,
    "transcribing": 0.1,
    "diarizing": 0.8,
    "saving": 0.95,
    "indexing": 0.97,
}


@dataclass
class PipelineTools:
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    storage: Storage
    transcriber: Callable[[], WhisperTranscriber]
    diarizer: Callable[[], Diarizer]
    speech_finder: Callable[[], SpeechFinder]
    embedder: Callable[[], Embedder]
    stopping: threading.Event  # set when the worker is shutting down
    max_attempts: int = 3
    retry_backoff_seconds: float = 10.0
    make_notes: bool = True  # queue the note job when the transcript is ready
    # Decoded audio waits here (unnamed, encrypted) while a job runs: the worker passes `<data dir>/tmp`.
    scratch_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


async def transcribe_recording(tools: PipelineTools, job_id: uuid.UUID) -> None:
    """Run the pipeline once; RetryLater or WorkerStopping tell the queue to run it again."""

    async def work(session: AsyncSession, job: Job) -> None:
        query = select(Recording).where(Recording.job_id == job.id)
        recording = (await session.execute(query)).scalar_one_or_none()
        if recording is not None:  # else deleted meanwhile: nothing to do
            await _run(tools, session, job, recording)

    await run_job(tools, job_id, "Transcription", work)


@dataclass
class _Run:
    """One run of the pipeline over one recording: what its steps share."""

    tools: PipelineTools
    session: AsyncSession
    job: Job
    recording: Recording
    options: RecordingOptions
    audio: Samples

    async def stop_if_asked(self) -> None:
        await stop_if_asked(self.tools, self.job)

    async def begin(self, stage: str) -> None:
        await begin_stage(self.tools, self.session, self.job, stage, STAGE_START[stage])


async def _run(tools: PipelineTools, session: AsyncSession, job: Job, recording: Recording) -> None:
    # The decoded audio is gone when the job ends, however it ends (done, failed, cancelled, killed).
    with Samples(tools.scratch_dir) as audio:
        run = _Run(tools, session, job, recording, RecordingOptions.from_json(recording.options), audio)
        await _decode(run)
        await _normalize(run)
        speech = await _detect_speech(run)
        transcription = await _transcribe(run, speech)
        segments = await _diarize(run, transcription, speech)
        await _save(run, transcription, segments)
        await _index(run)


async def _decode(run: _Run) -> None:
    await run.begin("decoding")

    def decode() -> None:
        # Straight from storage: with encryption on, the plaintext must never land on disk.
        with SyncReader(run.tools.storage, run.recording.storage_key) as source:
            run.audio.decode(source)

    await anyio.to_thread.run_sync(decode)


async def _normalize(run: _Run) -> None:
    await run.begin("normalizing")
    await anyio.to_thread.run_sync(normalize, run.audio)


async def _detect_speech(run: _Run) -> list[SpeechRegion]:
    """One speech pass (Silero and the segmentation model), shared by Whisper and the diarizer."""
    await run.begin("detecting speech")
    return await anyio.to_thread.run_sync(lambda: run.tools.speech_finder().find(run.audio))


async def _transcribe(run: _Run, speech: list[SpeechRegion]) -> Transcription:
    await run.begin("transcribing")
    started = time.monotonic()
    span = STAGE_START["diarizing"] - STAGE_START["transcribing"]
    reported = 0.0

    async def on_progress(fraction: float) -> None:
        nonlocal reported
        await run.stop_if_asked()  # raised inside the Whisper thread: it stops at the next segment
        if fraction - reported < 0.02 and fraction < 1.0:
            return  # one event per 2 % of the audio is plenty for a progress bar
        reported = fraction
        elapsed = time.monotonic() - started
        eta = elapsed / fraction * (1 - fraction) if fraction > 0.01 else None
        progress = STAGE_START["transcribing"] + span * fraction
        await jobs.report(run.session, run.tools.redis, run.job, progress=progress, eta_seconds=eta)

    def on_progress_in_thread(fraction: float) -> None:
        # Checked here, not only in on_progress: on shutdown ARQ cancels the job's task right away,
        # and this thread must not go on transcribing after it.
        if run.tools.stopping.is_set():
            raise WorkerStopping
        anyio.from_thread.run(on_progress, fraction)

    def transcribe() -> Transcription:
        transcriber = run.tools.transcriber()
        options = run.options
        return transcriber.transcribe(
            run.audio, options.language, options.quality, on_progress=on_progress_in_thread, speech=speech
        )

    return await anyio.to_thread.run_sync(transcribe)


async def _diarize(run: _Run, transcription: Transcription, speech: list[SpeechRegion]) -> list[SpeakerSegment]:
    """Who spoke when, onto the transcription's words; segments without speakers when diarization is off."""
    options = run.options
    if not options.diarize:
        await run.stop_if_asked()
        return [SpeakerSegment(s.start, s.end, None, s.words, s.language) for s in transcription.segments]
    await run.begin("diarizing")
    count = SpeakerCount(options.num_speakers, options.min_speakers, options.max_speakers)
    turns = await anyio.to_thread.run_sync(lambda: run.tools.diarizer().diarize(run.audio, count, speech))
    return assign_speakers(transcription.segments, turns)


async def _save(run: _Run, transcription: Transcription, segments: list[SpeakerSegment]) -> None:
    await run.begin("saving")
    await transcripts.save_transcript(run.session, run.recording, transcription, segments)


async def _index(run: _Run) -> None:
    """Embed the new segments for search by meaning (search by words finds them already)."""
    await run.begin("indexing")
    embedder = await anyio.to_thread.run_sync(run.tools.embedder)
    await index.embed_pending(run.session, embedder, parent_id=run.recording.id)
    if run.tools.make_notes:  # queued first: whoever sees the transcript ready sees its note coming
        user = await run.session.get_one(User, run.recording.user_id)
        await notes.start_note_job(run.session, run.tools.redis, user, run.recording)
    await jobs.report(
        run.session, run.tools.redis, run.job, status=JobStatus.COMPLETED, stage="indexing", message="transcript ready"
    )
