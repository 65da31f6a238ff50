"""Search over everything the caller has: notes, pages, document passages and transcript segments."""

import strawberry

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from spek.ids import parse_id
from spek.search import service
from spek.search.models import SearchKind
from spek.search.service import SearchMode

# The core's enums, registered as the contract's (strawberry.enum marks the classes themselves).
strawberry.enum(SearchKind)
strawberry.enum(SearchMode)


@strawberry.type
class SearchHit:
    kind: SearchKind
    id: strawberry.ID = strawberry.field(description="the note, page, document passage or transcript segment")
    parent_id: strawberry.ID | None = strawberry.field(
        description="the document or recording it belongs to (a page: its notebook)"
    )
    title: str
    snippet: str = strawberry.field(description="the passage around the match; matched words in **bold**")
    score: float = strawberry.field(
        description="higher is better; SEMANTIC: cosine similarity, KEYWORD: text rank, HYBRID: rank fusion"
    )
    start: float | None = strawberry.field(description="transcript hits: where in the audio")
    end: float | None
    page: int | None = strawberry.field(description="document hits: the page the passage starts on, where known")
    heading: str | None = strawberry.field(description="document hits: the section the passage sits in")

    @classmethod
    def from_hit(cls, hit: service.SearchHit) -> "SearchHit":
        return from_row(cls, hit)


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Only the caller's material. HYBRID fuses the SEMANTIC (meaning) and KEYWORD (words, "
        "stemmed, accents ignored) rankings."
    )
    async def search(
        self,
        info: Info,
        query: str,
        kinds: list[SearchKind] | None = None,
        mode: SearchMode | None = SearchMode.HYBRID,
        limit: int | None = 10,
        notebook_id: strawberry.ID | None = None,
    ) -> list[SearchHit]:
        embed_query = info.context.services.query_embedder
        notebook = parse_id(notebook_id, "notebookId") if notebook_id is not None else None
        async with info.context.signed_in() as (session, user):
            hits = await service.search(
                session,
                user,
                query,
                kinds,
                mode or SearchMode.HYBRID,
                10 if limit is None else limit,
                embed_query,
                notebook_id=notebook,
            )
            return [SearchHit.from_hit(hit) for hit in hits]
