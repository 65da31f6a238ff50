"""The transcript workspace: edit segments, rename speakers, search inside a transcript."""

import strawberry

from graphql_schema.context import Info
from graphql_schema.recordings import Segment, TextMatch, Transcript
from spek.ids import parse_id
from spek.transcripts import service


@strawberry.type
class TranscriptsQuery:
    @strawberry.field(
        description="Segments where the query's words appear in a row (case, accents and punctuation ignored), "
        "in time order, with `matches` and `matchedWords` set."
    )
    async def search_transcript(self, info: Info, transcript_id: strawberry.ID, query: str) -> list[Segment]:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            hits = await service.search_transcript(session, user, parse_id(transcript_id, "transcriptId"), query)
            return [
                Segment.from_model(hit.segment, [TextMatch(start=s, end=e) for s, e in hit.ranges], hit.words) for hit in hits
            ]


@strawberry.type
class TranscriptsMutation:
    @strawberry.mutation(description="Change a segment's text (word timings follow) and/or its speaker label.")
    async def update_segment(self, info: Info, id: strawberry.ID, text: str | None = None, speaker: str | None = None) -> Segment:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            return Segment.from_model(await service.update_segment(session, user, parse_id(id), text=text, speaker=speaker))

    @strawberry.mutation(description="Give a speaker a name; the label stays.")
    async def rename_speaker(self, info: Info, transcript_id: strawberry.ID, label: str, name: str) -> Transcript:
        async with info.context.session() as session:
            user = await info.context.current_user(session)
            transcript = await service.rename_speaker(session, user, parse_id(transcript_id, "transcriptId"), label, name)
            return Transcript.from_model(transcript)
