"""Recordings, transcripts and exports: the contract's types. The pipeline behind them lands next."""

import enum
from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from graphql_schema.context import Info
from graphql_schema.jobs import Job, JobStatus
from graphql_schema.not_served import not_served


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


@strawberry.type
class Segment:
    id: strawberry.ID
    index: int
    start: float
    end: float
    speaker: str | None = strawberry.field(description="Speaker.label; null when diarization was off")
    text: str
    words: list[Word]


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
    transcript: Transcript | None
    audio_url: str | None = strawberry.field(description="signed, time-limited URL that supports HTTP Range")
    created_at: datetime


@strawberry.type
class Batch:
    id: strawberry.ID
    status: JobStatus
    progress: float
    recordings: list[Recording]
    created_at: datetime


@strawberry.type
class ExportLink:
    url: str = strawberry.field(description="signed, time-limited download URL (no Authorization header needed)")
    filename: str
    content_type: str
    expires_at: datetime


@strawberry.type
class RecordingsQuery:
    @strawberry.field
    async def recordings(self, info: Info, limit: int | None = 50, offset: int | None = 0) -> list[Recording]:
        not_served("recordings")

    @strawberry.field
    async def recording(self, info: Info, id: strawberry.ID) -> Recording | None:
        not_served("recording")

    @strawberry.field
    async def transcript(self, info: Info, id: strawberry.ID) -> Transcript | None:
        not_served("transcript")

    @strawberry.field
    async def search_transcript(self, info: Info, transcript_id: strawberry.ID, query: str) -> list[Segment]:
        not_served("searchTranscript")

    @strawberry.field
    async def batch(self, info: Info, id: strawberry.ID) -> Batch | None:
        not_served("batch")


@strawberry.type
class RecordingsMutation:
    @strawberry.mutation
    async def upload_recording(self, info: Info, file: Upload, input: RecordingInput | None = None) -> Recording:
        not_served("uploadRecording")

    @strawberry.mutation
    async def submit_batch(self, info: Info, files: list[Upload], input: RecordingInput | None = None) -> Batch:
        not_served("submitBatch")

    @strawberry.mutation
    async def retry_recording(self, info: Info, id: strawberry.ID) -> Recording:
        not_served("retryRecording")

    @strawberry.mutation
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        not_served("cancelJob")

    @strawberry.mutation
    async def delete_recording(self, info: Info, id: strawberry.ID) -> bool:
        not_served("deleteRecording")

    @strawberry.mutation
    async def update_segment(
        self, info: Info, id: strawberry.ID, text: str | None = None, speaker: str | None = None
    ) -> Segment:
        not_served("updateSegment")

    @strawberry.mutation
    async def rename_speaker(self, info: Info, transcript_id: strawberry.ID, label: str, name: str) -> Transcript:
        not_served("renameSpeaker")

    @strawberry.mutation
    async def export_transcript(
        self,
        info: Info,
        id: strawberry.ID,
        format: ExportFormat,
        start: float | None = None,
        end: float | None = None,
        segment_ids: list[strawberry.ID] | None = None,
    ) -> ExportLink:
        not_served("exportTranscript")
