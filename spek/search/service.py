"""`search`: the caller's notes, pages, document passages and transcript segments, by meaning, by words or
both. Every query names the owner in SQL; another user's rows cannot rank, match or show in a snippet.
"""

import enum
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from spek.accounts.models import User
from spek.errors import BadUserInput, NotFound
from spek.notebooks.models import Notebook
from spek.search.models import SearchKind

MAX_LIMIT = 50
MAX_QUERY_LENGTH = 1000
# Reciprocal rank fusion (Cormack et al. 2009): a hit's HYBRID score is the sum of weight / (RRF_K + rank)
# over the two rankings; each ranking is cut at this many candidates. A semantic ranking by a model that
# cannot read the query's script (English-only MiniLM on Russian) counts for less: it still adds passages
# the words miss, but rarely the best one. Chosen on benchmarks/search_quality.py.
RRF_K = 20
CANDIDATES = 50
UNREAD_SEMANTIC_WEIGHT = 0.3
EF_SEARCH = 100
SEMANTIC_FETCH = CANDIDATES
# KEYWORD: a term in at least this many of the caller's entries is common (it scores, but picks no
# candidates); a little of the score goes to how densely the words occur (ts_rank, length-normalized).
# Words are looked up in the owner's own part of the GIN index (spek_owned_words, migration 0012): its keys
# are (owner, word), so a lookup reads the caller's rows with that word only, never every user's.
COMMON_TERM_ENTRIES = 1000
DENSITY_WEIGHT = 0.1
KEYWORD_WORK_MEM = "32MB"
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
    understood: bool = True  # the model reads the query's script (see spek.embeddings.reads)


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
    ts_headline(spek_text_search_config(e.text), replace(e.text, '**', ''), q.any_word, :headline) AS snippet"""
# The source's own Markdown bold is dropped from snippets: there, ** marks only the words that matched.
_OWNER = "e.user_id = :user_id"
# Rows found through the owned words' index (spek_owned_words) are the caller's already: the owner is then
# checked on each of those rows, written so that the planner cannot AND the user index's rows into the scan
# (100 000 of them for a large collection: 8 ms a query).
_OWNER_PER_ROW = f"({_OWNER}) IS TRUE"
_KINDS = "e.kind = ANY(:kinds)"
_SCOPE = f"{_OWNER} AND {_KINDS}"
# With a notebook: its pages, and the documents, recordings (their transcripts) and notes filed in it.
_IN_NOTEBOOK = """ AND CASE e.kind
    WHEN 'PAGE' THEN e.parent_id = :notebook_id
    WHEN 'DOCUMENT' THEN e.parent_id IN (SELECT id FROM documents WHERE notebook_id = :notebook_id)
    WHEN 'TRANSCRIPT' THEN e.parent_id IN (SELECT id FROM recordings WHERE notebook_id = :notebook_id)
    ELSE e.source_id IN (SELECT id FROM notes WHERE notebook_id = :notebook_id)
        OR e.parent_id IN (SELECT id FROM recordings WHERE notebook_id = :notebook_id)
    END"""
_WORD = re.compile(r"(?:(?<=[\s\"])|^)(-?)(\w+)")
_PHRASE = re.compile(r'"([^"]*\w[^"]*)"')
MAX_WORDS = 32


@dataclass(frozen=True)
class _Terms:
    """The query's words for keyword matching: each wanted word is a term t0, t1, … of its own, so that a
    rare word can count for more than a common one; an entry matches with any term it has, none of the
    -excluded words and every "quoted phrase" in its order; websearch syntax applies to all_words."""

    sql: str  # a FROM item: q(any_word, all_words, t0, t1, …)
    condition: str  # what every hit meets (no -word, each phrase), or "" when the query asks nothing such
    params: dict[str, str]
    count: int  # the wanted terms t0 … t(count-1)

    @classmethod
    def of(cls, query: str) -> "_Terms":
        words = [(sign, word) for sign, word in _WORD.findall(query) if word.lower() != "or"][:MAX_WORDS]
        phrases = _PHRASE.findall(query)[:MAX_WORDS]
        params = {f"w{i}": word for i, (_, word) in enumerate(words)} | {f"p{i}": p for i, p in enumerate(phrases)}
        tsquery = "plainto_tsquery(spek_text_search_config(:text), spek_fold(:{}))"
        wanted = [tsquery.format(f"w{i}") for i, (sign, _) in enumerate(words) if not sign]
        unwanted = " || ".join(tsquery.format(f"w{i}") for i, (sign, _) in enumerate(words) if sign)
        every = "websearch_to_tsquery(spek_text_search_config(:text), spek_fold(:text))"
        any_word = " || ".join(wanted) or "''::tsquery"  # only punctuation: nothing to match by words
        columns = "".join(f", {term} AS t{i}" for i, term in enumerate(wanted))
        sql = f"(SELECT {any_word} AS any_word, {every} AS all_words{columns}) AS q"
        phrase = "e.search_vector @@ phraseto_tsquery(spek_text_search_config(:text), spek_fold(:{}))"
        conditions = [phrase.format(f"p{i}") for i in range(len(phrases))]
        if unwanted:
            conditions.append(f"NOT (e.search_vector @@ ({unwanted}))")
        return cls(sql, " AND ".join(conditions), params, len(wanted))


async def search(
    session: AsyncSession,
    user: User,
    query: str,
    kinds: list[SearchKind] | None,
    mode: SearchMode,
    limit: int,
    embed_query: EmbedQuery,
    notebook_id: uuid.UUID | None = None,
) -> list[SearchHit]:
    """The caller's best `limit` hits; with `notebook_id`, only from that notebook (one of the caller's)."""
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
    if notebook_id is not None:
        owned = select(Notebook.id).where(Notebook.id == notebook_id, Notebook.user_id == user.id)
        if (await session.execute(owned)).first() is None:
            raise NotFound(f"Notebook {notebook_id} not found.")
        params["notebook_id"] = notebook_id
    if mode is SearchMode.KEYWORD:
        return await _hits(session, terms, params, await _keyword(session, terms, params, limit))
    vector = await embed_query(query)
    if mode is SearchMode.SEMANTIC:
        return await _hits(session, terms, params, await _semantic(session, params, vector, limit))
    keyword = await _keyword(session, terms, params, CANDIDATES)
    semantic = await _semantic(session, params, vector, CANDIDATES)
    weight = 1.0 if vector.understood else UNREAD_SEMANTIC_WEIGHT
    return await _hits(session, terms, params, fuse([(keyword, 1.0), (semantic, weight)], limit))


@dataclass(frozen=True)
class _Ranked:
    """An entry's place in a ranking, before its columns and snippet are read (for the final few only)."""

    id: uuid.UUID  # the entry's source_id, as SearchHit.id
    score: float


