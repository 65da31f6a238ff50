"""Notes, documents and search: the contract's types. The knowledge pipeline lands later."""

import enum
from datetime import datetime

import strawberry

from graphql_schema.context import Info
from graphql_schema.not_served import not_served


@strawberry.enum
class SearchKind(enum.Enum):
    NOTE = "NOTE"
    PAGE = "PAGE"
    DOCUMENT = "DOCUMENT"
    TRANSCRIPT = "TRANSCRIPT"


@strawberry.enum
class SearchMode(enum.Enum):
    SEMANTIC = "SEMANTIC"
    KEYWORD = "KEYWORD"
    HYBRID = "HYBRID"


@strawberry.type
class Tag:
    name: str
    color: str


@strawberry.type
class SpeakerSentiment:
    speaker: str
    label: str = strawberry.field(description='"positive" | "neutral" | "negative"')
    score: float = strawberry.field(description="-1.0 .. 1.0")


@strawberry.type
class RelatedNote:
    note: "Note"
    strength: float = strawberry.field(description="0.0 .. 1.0")
    relationship: str


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
    related: list[RelatedNote]
    created_at: datetime
    updated_at: datetime


@strawberry.type
class SearchHit:
    kind: SearchKind
    id: strawberry.ID = strawberry.field(description="the note, page, document chunk or transcript segment")
    parent_id: strawberry.ID | None = strawberry.field(description="the document or recording it belongs to")
    title: str
    snippet: str
    score: float
    start: float | None = strawberry.field(description="transcript hits: where in the audio")
    end: float | None


@strawberry.type
class KnowledgeQuery:
    @strawberry.field
    async def notes(
        self,
        info: Info,
        limit: int | None = 50,
        offset: int | None = 0,
        tag: str | None = None,
        favorite: bool | None = None,
    ) -> list[Note]:
        not_served("notes")

    @strawberry.field
    async def note(self, info: Info, id: strawberry.ID) -> Note | None:
        not_served("note")

    @strawberry.field
    async def search(
        self,
        info: Info,
        query: str,
        kinds: list[SearchKind] | None = None,
        mode: SearchMode | None = SearchMode.HYBRID,
        limit: int | None = 10,
    ) -> list[SearchHit]:
        not_served("search")


@strawberry.type
class KnowledgeMutation:
    @strawberry.mutation
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
        not_served("updateNote")

    @strawberry.mutation
    async def delete_note(self, info: Info, id: strawberry.ID) -> bool:
        not_served("deleteNote")
