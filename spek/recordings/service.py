"""Recordings: upload (validated by what the file really holds), queries, all scoped to the user."""

import uuid
from collections.abc import AsyncIterable
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from spek import audit
from spek.accounts.models import User
from spek.errors import BadUserInput, Conflict, NotFound, PayloadTooLarge, UnsupportedMedia
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.media import NotAudio, probe
from spek.notebooks import service as notebooks
from spek.recordings.models import Recording, Transcript
from spek.storage import Storage, file_chunks

TRANSCRIBE_FUNCTION = "transcribe_recording"
QUALITIES = ("FAST", "BALANCED", "BEST")
MAX_SPEAKERS = 10


@dataclass
class RecordingOptions:
    title: str | None = None
    notebook_id: uuid.UUID | None = None
    language: str | None = None
    quality: str = "BALANCED"
    diarize: bool = True
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None

    def validate(self) -> None:
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        if self.language is not None and self.language.lower() not in _LANGUAGE_CODES:
            raise BadUserInput(f"language {self.language!r} is not an ISO 639-1 code Whisper knows (e.g. \"en\", \"ru\"); leave it out to detect.")
        if self.quality not in QUALITIES:
            raise BadUserInput(f"quality must be one of {', '.join(QUALITIES)}.")
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= MAX_SPEAKERS:
                raise BadUserInput(f"{name} must be between 1 and {MAX_SPEAKERS}.")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise BadUserInput("minSpeakers must not be more than maxSpeakers.")

    def as_json(self) -> dict:
        data = asdict(self)
        data["notebook_id"] = str(self.notebook_id) if self.notebook_id else None
        return data


async def _spool(chunks: AsyncIterable[bytes], path: Path, limit_bytes: int) -> int:
    """Copy the upload to a scratch file chunk by chunk, refusing it as soon as it passes the limit."""
    size = 0
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit_bytes:
                raise PayloadTooLarge(f"The file is larger than the {limit_bytes // (1024 * 1024)} MB limit.")
            await out.write(chunk)
    if size == 0:
        raise UnsupportedMedia("The file is empty.")
    return size


async def upload_recording(
    session: AsyncSession,
    queue: ArqRedis,
    storage: Storage,
    scratch_dir: Path,
    max_upload_bytes: int,
    user: User,
    filename: str,
    chunks: AsyncIterable[bytes],
    options: RecordingOptions,
) -> Recording:
    options.validate()
    if options.notebook_id is not None:
        await notebooks.get_notebook(session, user, options.notebook_id)
    filename = Path(filename or "recording").name[:255] or "recording"
    title = notebooks.clean_title(options.title) if options.title is not None else Path(filename).stem[:200] or "Recording"

    scratch_dir.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir / f"upload-{uuid.uuid4().hex}"
    storage_key = f"recordings/{user.id}/{uuid.uuid4()}"
    stored = False
    try:
        size = await _spool(chunks, scratch, max_upload_bytes)
        try:
            info = await anyio.to_thread.run_sync(probe, scratch)
        except NotAudio as e:
            raise UnsupportedMedia(
                f"{filename} is not an audio file we can read: {e}. Send m4a/aac, mp3, wav, ogg/opus, webm, flac, or mp4/mov with sound."
            ) from None
        await storage.write(storage_key, file_chunks(scratch))
        stored = True
        job = await jobs.create_job(session, user, "transcription")
        recording = Recording(
            user_id=user.id,
            notebook_id=options.notebook_id,
            job_id=job.id,
            title=title,
            filename=filename,
            format=info.format,
            size_bytes=size,
            duration_seconds=info.duration_seconds,
            sample_rate=info.sample_rate,
            channels=info.channels,
            storage_key=storage_key,
            options=options.as_json(),
        )
        session.add(recording)
        await session.flush()
        audit.record(session, user.id, "recording.upload", "recording", recording.id, filename=filename, size=size)
        await _enqueue(session, queue, job)
    except BaseException:
        await session.rollback()
        if stored:
            await storage.delete(storage_key)
        raise
    finally:
        scratch.unlink(missing_ok=True)
    return await get_recording(session, user, recording.id)


async def _enqueue(session: AsyncSession, queue: ArqRedis, job: Job) -> None:
    # The QUEUED event first: a client subscribing right after the upload sees it at once.
    await jobs.report(session, queue, job, message="queued")
    await queue.enqueue_job(TRANSCRIBE_FUNCTION, str(job.id), _job_id=str(job.id))


async def retry_recording(session: AsyncSession, queue: ArqRedis, user: User, recording_id: uuid.UUID) -> Recording:
    """Transcribe again, as a new job, a recording whose last run failed or was cancelled."""
    recording = await get_recording(session, user, recording_id)
    if recording.job is not None and recording.job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        raise Conflict(f"Only a failed or cancelled recording can be retried; this one is {recording.job.status.value}.")
    transcript = await transcript_of(session, recording)
    if transcript is not None:
        await session.delete(transcript)
    job = await jobs.create_job(session, user, "transcription")
    recording.job_id = job.id
    audit.record(session, user.id, "recording.retry", "recording", recording.id)
    await _enqueue(session, queue, job)
    session.expire(recording)  # reload with the new job
    return await get_recording(session, user, recording_id)


async def delete_recording(session: AsyncSession, queue: ArqRedis, storage: Storage, user: User, recording_id: uuid.UUID) -> bool:
    """Delete the recording, its transcript and its audio; a job still running is cancelled first."""
    recording = await get_recording(session, user, recording_id)
    if recording.job is not None and not recording.job.status.is_terminal:
        await jobs.cancel_job(session, queue, user, recording.job.id)
    await session.delete(recording)
    audit.record(session, user.id, "recording.delete", "recording", recording_id, filename=recording.filename)
    await session.commit()
    await storage.delete(recording.storage_key)
    return True


async def get_recording(session: AsyncSession, user: User, recording_id: uuid.UUID) -> Recording:
    recording = (
        await session.execute(select(Recording).where(Recording.id == recording_id, Recording.user_id == user.id))
    ).scalar_one_or_none()
    if recording is None:
        raise NotFound(f"Recording {recording_id} not found.")
    return recording


async def list_recordings(session: AsyncSession, user: User, limit: int, offset: int) -> list[Recording]:
    if not 1 <= limit <= 200 or offset < 0:
        raise BadUserInput("limit must be 1..200 and offset at least 0.")
    query = select(Recording).where(Recording.user_id == user.id).order_by(Recording.created_at.desc()).limit(limit).offset(offset)
    return list((await session.execute(query)).scalars())


async def get_transcript(session: AsyncSession, user: User, transcript_id: uuid.UUID) -> Transcript:
    transcript = (
        await session.execute(
            select(Transcript)
            .join(Recording)
            .where(Transcript.id == transcript_id, Recording.user_id == user.id)
            .options(selectinload(Transcript.segments))
        )
    ).scalar_one_or_none()
    if transcript is None:
        raise NotFound(f"Transcript {transcript_id} not found.")
    return transcript


async def transcript_of(session: AsyncSession, recording: Recording) -> Transcript | None:
    """The transcript of a recording the caller already holds (ownership checked when it was loaded)."""
    return (
        await session.execute(
            select(Transcript).where(Transcript.recording_id == recording.id).options(selectinload(Transcript.segments))
        )
    ).scalar_one_or_none()
