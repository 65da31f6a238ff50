"""The sources an answer may draw on: the caller's passages that are about the question, or none.

Search ranks everything; here a passage must also be relevant on its own: most of the question's words
(weighted by rarity) or a meaning close enough. With nothing left, the answer says so instead of guessing.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from spek.accounts.models import User
from spek.embeddings.e5 import E5_NAME
from spek.embeddings.sentence_transformers_backend import MINILM_NAME
from spek.search import service as search
from spek.search.service import EmbedQuery, QueryVector, SearchHit, SearchMode

SOURCES = 6
# KEYWORD scores start with the share of the query's information a passage holds (0..1). Chosen on
# benchmarks/chat_questions.json: answerable questions' best passages held 0.57–1.0 (one 0.35),
# unanswerable ones' 0.20–0.45.
MIN_KEYWORD_SCORE = 0.5
# Cosine similarity above which a passage is about the query (MiniLM: answerable English questions'
# best passages 0.50–0.73, unanswerable ones' 0.19–0.24); e5's similarities sit higher overall.
MIN_SIMILARITY = {MINILM_NAME: 0.35, E5_NAME: 0.82}
MIN_SIMILARITY_OTHER = 0.45


def retrieval_query(question: str, earlier_questions: list[str]) -> str:
    """The question, with the one before it for follow-ups ("and what about its budget?")."""
    return " ".join([*earlier_questions[-1:], question])[: search.MAX_QUERY_LENGTH]


async def retrieve(
    session: AsyncSession,
    user: User,
    query: str,
    embed_query: EmbedQuery,
    notebook_id: uuid.UUID | None = None,
) -> list[tuple[SearchHit, str]]:
    """Up to SOURCES relevant hits, best first, each with its passage's whole text."""
    vectors: list[QueryVector] = []

    async def embed_once(text: str) -> QueryVector:
        if not vectors:
            vectors.append(await embed_query(text))
        return vectors[0]

    semantic = await search.search(
        session, user, query, None, SearchMode.SEMANTIC, SOURCES, embed_once, notebook_id=notebook_id
    )
    keyword = await search.search(
        session, user, query, None, SearchMode.KEYWORD, SOURCES, embed_once, notebook_id=notebook_id
    )
    floor = MIN_SIMILARITY.get(vectors[0].model, MIN_SIMILARITY_OTHER) if vectors else 1.0
    # A model that cannot read the question's script (MiniLM on Russian) gives every passage a middling
    # similarity: its ranking may help order, but says nothing about relevance.
    understood = bool(vectors) and vectors[0].understood
    close = [hit for hit in semantic if hit.score >= floor] if understood else []
    worded = [hit for hit in keyword if hit.score >= MIN_KEYWORD_SCORE]
    hits = search.fuse([(worded, 1.0), (close, 1.0)], SOURCES)
    texts = await search.passage_texts(session, user, [hit.id for hit in hits])
    return [(hit, texts.get(hit.id, hit.snippet)) for hit in hits]
