"""`search`: the caller's notes, pages, document passages and transcript segments, by meaning, by words or
both. Every query names the owner in SQL; another user's rows cannot rank, match or show in a snippet.
"""

import enum
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from spek.accounts.models import User
from spek.errors import BadUserInput
from spek.search.models import SearchKind

MAX_LIMIT = 50
MAX_QUERY_LENGTH = 1000
# Reciprocal rank fusion (Cormack et al. 2009): a hit's HYBRID score is the sum of 1 / (RRF_K + rank)
# over the two rankings; each ranking is cut at this many candidates.
RRF_K = 60
CANDIDATES = 50
EF_SEARCH = 100
# Matched words in snippets are marked as Markdown bold; a snippet is at most two fragments.
HEADLINE = 'StartSel=**, StopSel=**, MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'


class SearchMode(str, enum.Enum):
    SEMANTIC = "SEMANTIC"
    KEYWORD = "KEYWORD"
    HYBRID = "HYBRID"


@dataclass(frozen=True)
class QueryVector:
    model: str
    vector: np.ndarray


@dataclass(frozen=True)
class SearchHit:
    kind: SearchKind
    id: uuid.UUID  # the note, page, document passage or transcript segment
    parent_id: uuid.UUID | None  # the document or recording (a page's notebook)
    title: str
    snippet: str
    score: float
    start: float | None
    end: float | None
    page: int | None
    heading: str | None


EmbedQuery = Callable[[str], Awaitable[QueryVector]]

_COLUMNS = """e.kind, e.source_id, e.parent_id, e.title, e.start, e."end", e.page, e.heading,
    ts_headline(spek_text_search_config(e.text), e.text, q.any_word, :headline) AS snippet"""
_SCOPE = "e.user_id = :user_id AND e.kind = ANY(:kinds)"
_WORD = re.compile(r"(?:(?<=\s)|^)(-?)(\w+)")
MAX_WORDS = 32


@dataclass(frozen=True)
class _Terms:
    """The query's words for keyword matching: an entry matches with any word it has (and none of the
    -excluded ones), and ranks higher with more of them and above all with every one (websearch syntax:
    "a phrase" keeps its order)."""

    sql: str  # a FROM item: q(any_word, all_words)
    exclude: str  # a condition, or "" when nothing is excluded
    params: dict[str, str]

    @classmethod
    def of(cls, query: str) -> "_Terms":
        words = [(sign, word) for sign, word in _WORD.findall(query) if word.lower() != "or"][:MAX_WORDS]
        params = {f"w{i}": word for i, (_, word) in enumerate(words)}
        tsquery = "plainto_tsquery(spek_text_search_config(:text), spek_fold(:{}))"
        wanted = " || ".join(tsquery.format(f"w{i}") for i, (sign, _) in enumerate(words) if not sign)
        unwanted = " || ".join(tsquery.format(f"w{i}") for i, (sign, _) in enumerate(words) if sign)
        every = "websearch_to_tsquery(spek_text_search_config(:text), spek_fold(:text))"
        wanted = wanted or "''::tsquery"  # only punctuation: nothing to match by words
        sql = f"(SELECT {wanted} AS any_word, {every} AS all_words) AS q"
        return cls(sql, f"NOT (e.search_vector @@ ({unwanted}))" if unwanted else "", params)


async def search(
    session: AsyncSession,
    user: User,
    query: str,
    kinds: list[SearchKind] | None,
    mode: SearchMode,
    limit: int,
    embed_query: EmbedQuery,
) -> list[SearchHit]:
    query = " ".join(query.split())
    if not query:
        raise BadUserInput("Search for something: the query is empty.")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadUserInput(f"A query is at most {MAX_QUERY_LENGTH} characters long.")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadUserInput(f"limit must be 1..{MAX_LIMIT}.")
    terms = _Terms.of(query)
    params: dict[str, object] = {
        "user_id": user.id,
        "kinds": [k.value for k in (kinds or list(SearchKind))],
        "text": query,
        "headline": HEADLINE,
        **terms.params,
    }
    if mode is SearchMode.KEYWORD:
        return await _keyword(session, terms, params, limit)
    vector = await embed_query(query)
    if mode is SearchMode.SEMANTIC:
        return await _semantic(session, terms, params, vector, limit)
    keyword = await _keyword(session, terms, params, CANDIDATES)
    semantic = await _semantic(session, terms, params, vector, CANDIDATES)
    return _fuse([keyword, semantic], limit)


