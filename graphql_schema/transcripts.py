"""Transcripts: the types, reading, the workspace (edit segments, rename speakers, search) and exports."""

import enum
from datetime import datetime
from typing import Annotated

import strawberry

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from spek.ids import parse_id
from spek.links import export_params
from spek.transcripts import models, service
from spek.transcripts.document import talk_times, transcript_text
from spek.transcripts.fragments import Fragment


@strawberry.enum
class ExportFormat(enum.Enum):
    DOCX = "DOCX"
    SRT = "SRT"
    VTT = "VTT"
    JSON = "JSON"
    TXT = "TXT"


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
    language: str = strawberry.field(
        description="ISO 639-1 code it was recognized in: the transcript's, unless the recording changes language"
    )
    overlapping_speakers: list[str] = strawberry.field(
        description="Speaker.labels of the others heard during it (overlapped speech), sorted; empty when none"
    )
    matches: list[TextMatch] = strawberry.field(
        default_factory=list, description="search results only: what to highlight in text"
    )
    matched_words: list[int] = strawberry.field(
        default_factory=list, description="search results only: indexes into words"
    )

    @classmethod
    def from_model(cls, segment: models.Segment, hit: service.SegmentHit | None = None) -> "Segment":
        return from_row(
            cls,
            segment,
            words=[Word(**word) for word in segment.words],
            matches=[TextMatch(start=start, end=end) for start, end in hit.ranges] if hit else [],
            matched_words=hit.words if hit else [],
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
        return from_row(
            cls,
            transcript,
            text=transcript_text(transcript.segments),
            speakers=[
                Speaker(label=s["label"], name=s.get("name"), talk_time_seconds=talk_time.get(s["label"], 0.0))
                for s in transcript.speakers
            ],
            segments=[Segment.from_model(segment) for segment in transcript.segments],
        )


@strawberry.type
class ExportLink:
    url: str = strawberry.field(description="signed, time-limited download URL (no Authorization header needed)")
    filename: str
    content_type: str
    expires_at: datetime


@strawberry.type
class TranscriptsQuery:
    @strawberry.field
    async def transcript(self, info: Info, id: strawberry.ID) -> Transcript | None:
        async with info.context.signed_in() as (session, user):
            return Transcript.from_model(await service.get_transcript(session, user, parse_id(id)))

    @strawberry.field(
        description="Segments where the query's words appear in a row (case, accents and punctuation ignored), "
        "in time order, with `matches` and `matchedWords` set."
    )
    async def search_transcript(self, info: Info, transcript_id: strawberry.ID, query: str) -> list[Segment]:
        async with info.context.signed_in() as (session, user):
            hits = await service.search_transcript(session, user, parse_id(transcript_id, "transcriptId"), query)
            return [Segment.from_model(hit.segment, hit) for hit in hits]


@strawberry.type
class TranscriptsMutation:
    @strawberry.mutation(description="Change a segment's text (word timings follow) and/or its speaker label.")
    async def update_segment(
        self, info: Info, id: strawberry.ID, text: str | None = None, speaker: str | None = None
    ) -> Segment:
        async with info.context.signed_in() as (session, user):
            return Segment.from_model(
                await service.update_segment(
                    session, info.context.services.redis, user, parse_id(id), text=text, speaker=speaker
                )
            )

    @strawberry.mutation(description="Give a speaker a name; the label stays.")
    async def rename_speaker(self, info: Info, transcript_id: strawberry.ID, label: str, name: str) -> Transcript:
        async with info.context.signed_in() as (session, user):
            transcript = await service.rename_speaker(
                session, user, parse_id(transcript_id, "transcriptId"), label, name
            )
            return Transcript.from_model(transcript)

    @strawberry.mutation(
        description="A download link for the transcript or a fragment of it (a time range, or chosen segments)."
    )
    async def export_transcript(
        self,
        info: Info,
        id: strawberry.ID,
        format: ExportFormat,
        start: float | None = None,
        end: float | None = None,
        segment_ids: list[strawberry.ID] | None = None,
        rebase: Annotated[
            bool | None, strawberry.argument(description="shift times so the fragment starts at 0")
        ] = False,
        speakers: Annotated[bool | None, strawberry.argument(description="speaker names in SRT, VTT and TXT")] = True,
    ) -> ExportLink:
        transcript_id = parse_id(id)
        segments = [str(s) for s in segment_ids] if segment_ids is not None else None
        with_speakers = speakers is not False
        async with info.context.signed_in() as (session, user):
            # Rendered once here so that a bad fragment is an error now, not a broken download later.
            fragment = Fragment(start, end, segments, bool(rebase))
            export = await service.export_transcript(
                session, user, transcript_id, format.value, fragment, with_speakers
            )
        params = export_params(format.value, start, end, segments, bool(rebase), with_speakers)
        token, expires_at = info.context.services.links.issue("export", user.id, transcript_id, params)
        return ExportLink(
            url=info.context.absolute_url(f"/files/exports/{transcript_id}?token={token}"),
            filename=export.filename,
            content_type=export.content_type,
            expires_at=expires_at,
        )
