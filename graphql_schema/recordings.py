"""Recordings: upload (one file or a batch), read, retry, cancel, delete."""

import uuid
from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from graphql_schema.jobs import Job
from graphql_schema.notes import Note
from graphql_schema.transcripts import Transcript
from graphql_schema.uploads import incoming, upload_tools
from spek.asr.whisper import Quality
from spek.ids import parse_id
from spek.jobs import service as jobs
from spek.jobs.models import JobStatus
from spek.notes import service as notes
from spek.recordings import models, service
from spek.recordings.options import DEFAULTS, RecordingOptions
from spek.transcripts import service as transcripts

strawberry.enum(Quality)  # the core's enum, as the contract's Quality


@strawberry.input
class RecordingInput:
    title: str | None = None
    notebook_id: strawberry.ID | None = None
    language: str | None = strawberry.field(default=None, description='ISO 639-1 like "en", "ru"; null = detect')
    quality: Quality | None = DEFAULTS.quality
    diarize: bool | None = DEFAULTS.diarize
    num_speakers: int | None = strawberry.field(default=None, description="exact count when known")
    min_speakers: int | None = None
    max_speakers: int | None = None


@strawberry.type
class Recording:
    id: strawberry.ID
    title: str
    filename: str
    format: str = strawberry.field(description='container/codec as detected, e.g. "mp3", "m4a", "wav"')
    size_bytes: int
    duration_seconds: float | None
    sample_rate: int | None
    channels: int | None
    notebook_id: strawberry.ID | None
    status: JobStatus
    job: Job | None
    note_job: Job | None = strawberry.field(description="the latest run that made (or is making) its note")
    created_at: datetime
    user_id: strawberry.Private[uuid.UUID]

    audio_expired_at: datetime | None = strawberry.field(
        description="when the audio file was deleted (SPEK_AUDIO_TTL_HOURS); the transcript stays"
    )

    @strawberry.field(description="signed, time-limited URL that supports HTTP Range; null once the audio expired")
    def audio_url(self, info: Info) -> str | None:
        if self.audio_expired_at is not None:
            return None
        token, _ = info.context.services.links.issue("audio", self.user_id, uuid.UUID(self.id))
        return info.context.absolute_url(f"/files/audio/{self.id}?token={token}")

    @strawberry.field(description="Made by an LLM once the transcript is ready; null until then (see noteJob).")
    async def note(self, info: Info) -> Note | None:
        async with info.context.signed_in() as (session, user):
            note = await notes.note_of(session, user, uuid.UUID(self.id))
            return Note.from_model(note) if note else None

    @strawberry.field
    async def transcript(self, info: Info) -> Transcript | None:
        async with info.context.signed_in() as (session, user):
            transcript = await transcripts.transcript_of(session, user, uuid.UUID(self.id))
            return Transcript.from_model(transcript) if transcript else None

    @classmethod
    def from_model(cls, recording: models.Recording) -> "Recording":
        job = Job.from_model(recording.job) if recording.job else None
        note_job = Job.from_model(recording.note_job) if recording.note_job else None
        return from_row(cls, recording, status=jobs.status_of(recording.job), job=job, note_job=note_job)


@strawberry.type
class Batch:
    id: strawberry.ID
    status: JobStatus
    progress: float
    recordings: list[Recording]
    created_at: datetime

    @classmethod
    def from_model(cls, batch: models.Batch) -> "Batch":
        status, progress = service.batch_state(batch)
        recordings = [Recording.from_model(r) for r in batch.recordings]
        return from_row(cls, batch, status=status, progress=progress, recordings=recordings)


def _options(input: RecordingInput) -> RecordingOptions:
    return RecordingOptions(
        title=input.title,
        notebook_id=parse_id(input.notebook_id, "notebookId") if input.notebook_id is not None else None,
        language=input.language.lower() if input.language else None,
        quality=input.quality or DEFAULTS.quality,
        diarize=DEFAULTS.diarize if input.diarize is None else input.diarize,
        num_speakers=input.num_speakers,
        min_speakers=input.min_speakers,
        max_speakers=input.max_speakers,
    )


@strawberry.type
class RecordingsQuery:
    @strawberry.field(description="Newest first.")
    async def recordings(self, info: Info, limit: int | None = 50, offset: int | None = 0) -> list[Recording]:
        async with info.context.signed_in() as (session, user):
            found = await service.list_recordings(session, user, 50 if limit is None else limit, offset or 0)
            return [Recording.from_model(r) for r in found]

    @strawberry.field
    async def recording(self, info: Info, id: strawberry.ID) -> Recording | None:
        async with info.context.signed_in() as (session, user):
            return Recording.from_model(await service.get_recording(session, user, parse_id(id)))

    @strawberry.field
    async def batch(self, info: Info, id: strawberry.ID) -> Batch | None:
        async with info.context.signed_in() as (session, user):
            return Batch.from_model(await service.get_batch(session, user, parse_id(id)))


@strawberry.type
class RecordingsMutation:
    @strawberry.mutation(description="Upload one audio (or video) file; a transcription job starts at once.")
    async def upload_recording(self, info: Info, file: Upload, input: RecordingInput | None = None) -> Recording:
        async with info.context.signed_in(limit="uploads") as (session, user):
            recording = await service.upload_recording(
                session,
                upload_tools(info, info.context.services.settings.max_upload_mb),
                user,
                incoming(file, "recording"),
                _options(input or RecordingInput()),
            )
            return Recording.from_model(recording)

    @strawberry.mutation(
        description="Upload up to 10 files at once, each with its own job; one unreadable file refuses them all."
    )
    async def submit_batch(self, info: Info, files: list[Upload], input: RecordingInput | None = None) -> Batch:
        async with info.context.signed_in(limit="uploads") as (session, user):
            batch = await service.submit_batch(
                session,
                upload_tools(info, info.context.services.settings.max_upload_mb),
                user,
                [incoming(file, "recording") for file in files],
                _options(input or RecordingInput()),
            )
            return Batch.from_model(batch)

    @strawberry.mutation(description="Transcribe again a recording whose last run failed or was cancelled.")
    async def retry_recording(self, info: Info, id: strawberry.ID) -> Recording:
        async with info.context.signed_in() as (session, user):
            recording = await service.retry_recording(session, info.context.services.redis, user, parse_id(id))
            return Recording.from_model(recording)

    @strawberry.mutation(description="Delete a recording with its transcript and audio.")
    async def delete_recording(self, info: Info, id: strawberry.ID) -> bool:
        services = info.context.services
        async with info.context.signed_in() as (session, user):
            return await service.delete_recording(session, services.redis, services.storage, user, parse_id(id))