async def _keyword(session: AsyncSession, terms: _Terms, params: dict[str, object], limit: int) -> list[_Ranked]:
    """Entries ranked by the share of the query's information they hold: each term weighs its inverse
    document frequency among the caller's entries (BM25's idf; PostgreSQL's own ranking has none, so
    every word counted alike and common words buried the passages that matter), plus a little for how
    densely the words occur. Candidates are the entries with one of the query's rarer terms, so the work
    stays bounded however common its other words are; when every term is common, the first
    COMMON_TERM_ENTRIES of those with all of them (in storage order: all hold every word, and reading
    every one of a fifth of a large collection took seconds)."""
    # A word in most of a large collection has a bitmap of ~100 000 rows: at the default 4 MB it turns lossy,
    # and every row of a lossy page is checked again by computing its owned words (0.1 s for one word).
    await session.execute(text(f"SET LOCAL work_mem = '{KEYWORD_WORK_MEM}'"))
    weights = await _term_weights(session, terms, params)
    if not weights:
        return []
    total = sum(term.idf for term in weights)
    coverage = " + ".join(f"{term.idf / total:.6f} * (e.search_vector @@ q.t{term.index})::int" for term in weights)
    density = f"{DENSITY_WEIGHT} * ts_rank(e.search_vector, q.any_word, 1 | 32)"
    rare = [f"q.t{term.index}" for term in weights if not term.common]
    match = f"({' || '.join(rare)})" if rare else "q.all_words"
    condition = f"AND {terms.condition}" if terms.condition else ""
    candidates = f"""SELECT e.source_id, e.search_vector, e.parent_id, e.position
        FROM search_entries e, {terms.sql}
        WHERE {_owned(match)} AND {_scope(params, _OWNER_PER_ROW)} AND e.search_vector @@ {match} {condition}
        {"" if rare else "LIMIT :common"}"""
    best = f"""SELECT e.source_id, {coverage} + {density} AS score
        FROM ({candidates}) AS e, {terms.sql}
        ORDER BY score DESC, e.parent_id, e.position LIMIT :limit"""
    rows = await session.execute(text(best), {**params, "limit": limit, "common": COMMON_TERM_ENTRIES})
    return [_Ranked(row.source_id, float(row.score)) for row in rows]


@dataclass(frozen=True)
class _TermWeight:
    index: int  # the term t<index> of _Terms
    idf: float
    common: bool  # in COMMON_TERM_ENTRIES or more of the caller's entries: it scores but picks no candidates


