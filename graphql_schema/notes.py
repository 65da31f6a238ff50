"""Notes: what each transcript says (title, summary, key points, tags, key phrases, tone), and their relations."""

from datetime import datetime

import strawberry

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from graphql_schema.jobs import Job
from spek.ids import parse_id
from spek.notes import models, service


@strawberry.type
class Tag:
    name: str
    color: str


@strawberry.type
class SpeakerSentiment:
    speaker: str = strawberry.field(description="the speaker's label, as in Segment.speaker")
    label: str = strawberry.field(description='"positive" | "neutral" | "negative"')
    score: float = strawberry.field(description="-1.0 .. 1.0")


@strawberry.type
class RelatedNote:
    note: "Note"
    strength: float = strawberry.field(description="0.0 .. 1.0")
    relationship: str = strawberry.field(description='"same_tag" (they share a tag) or "similar"')


@strawberry.type
class Note:
    id: strawberry.ID
    title: str
    summary: str
    content: str = strawberry.field(description="Markdown")
    tags: list[Tag]
    key_phrases: list[str]
    sentiment: list[SpeakerSentiment]
    source_recording_id: strawberry.ID | None
    notebook_id: strawberry.ID | None
    is_favorite: bool
    is_read: bool
    reading_time_minutes: int
    created_at: datetime
    updated_at: datetime
    language: str | None = strawberry.field(description="the transcript's language, which the note is written in")
    model: str | None = strawberry.field(description="the LLM that wrote it; null once a person edited it")

    @strawberry.field(description="The caller's other notes nearest in meaning, strongest first.")
    async def related(self, info: Info) -> list[RelatedNote]:
        async with info.context.signed_in() as (session, user):
            note = await service.get_note(session, user, parse_id(self.id))
            found = await service.related_notes(session, user, note)
            return [
                RelatedNote(note=Note.from_model(r.note), strength=r.strength, relationship=r.relationship)
                for r in found
            ]

    @classmethod
    def from_model(cls, note: models.Note) -> "Note":
        return from_row(
            cls,
            note,
            tags=[Tag(name=t.name, color=t.color) for t in note.tags],
            sentiment=[SpeakerSentiment(**s) for s in note.sentiment],
        )


@strawberry.type
class NotesQuery:
    @strawberry.field(description="Newest first; `tag` and `favorite` filter.")
    async def notes(
        self,
        info: Info,
        limit: int | None = 50,
        offset: int | None = 0,
        tag: str | None = None,
        favorite: bool | None = None,
    ) -> list[Note]:
        async with info.context.signed_in() as (session, user):
            found = await service.list_notes(session, user, 50 if limit is None else limit, offset or 0, tag, favorite)
            return [Note.from_model(n) for n in found]

    @strawberry.field
    async def note(self, info: Info, id: strawberry.ID) -> Note | None:
        async with info.context.signed_in() as (session, user):
            return Note.from_model(await service.get_note(session, user, parse_id(id)))


@strawberry.type
class NotesMutation:
    @strawberry.mutation(description="Change a note; tags are shared with pages.")
    async def update_note(
        self,
        info: Info,
        id: strawberry.ID,
        title: str | None = None,
        content: str | None = None,
        tags: list[str] | None = None,
        is_favorite: bool | None = None,
        is_read: bool | None = None,
    ) -> Note:
        queue = info.context.services.redis
        async with info.context.signed_in() as (session, user):
            note = await service.update_note(
                session, queue, user, parse_id(id), title, content, tags, is_favorite, is_read
            )
            return Note.from_model(note)

    @strawberry.mutation
    async def delete_note(self, info: Info, id: strawberry.ID) -> bool:
        async with info.context.signed_in() as (session, user):
            return await service.delete_note(session, user, parse_id(id))

    @strawberry.mutation(
        description="Write the recording's note again (after renaming speakers or editing the transcript); "
        "the note is replaced when the job completes."
    )
    async def regenerate_note(self, info: Info, recording_id: strawberry.ID) -> Job:
        queue = info.context.services.redis
        async with info.context.signed_in() as (session, user):
            job = await service.regenerate_note(session, queue, user, parse_id(recording_id, "recordingId"))
            return Job.from_model(job)
