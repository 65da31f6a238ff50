"""Recordings: upload (validated by what the file really holds), queries, all scoped to the user."""

import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio
from arq.connections import ArqRedis
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from spek import audit
from spek.accounts.models import User
from spek.errors import BadUserInput, Conflict, NotFound, PayloadTooLarge, UnsupportedMedia
from spek.jobs import reconcile
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.queue import JobFunction, enqueue
from spek.media import MediaInfo, NotAudio, probe
from spek.notebooks import service as notebooks
from spek.recordings.models import Batch, Recording
from spek.recordings.options import RecordingOptions
from spek.storage import Storage, file_chunks
from spek.transcripts import service as transcripts
from spek.uploads import IncomingFile, UploadTools, spool

MAX_BATCH_FILES = 10
AUDIO_EXPIRED = "The recording's audio was deleted when it expired (SPEK_AUDIO_TTL_HOURS); its transcript stays."


@dataclass
class _Received:
    """An upload spooled to a scratch file and probed: it holds audio we can read."""

    filename: str
    scratch: Path
    size: int
    info: MediaInfo


async def _receive(incoming: IncomingFile, scratch_dir: Path, limit_bytes: int) -> _Received:
    filename = incoming.safe_name
    scratch = scratch_dir / f"upload-{uuid.uuid4().hex}"
    try:
        try:
            size = await spool(incoming.chunks, scratch, limit_bytes)
            info = await anyio.to_thread.run_sync(probe, scratch)
        except NotAudio as e:
            raise UnsupportedMedia(
                f"{filename} is not an audio file we can read: {e}. "
                "Send m4a/aac, mp3, wav, ogg/opus, webm, flac, or mp4/mov with sound."
            ) from None
        except (PayloadTooLarge, UnsupportedMedia) as e:
            raise type(e)(f"{filename}: {e}") from None
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    return _Received(filename, scratch, size, info)


async def _add_recordings(
    session: AsyncSession,
    tools: UploadTools,
    user: User,
    files: list[IncomingFile],
    options: RecordingOptions,
    batch: Batch | None,
) -> list[Recording]:
    """All files or none: each is spooled and probed before any is stored or has a row."""
    options.validate()
    if options.notebook_id is not None:
        await notebooks.get_notebook(session, user, options.notebook_id)
    tools.scratch_dir.mkdir(parents=True, exist_ok=True)
    received: list[_Received] = []
    stored: list[str] = []
    try:
        for incoming in files:
            received.append(await _receive(incoming, tools.scratch_dir, tools.max_upload_bytes))
        recordings: list[Recording] = []
        queued: list[Job] = []
        for number, upload in enumerate(received, 1):
            storage_key = f"recordings/{user.id}/{uuid.uuid4()}"
            await tools.storage.write(storage_key, file_chunks(upload.scratch))
            stored.append(storage_key)
            queued.append(await jobs.create_job(session, user, "transcription"))
            recordings.append(
                await _add_recording(
                    session, user, queued[-1], upload, storage_key, options, batch, number, len(received)
                )
            )
        await session.commit()
    except BaseException:
        await session.rollback()
        for storage_key in stored:
            await tools.storage.delete(storage_key)
        raise
    finally:
        for upload in received:
            upload.scratch.unlink(missing_ok=True)
    for job in queued:
        await _enqueue(session, tools.queue, job)
    return recordings


async def _add_recording(
    session: AsyncSession,
    user: User,
    job: Job,
    upload: _Received,
    storage_key: str,
    options: RecordingOptions,
    batch: Batch | None,
    number: int,
    count: int,
) -> Recording:
    if options.title is None:
        title = Path(upload.filename).stem[:200] or "Recording"
    else:
        title = notebooks.clean_title(options.title if count == 1 else f"{options.title} ({number} of {count})")
    recording = Recording(
        user_id=user.id,
        notebook_id=options.notebook_id,
        job=job,
        batch_id=batch.id if batch else None,
        title=title,
        filename=upload.filename,
        format=upload.info.format,
        size_bytes=upload.size,
        duration_seconds=upload.info.duration_seconds,
        sample_rate=upload.info.sample_rate,
        channels=upload.info.channels,
        storage_key=storage_key,
        options=options.as_json(),
    )
    session.add(recording)
    await session.flush()
    audit.record(
        session, user.id, "recording.upload", "recording", recording.id, filename=upload.filename, size=upload.size
    )
    return recording


async def upload_recording(
    session: AsyncSession, tools: UploadTools, user: User, incoming: IncomingFile, options: RecordingOptions
) -> Recording:
    [recording] = await _add_recordings(session, tools, user, [incoming], options, None)
    return await get_recording(session, user, recording.id)


