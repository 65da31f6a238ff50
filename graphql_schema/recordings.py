"""Recordings, transcripts and exports."""

import enum
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from graphql_schema.context import Info
from graphql_schema.jobs import Job, JobStatus
from spek import downloads
from spek.ids import parse_id
from spek.jobs import service as jobs_service
from spek.jobs.models import JobStatus as JobStatusModel
from spek.recordings import models, service
from spek.transcripts import service as transcripts
from spek.transcripts.fragments import Fragment
from spek.storage import CHUNK_SIZE
from spek.transcripts.document import talk_times, transcript_text


@strawberry.enum
class Quality(enum.Enum):
    FAST = "FAST"
    BALANCED = "BALANCED"
    BEST = "BEST"


@strawberry.enum
class ExportFormat(enum.Enum):
    DOCX = "DOCX"
    SRT = "SRT"
    VTT = "VTT"
    JSON = "JSON"
    TXT = "TXT"


@strawberry.input
class RecordingInput:
    title: str | None = None
    notebook_id: strawberry.ID | None = None
    language: str | None = strawberry.field(default=None, description='ISO 639-1 like "en", "ru"; null = detect')
    quality: Quality | None = Quality.BALANCED
    diarize: bool | None = True
    num_speakers: int | None = strawberry.field(default=None, description="exact count when known")
    min_speakers: int | None = None
    max_speakers: int | None = None


@strawberry.type
class Word:
    start: float
    end: float
    text: str
    probability: float


@strawberry.type(description="Where a search matched in Segment.text: a half-open range of character offsets.")
class TextMatch:
    start: int
    end: int


@strawberry.type
class Segment:
    id: strawberry.ID
    index: int
    start: float
    end: float
    speaker: str | None = strawberry.field(description="Speaker.label; null when diarization was off")
    text: str
    words: list[Word]
    matches: list[TextMatch] = strawberry.field(default_factory=list, description="search results only: what to highlight in text")
    matched_words: list[int] = strawberry.field(default_factory=list, description="search results only: indexes into words")

    @classmethod
    def from_model(cls, segment: models.Segment, matches: list[TextMatch] | None = None, matched_words: list[int] | None = None) -> "Segment":
        return cls(
            id=strawberry.ID(str(segment.id)),
            index=segment.index,
            start=segment.start,
            end=segment.end,
            speaker=segment.speaker,
            text=segment.text,
            words=[Word(**word) for word in segment.words],
            matches=matches or [],
            matched_words=matched_words or [],
        )


@strawberry.type
class Speaker:
    label: str = strawberry.field(description='stable label, e.g. "SPEAKER_00"')
    name: str | None = strawberry.field(description="user-given name, null until renamed")
    talk_time_seconds: float


@strawberry.type
class Transcript:
    id: strawberry.ID
    recording_id: strawberry.ID
    language: str
    language_probability: float
    duration_seconds: float
    model: str = strawberry.field(description="which ASR model produced it")
    text: str
    speakers: list[Speaker]
    segments: list[Segment]
    updated_at: datetime

    @classmethod
    def from_model(cls, transcript: models.Transcript) -> "Transcript":
        talk_time = talk_times(transcript.segments)
        return cls(
            id=strawberry.ID(str(transcript.id)),
            recording_id=strawberry.ID(str(transcript.recording_id)),
            language=transcript.language,
            language_probability=transcript.language_probability,
            duration_seconds=transcript.duration_seconds,
            model=transcript.model,
            text=transcript_text(transcript.segments),
            speakers=[
                Speaker(label=s["label"], name=s.get("name"), talk_time_seconds=talk_time.get(s["label"], 0.0))
                for s in transcript.speakers
            ],
            segments=[Segment.from_model(segment) for segment in transcript.segments],
            updated_at=transcript.updated_at,
        )


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
    created_at: datetime
    _model: strawberry.Private[models.Recording]

    @strawberry.field(description="signed, time-limited URL that supports HTTP Range")
    def audio_url(self, info: Info) -> str | None:
        token, _ = info.context.services.links.issue("audio", self._model.user_id, self._model.id)
        return absolute_url(info, f"/files/audio/{self._model.id}?token={token}")

    @strawberry.field
    async def transcript(self, info: Info) -> Transcript | None:
        async with info.context.session() as session:
            transcript = await service.transcript_of(session, self._model)
            return Transcript.from_model(transcript) if transcript else None

    @classmethod
    def from_model(cls, recording: models.Recording) -> "Recording":
        return cls(
            id=strawberry.ID(str(recording.id)),
            title=recording.title,
            filename=recording.filename,
            format=recording.format,
            size_bytes=recording.size_bytes,
            duration_seconds=recording.duration_seconds,
            sample_rate=recording.sample_rate,
            channels=recording.channels,
            notebook_id=strawberry.ID(str(recording.notebook_id)) if recording.notebook_id else None,
            status=recording.job.status if recording.job else JobStatusModel.COMPLETED,
            job=Job.from_model(recording.job) if recording.job else None,
            created_at=recording.created_at,
            _model=recording,
        )


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
        return cls(
            id=strawberry.ID(str(batch.id)),
            status=status,
            progress=progress,
            recordings=[Recording.from_model(r) for r in batch.recordings],
            created_at=batch.created_at,
        )