async def _term_weights(session: AsyncSession, terms: _Terms, params: dict[str, object]) -> list[_TermWeight]:
    """Each distinct wanted term (stop words have none) with its idf among all the caller's entries (whatever
    the kinds or notebook searched), counted up to COMMON_TERM_ENTRIES. A word no entry has weighs the most:
    it matches nothing, but keeps a score the share of the whole query's information (a question about
    "Everest" is not answered by passages on "mount")."""
    if not terms.count:
        return []
    columns = ", ".join(
        f"numnode(q.t{i}) AS nodes{i}, q.t{i}::text AS lexemes{i}, (SELECT count(*) FROM (SELECT 1 FROM "
        f"search_entries e WHERE {_owned(f'q.t{i}')} LIMIT :cap) AS m) AS df{i}"
        for i in range(terms.count)
    )
    statement = f"SELECT (SELECT count(*) FROM search_entries e WHERE {_OWNER}) AS entries, {columns} FROM {terms.sql}"
    row = (await session.execute(text(statement), {**params, "cap": COMMON_TERM_ENTRIES})).one()
    weights: list[_TermWeight] = []
    seen: set[str] = set()
    for i in range(terms.count):
        lexemes, frequency = getattr(row, f"lexemes{i}"), getattr(row, f"df{i}")
        if not getattr(row, f"nodes{i}") or lexemes in seen:
            continue
        seen.add(lexemes)
        idf = math.log(1 + (row.entries - frequency + 0.5) / (frequency + 0.5))
        weights.append(_TermWeight(i, idf, frequency >= COMMON_TERM_ENTRIES))
    return weights


async def passage_texts(session: AsyncSession, user: User, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The whole text of the caller's entries (hits carry a snippet only)."""
    rows = await session.execute(
        text("SELECT source_id, text FROM search_entries WHERE user_id = :user_id AND source_id = ANY(:ids)"),
        {"user_id": user.id, "ids": ids},
    )
    return {row.source_id: row.text for row in rows}


def _owned(tsquery: str) -> str:
    """The caller's entries that match `tsquery` (SQL of a tsquery), looked up by (owner, word) keys: only
    the caller's rows can match, so this alone scopes a count; the exact match (phrases) is checked apart."""
    return f"spek_owned_words(e.user_id, e.search_vector) @@ spek_owned_query(:user_id, {tsquery})"


def _scope(params: dict[str, object], owner: str = _OWNER) -> str:
    """The caller's entries of the kinds (and notebook) searched."""
    return f"{owner} AND {_KINDS}" + (_IN_NOTEBOOK if "notebook_id" in params else "")


async def _hits(
    session: AsyncSession, terms: _Terms, params: dict[str, object], ranked: list[_Ranked]
) -> list[SearchHit]:
    """The ranked entries as hits, in their order, with their columns and snippets (made for these only)."""
    if not ranked:
        return []
    statement = f"SELECT {_COLUMNS} FROM search_entries e, {terms.sql} WHERE {_SCOPE} AND e.source_id = ANY(:ids)"
    rows = await session.execute(text(statement), {**params, "ids": [entry.id for entry in ranked]})
    found = {row.source_id: row for row in rows}
    return [_hit(found[entry.id], entry.score) for entry in ranked if entry.id in found]


async def _semantic(session: AsyncSession, params: dict[str, object], query: QueryVector, limit: int) -> list[_Ranked]:
    """The caller's entries nearest in meaning. The index gives them in roughly ascending distance: the
    nearest SEMANTIC_FETCH (at least) are read and the best `limit` of them kept, so a close one the walk
    met late still counts."""
    dimension = int(query.vector.shape[0])  # an int from the model: safe to write into the SQL
    distance = f"(e.embedding::vector({dimension}) <=> CAST(:vector AS vector({dimension})))"
    # The HNSW index is partial per model; with a user filter, pgvector ≥ 0.8 keeps scanning the index
    # until enough of the caller's rows are found, in roughly ascending order (re-sorted below).
    await session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    await session.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}"))
    best = f"""SELECT e.source_id, 1 - {distance} AS score
        FROM search_entries e
        WHERE {_scope(params)} AND e.embedding_model = :model
        ORDER BY {distance} LIMIT :fetch"""
    vector = "[" + ",".join(f"{x:.7g}" for x in query.vector.tolist()) + "]"
    fetch = max(limit, SEMANTIC_FETCH)
    rows = await session.execute(text(best), {**params, "model": query.model, "vector": vector, "fetch": fetch})
    nearest = sorted((_Ranked(row.source_id, float(row.score)) for row in rows), key=lambda entry: -entry.score)
    return nearest[:limit]


Ranking = TypeVar("Ranking", SearchHit, _Ranked)


def fuse(rankings: list[tuple[list[Ranking], float]], limit: int) -> list[Ranking]:
    """Weighted reciprocal rank fusion; a hit keeps the snippet of its first ranking (the keyword one)."""
    scores: dict[uuid.UUID, float] = {}
    first: dict[uuid.UUID, Ranking] = {}
    for ranking, weight in rankings:
        for rank, hit in enumerate(ranking, 1):
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (RRF_K + rank)
            first.setdefault(hit.id, hit)
    best = sorted(scores, key=lambda hit_id: -scores[hit_id])[:limit]
    return [_with_score(first[hit_id], scores[hit_id]) for hit_id in best]


def _with_score(hit: Ranking, score: float) -> Ranking:
    return replace(hit, score=round(score, 6))


def _hit(row: Row[Any], score: float) -> SearchHit:
    return SearchHit(
        kind=SearchKind(row.kind),
        id=row.source_id,
        parent_id=row.parent_id,
        title=row.title,
        snippet=row.snippet,
        score=score,
        start=row.start,
        end=row.end,
        page=row.page,
        heading=row.heading,
    )