async def _keyword(session: AsyncSession, terms: _Terms, params: dict[str, object], limit: int) -> list[SearchHit]:
    # ts_rank_cd normalized into 0..1 (flag 32), plus 1 for having every word: those come first.
    score = "ts_rank_cd(e.search_vector, q.any_word, 32) + (e.search_vector @@ q.all_words)::int"
    exclude = f"AND {terms.exclude}" if terms.exclude else ""
    best = f"""SELECT e.id, {score} AS score
        FROM search_entries e, {terms.sql}
        WHERE {_SCOPE} AND e.search_vector @@ q.any_word {exclude}
        ORDER BY score DESC, e.parent_id, e.position LIMIT :limit"""
    rows = await session.execute(text(_with_snippets(best, terms)), {**params, "limit": limit})
    return [_hit(row) for row in rows]


def _with_snippets(best: str, terms: "_Terms") -> str:
    """The hits of `best` (id, score), with their columns and snippets: made for those few rows only."""
    return f"""SELECT {_COLUMNS}, best.score
        FROM ({best}) AS best JOIN search_entries e ON e.id = best.id, {terms.sql}
        ORDER BY best.score DESC, e.parent_id, e.position"""


async def _semantic(
    session: AsyncSession, terms: _Terms, params: dict[str, object], query: QueryVector, limit: int
) -> list[SearchHit]:
    dimension = int(query.vector.shape[0])  # an int from the model: safe to write into the SQL
    distance = f"(e.embedding::vector({dimension}) <=> CAST(:vector AS vector({dimension})))"
    # The HNSW index is partial per model; with a user filter, pgvector ≥ 0.8 keeps scanning the index
    # until enough of the caller's rows are found, in roughly ascending order (re-sorted below).
    await session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    # 40 (the default) found 0.925 of the exact top 10 in benchmarks/search_scale.py, 100 found 0.95 as fast.
    await session.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}"))
    best = f"""SELECT e.id, 1 - {distance} AS score
        FROM search_entries e
        WHERE {_SCOPE} AND e.embedding_model = :model
        ORDER BY {distance} LIMIT :limit"""
    statement = _with_snippets(best, terms)
    vector = "[" + ",".join(f"{x:.7g}" for x in query.vector.tolist()) + "]"
    rows = await session.execute(text(statement), {**params, "model": query.model, "vector": vector, "limit": limit})
    return sorted((_hit(row) for row in rows), key=lambda hit: -hit.score)


def _fuse(rankings: list[list[SearchHit]], limit: int) -> list[SearchHit]:
    """Reciprocal rank fusion; a hit keeps the snippet of its best ranking (the keyword one first)."""
    scores: dict[uuid.UUID, float] = {}
    first: dict[uuid.UUID, SearchHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, 1):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(hit.id, hit)
    best = sorted(scores, key=lambda hit_id: -scores[hit_id])[:limit]
    return [_with_score(first[hit_id], scores[hit_id]) for hit_id in best]


def _with_score(hit: SearchHit, score: float) -> SearchHit:
    return replace(hit, score=round(score, 6))


def _hit(row: Row[Any]) -> SearchHit:
    return SearchHit(
        kind=SearchKind(row.kind),
        id=row.source_id,
        parent_id=row.parent_id,
        title=row.title,
        snippet=row.snippet,
        score=float(row.score),
        start=row.start,
        end=row.end,
        page=row.page,
        heading=row.heading,
    )