@strawberry.type
class ExportLink:
    url: str = strawberry.field(description="signed, time-limited download URL (no Authorization header needed)")
    filename: str
    content_type: str
    expires_at: datetime


def absolute_url(info: Info, path: str) -> str:
    """Links that work outside the web app too (mobile apps, a shared download)."""
    return str(info.context.request.base_url).rstrip("/") + path


async def _chunks(upload: Upload) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


def _upload_tools(info: Info) -> service.UploadTools:
    services = info.context.services
    return service.UploadTools(services.redis, services.storage, services.settings.data_dir / "tmp", services.settings.max_upload_mb * 1024 * 1024)


def _incoming(upload: Upload) -> service.IncomingFile:
    return service.IncomingFile(upload.filename or "recording", _chunks(upload))


def _options(input: RecordingInput) -> service.RecordingOptions:
    return service.RecordingOptions(
        title=input.title,
        notebook_id=parse_id(input.notebook_id, "notebookId") if input.notebook_id is not None else None,
        language=input.language.lower() if input.language else None,
        quality=(input.quality or Quality.BALANCED).value,
        diarize=True if input.diarize is None else input.diarize,
        num_speakers=input.num_speakers,
        min_speakers=input.min_speakers,
        max_speakers=input.max_speakers,
    )


@strawberry.type
class RecordingsQuery:
    @strawberry.field(description="Newest first.")
    async def recordings(self, info: Info, limit: int | None = 50, offset: int | None = 0) -> list[Recording]:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            found = await service.list_recordings(session, user, 50 if limit is None else limit, offset or 0)
            return [Recording.from_model(r) for r in found]

    @strawberry.field
    async def recording(self, info: Info, id: strawberry.ID) -> Recording | None:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            return Recording.from_model(await service.get_recording(session, user, parse_id(id)))

    @strawberry.field
    async def transcript(self, info: Info, id: strawberry.ID) -> Transcript | None:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            return Transcript.from_model(await service.get_transcript(session, user, parse_id(id)))

    @strawberry.field
    async def batch(self, info: Info, id: strawberry.ID) -> Batch | None:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            return Batch.from_model(await service.get_batch(session, user, parse_id(id)))


@strawberry.type
class RecordingsMutation:
    @strawberry.mutation(description="Upload one audio (or video) file; a transcription job starts at once.")
    async def upload_recording(self, info: Info, file: Upload, input: RecordingInput | None = None) -> Recording:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            recording = await service.upload_recording(session, _upload_tools(info), user, _incoming(file), _options(input or RecordingInput()))
            return Recording.from_model(recording)

    @strawberry.mutation(description="Upload up to 10 files at once, each with its own job; one unreadable file refuses them all.")
    async def submit_batch(self, info: Info, files: list[Upload], input: RecordingInput | None = None) -> Batch:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            incoming = [_incoming(file) for file in files]
            batch = await service.submit_batch(session, _upload_tools(info), user, incoming, _options(input or RecordingInput()))
            return Batch.from_model(batch)

    @strawberry.mutation(description="Transcribe again a recording whose last run failed or was cancelled.")
    async def retry_recording(self, info: Info, id: strawberry.ID) -> Recording:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            recording = await service.retry_recording(session, info.context.services.redis, user, parse_id(id))
            return Recording.from_model(recording)

    @strawberry.mutation(description="Stop a queued or running job; it ends CANCELLED.")
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            return Job.from_model(await jobs_service.cancel_job(session, info.context.services.redis, user, parse_id(id)))

    @strawberry.mutation(description="Delete a recording with its transcript and audio.")
    async def delete_recording(self, info: Info, id: strawberry.ID) -> bool:
        services = info.context.services
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            return await service.delete_recording(session, services.redis, services.storage, user, parse_id(id))

    @strawberry.mutation(description="A download link for the transcript or a fragment of it (a time range, or chosen segments).")
    async def export_transcript(
        self,
        info: Info,
        id: strawberry.ID,
        format: ExportFormat,
        start: float | None = None,
        end: float | None = None,
        segment_ids: list[strawberry.ID] | None = None,
        rebase: Annotated[bool | None, strawberry.argument(description="shift times so the fragment starts at 0")] = False,
        speakers: Annotated[bool | None, strawberry.argument(description="speaker names in SRT, VTT and TXT")] = True,
    ) -> ExportLink:
        transcript_id = parse_id(id)
        rebase, speakers = bool(rebase), speakers is not False
        params = downloads.export_params(format.value, start, end, [str(s) for s in segment_ids] if segment_ids is not None else None, rebase, speakers)
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            # Rendered once here so that a bad fragment is an error now, not a broken download later.
            export = await transcripts.export_transcript(
                session, user, transcript_id, format.value, Fragment(start, end, params["segments"], rebase), speakers
            )
        token, expires_at = info.context.services.links.issue("export", user.id, transcript_id, params)
        return ExportLink(
            url=absolute_url(info, f"/files/exports/{transcript_id}?token={token}"),
            filename=export.filename,
            content_type=export.content_type,
            expires_at=expires_at,
        )