async def submit_batch(
    session: AsyncSession, tools: UploadTools, user: User, files: list[IncomingFile], options: RecordingOptions
) -> Batch:
    """Up to ten recordings at once, each with its own job; one bad file refuses the whole batch."""
    if not 1 <= len(files) <= MAX_BATCH_FILES:
        raise BadUserInput(f"A batch holds 1 to {MAX_BATCH_FILES} files; this one has {len(files)}.")
    batch = Batch(user_id=user.id)
    session.add(batch)
    await session.flush()
    audit.record(session, user.id, "batch.submit", "batch", batch.id, files=len(files))
    await _add_recordings(session, tools, user, files, options, batch)
    return await get_batch(session, user, batch.id)


async def get_batch(session: AsyncSession, user: User, batch_id: uuid.UUID) -> Batch:
    query = (
        select(Batch)
        .where(Batch.id == batch_id, Batch.user_id == user.id)
        .options(selectinload(Batch.recordings).options(joinedload(Recording.job), joinedload(Recording.note_job)))
        .execution_options(populate_existing=True)
    )
    batch = (await session.execute(query)).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"Batch {batch_id} not found.")
    return batch


def batch_state(batch: Batch) -> tuple[JobStatus, float]:
    """The batch's status and progress from its recordings' jobs (a finished job counts as done)."""
    statuses = [r.job.status for r in batch.recordings if r.job is not None]
    if not statuses:
        return JobStatus.COMPLETED, 1.0
    progress = sum(
        1.0 if r.job.status.is_terminal else r.job.progress for r in batch.recordings if r.job is not None
    ) / len(statuses)
    if all(s.is_terminal for s in statuses):
        if all(s is JobStatus.CANCELLED for s in statuses):
            return JobStatus.CANCELLED, progress
        return (JobStatus.FAILED if JobStatus.FAILED in statuses else JobStatus.COMPLETED), progress
    if all(s is JobStatus.QUEUED for s in statuses):
        return JobStatus.QUEUED, progress
    return JobStatus.RUNNING, progress


async def _enqueue(session: AsyncSession, queue: ArqRedis, job: Job) -> None:
    # The QUEUED event first: a client subscribing right after the upload sees it at once.
    await jobs.report(session, queue, job, message="queued")
    await enqueue(queue, JobFunction.TRANSCRIBE_RECORDING, job.id)


async def retry_recording(session: AsyncSession, queue: ArqRedis, user: User, recording_id: uuid.UUID) -> Recording:
    """Transcribe again, as a new job, a recording whose last run failed or was cancelled; a job the queue
    has lost (no queue entry, no worker) is put back in the queue at once instead."""
    recording = await get_recording(session, user, recording_id)
    if recording.audio_expired_at is not None:
        raise BadUserInput(f"{AUDIO_EXPIRED} There is nothing to transcribe again.")
    if recording.job is not None and not recording.job.status.is_terminal:
        if not await reconcile.is_lost(queue, recording.job):
            raise Conflict(
                f"This recording's job is {recording.job.status.value} and in the queue or with a worker; "
                "cancel it first to start over."
            )
        await reconcile.requeue(queue, recording.job)
        return recording
    if recording.job is not None and recording.job.status is JobStatus.COMPLETED:
        raise Conflict("Only a failed or cancelled recording can be retried; this one is COMPLETED.")
    await transcripts.delete_transcript_of(session, recording.id)
    job = await jobs.create_job(session, user, "transcription")
    recording.job_id = job.id
    audit.record(session, user.id, "recording.retry", "recording", recording.id)
    await _enqueue(session, queue, job)
    return await get_recording(session, user, recording_id)


async def delete_recording(
    session: AsyncSession, queue: ArqRedis, storage: Storage, user: User, recording_id: uuid.UUID
) -> bool:
    """Delete the recording, its transcript and its audio; a job still running is cancelled first."""
    recording = await get_recording(session, user, recording_id)
    if recording.job is not None and not recording.job.status.is_terminal:
        await jobs.cancel_job(session, queue, user, recording.job.id)
    await transcripts.delete_transcript_of(session, recording.id)
    await session.delete(recording)
    audit.record(session, user.id, "recording.delete", "recording", recording_id, filename=recording.filename)
    await session.commit()
    await storage.delete(recording.storage_key)
    return True


def _recordings(user: User) -> Select[Recording]:
    """The user's recordings, each with its job (every reader shows where its processing stands)."""
    return (
        select(Recording)
        .where(Recording.user_id == user.id)
        .options(joinedload(Recording.job), joinedload(Recording.note_job))
    )


async def get_recording(session: AsyncSession, user: User, recording_id: uuid.UUID) -> Recording:
    query = _recordings(user).where(Recording.id == recording_id).execution_options(populate_existing=True)
    recording = (await session.execute(query)).scalar_one_or_none()
    if recording is None:
        raise NotFound(f"Recording {recording_id} not found.")
    return recording


async def list_recordings(session: AsyncSession, user: User, limit: int, offset: int) -> list[Recording]:
    if not 1 <= limit <= 200 or offset < 0:
        raise BadUserInput("limit must be 1..200 and offset at least 0.")
    query = _recordings(user).order_by(Recording.created_at.desc()).limit(limit).offset(offset)
    return list((await session.execute(query)).scalars())
