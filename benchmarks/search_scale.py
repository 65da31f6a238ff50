"""Search at scale: one user's 100 000 passages among 1 000 000 rows of `search_entries`.

    .venv/bin/python -m benchmarks.search_scale [--rows 1000000] [--user-rows 100000] [--queries 200]
        [--ef-search 40 100 200 400] [--maintenance-work-mem 1GB] [--data-dir DIR]

Starts an embedded PostgreSQL (pgvector) as the tests do and migrates it, then loads synthetic rows with
COPY: 384-dimensional unit vectors in clusters (topics and subtopics, stored as `all-MiniLM-L6-v2`) and
text of words drawn with their real frequencies from the docstrings and comments of Python's standard
library, so the database computes a real tsvector. The rows are spread over `--users` users; one of them
owns `--user-rows`. The GIN and HNSW indexes are dropped for the load and built again afterwards from
the migration's own definitions. Then, for that user: top-10 SEMANTIC latency and recall@10 against
exact search (the same query with index scans off), KEYWORD and HYBRID latency, all through
`spek.search.service.search` with a fixed query vector, for each `hnsw.ef_search` (SET LOCAL).

Targets (issue 9): SEMANTIC p95 <= 50 ms with recall@10 >= 0.95; HYBRID p95 <= 100 ms.
With --data-dir, a database that already holds --rows rows is reused (no load, no index build).
"""

import argparse
import asyncio
import io
import os
import platform
import re
import sys
import sysconfig
import tempfile
import threading
import time
import tokenize
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil

from spek import migrate
from spek.embedded import EmbeddedPostgres
from spek.search import service
from spek.search.models import INDEXED_MODELS, SearchKind
from spek.search.service import QueryVector, SearchMode, _Terms, search

MODEL, DIMENSION = INDEXED_MODELS["minilm"]
TARGET_SEMANTIC_P95_MS, TARGET_RECALL, TARGET_HYBRID_P95_MS = 50.0, 0.95, 100.0
TOPICS, SUBTOPICS_PER_TOPIC = 100, 40  # 4 000 subtopics: rows of one subtopic are each other's neighbours
SUBTOPIC_WEIGHT, NOISE_WEIGHT = 0.7, 1.0
BATCH = 20_000
COLUMNS = [
    "id",
    "user_id",
    "kind",
    "source_id",
    "parent_id",
    "position",
    "title",
    "text",
    "embedding",
    "embedding_model",
    "updated_at",
]
PASSAGES_PER_DOCUMENT = 40


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


# -- synthetic data --------------------------------------------------------------------------------------


def vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """English words with their frequencies, from the standard library's docstrings and comments."""
    counts: Counter[str] = Counter()
    word = re.compile(r"\b[a-z]{3,14}\b")
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        try:
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
            for token in tokens:
                if token.type in (tokenize.COMMENT, tokenize.STRING):
                    counts.update(word.findall(token.string.lower()))
        except (SyntaxError, UnicodeDecodeError, tokenize.TokenError):
            continue
    common = [(w, c) for w, c in counts.most_common() if c >= 3]
    words = np.array([w for w, _ in common], dtype=object)
    frequency = np.array([c for _, c in common], dtype=np.float64)
    return words, frequency / frequency.sum()


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


class Generator:
    """Clustered unit vectors and word-frequency text, reproducible from the seed."""

    def __init__(self, seed: int, words_per_row: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.query_rng = np.random.default_rng(seed + 1)  # the same queries whether the data is loaded or reused
        self.topics = unit(self.rng.standard_normal((TOPICS, DIMENSION)))
        self.subtopics = unit(self.rng.standard_normal((TOPICS * SUBTOPICS_PER_TOPIC, DIMENSION)))
        self.words, self.p = vocabulary()
        self.words_per_row = words_per_row

    def vectors(self, n: int, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = rng or self.rng
        sub = rng.integers(0, len(self.subtopics), n)
        noise = unit(rng.standard_normal((n, DIMENSION)))
        return unit(
            self.topics[sub // SUBTOPICS_PER_TOPIC] + SUBTOPIC_WEIGHT * self.subtopics[sub] + NOISE_WEIGHT * noise
        )

    def texts(self, n: int) -> list[str]:
        picked = self.words[self.rng.choice(len(self.words), size=(n, self.words_per_row), p=self.p)]
        return [" ".join(row) for row in picked]

    def query_texts(self, n: int) -> list[str]:
        """2 to 4 words of middling frequency (ranks 100-5 000), as a person would type."""
        ranks = np.arange(100, min(5000, len(self.words)))
        p, rng = self.p[ranks] / self.p[ranks].sum(), self.query_rng
        return [" ".join(self.words[rng.choice(ranks, size=rng.integers(2, 5), p=p)]) for _ in range(n)]


# -- database --------------------------------------------------------------------------------------------


def plain_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def connect(database_url: str):
    import asyncpg
    from pgvector.asyncpg import register_vector

    connection = await asyncpg.connect(plain_url(database_url))
    await register_vector(connection)
    return connection


async def settings(connection) -> dict[str, str]:
    names = ["server_version", "shared_buffers", "work_mem", "maintenance_work_mem", "max_parallel_maintenance_workers"]
    found = {name: await connection.fetchval(f"SHOW {name}") for name in names}
    found["pgvector"] = await connection.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    return found


class PeakMemory:
    """The largest RSS of one server process and of all of them together, sampled while a block runs."""

    def __init__(self, backend_pid: int) -> None:
        self.backend = psutil.Process(backend_pid)
        self.postmaster = self.backend.parent()
        self.backend_peak = self.total_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.backend_peak = max(self.backend_peak, self.backend.memory_info().rss)
                total = sum(p.memory_info().rss for p in [self.postmaster, *self.postmaster.children()])
                self.total_peak = max(self.total_peak, total)
            except psutil.Error:
                continue

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


async def build_indexes(connection, indexes: list) -> dict:
    """Each index again from its definition (HNSW first, then GIN): time, size, peak memory, server notices."""
    built, notices = [], []
    connection.add_log_listener(lambda _c, message: notices.append(message.message))
    for index in sorted(indexes, key=lambda i: "gin" in i["indexdef"]):
        kind = "gin" if "USING gin" in index["indexdef"] else "hnsw"
        rows = None
        if kind == "hnsw" and MODEL in index["indexdef"]:
            rows = await connection.fetchval("SELECT count(*) FROM search_entries WHERE embedding_model = $1", MODEL)
        print(f"  building {index['indexname']}", flush=True)
        with PeakMemory(await connection.fetchval("SELECT pg_backend_pid()")) as memory:
            started = time.perf_counter()
            await connection.execute(index["indexdef"])
            elapsed = time.perf_counter() - started
        size = await connection.fetchval("SELECT pg_relation_size($1::regclass)", index["indexname"])
        built.append((index["indexname"], kind, rows, elapsed, size, memory.backend_peak, memory.total_peak))
    await connection.execute("ANALYZE search_entries")
    return {"indexes": built, "notices": notices}


async def rebuild_indexes(database_url: str, maintenance_work_mem: str | None) -> dict:
    connection = await connect(database_url)
    try:
        if maintenance_work_mem:
            await connection.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
        indexes = await search_indexes(connection)
        for index in indexes:
            await connection.execute(f"DROP INDEX {index['indexname']}")
        return await build_indexes(connection, indexes)
    finally:
        await connection.close()


async def search_indexes(connection) -> list:
    return await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_entries' "
        "AND (indexdef LIKE '%USING hnsw%' OR indexdef LIKE '%USING gin%')"
    )


async def load(database_url: str, args: argparse.Namespace, generator: Generator) -> tuple[uuid.UUID, dict]:
    """Users and rows by COPY, then the search indexes; timings, sizes and peak memory."""
    connection = await connect(database_url)
    report: dict[str, object] = {}
    try:
        if args.maintenance_work_mem:
            await connection.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        users = [uuid.uuid4() for _ in range(args.users)]
        now = datetime.now(UTC)
        await connection.copy_records_to_table(
            "users",
            records=[(u, f"scale-{i}@example.com", now) for i, u in enumerate(users)],
            columns=["id", "email", "created_at"],
        )
        target, others = users[0], users[1:]
        indexes = await search_indexes(connection)
        for index in indexes:
            await connection.execute(f"DROP INDEX {index['indexname']}")

        owner = np.array(
            [target] * args.user_rows + [others[i % len(others)] for i in range(args.rows - args.user_rows)]
        )
        generator.rng.shuffle(owner)  # the user's rows lie scattered through the table, as they would
        generating = copying = 0.0
        parent = uuid.uuid4()
        for start in range(0, args.rows, BATCH):
            started = time.perf_counter()
            n = min(BATCH, args.rows - start)
            vectors, texts = generator.vectors(n), generator.texts(n)
            records = []
            for i in range(n):
                position = (start + i) % PASSAGES_PER_DOCUMENT
                if position == 0:
                    parent = uuid.uuid4()
                records.append(
                    (
                        uuid.uuid4(),
                        owner[start + i],
                        SearchKind.DOCUMENT.value,
                        uuid.uuid4(),
                        parent,
                        position,
                        f"Document {parent.hex[:8]}",
                        texts[i],
                        vectors[i],
                        MODEL,
                        now,
                    )
                )
            generating += time.perf_counter() - started
            started = time.perf_counter()
            await connection.copy_records_to_table("search_entries", records=records, columns=COLUMNS)
            copying += time.perf_counter() - started
            if (start // BATCH) % 10 == 9:
                print(f"  loaded {start + n:,} rows ({copying:.0f} s COPY, {generating:.0f} s generating)", flush=True)
        report["generate_s"], report["copy_s"] = generating, copying
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE search_entries")
        report["vacuum_analyze_s"] = time.perf_counter() - started

        report.update(await build_indexes(connection, indexes))
        return target, report
    finally:
        await connection.close()


async def sizes(database_url: str) -> dict[str, int]:
    connection = await connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT pg_total_relation_size('search_entries') AS total, pg_table_size('search_entries') AS table, "
            "pg_indexes_size('search_entries') AS indexes, count(*) AS rows FROM search_entries"
        )
        return dict(row)
    finally:
        await connection.close()


# -- queries ---------------------------------------------------------------------------------------------


class FixedVector:
    """`embed_query` for the service: the next prepared vector, whatever the text."""

    def __init__(self) -> None:
        self.vector: np.ndarray | None = None

    async def __call__(self, _query: str) -> QueryVector:
        assert self.vector is not None
        return QueryVector(MODEL, self.vector)


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


EXACT = f"""SELECT e.source_id FROM search_entries e
    WHERE e.user_id = :user_id AND e.kind = ANY(:kinds) AND e.embedding_model = :model
    ORDER BY e.embedding::vector({DIMENSION}) <=> CAST(:vector AS vector({DIMENSION})) LIMIT 10"""


async def measure(database_url: str, target: uuid.UUID, args: argparse.Namespace, generator: Generator) -> dict:
    from sqlalchemy import text

    from spek.accounts.models import User
    from spek.db import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    user = User(id=target)
    vectors = generator.vectors(args.queries, generator.query_rng)
    texts = generator.query_texts(args.queries)
    embed = FixedVector()
    kinds = [k.value for k in SearchKind]
    results: dict[str, object] = {"ef": []}

    async def timed(mode: SearchMode, i: int, ef: int | None) -> tuple[float, list[uuid.UUID]]:
        embed.vector = vectors[i]
        # The service may set hnsw.ef_search itself (service.EF_SEARCH): then that constant is what is varied.
        own = getattr(service, "EF_SEARCH", None)
        async with sessions() as session, session.begin():
            if ef is not None:
                await session.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef)}"))
                if own is not None:
                    service.EF_SEARCH = int(ef)
            try:
                started = time.perf_counter()
                hits = await search(session, user, texts[i], None, mode, 10, embed)
                return (time.perf_counter() - started) * 1000, [hit.id for hit in hits]
            finally:
                if own is not None:
                    service.EF_SEARCH = own

    try:
        exact: list[set[uuid.UUID]] = []
        exact_ms: list[float] = []
        async with sessions() as session:
            plan = await session.execute(
                text("EXPLAIN " + EXACT),
                {"user_id": target, "kinds": kinds, "model": MODEL, "vector": vector_literal(vectors[0])},
            )
            results["plan"] = [re.sub(r"'\[[^']*\]'", "'[…]'", row[0]) for row in plan][:3]
            await session.commit()
            for i in range(args.queries):
                async with session.begin():
                    await session.execute(text("SET LOCAL enable_indexscan = off"))
                    started = time.perf_counter()
                    rows = await session.execute(
                        text(EXACT),
                        {"user_id": target, "kinds": kinds, "model": MODEL, "vector": vector_literal(vectors[i])},
                    )
                    exact.append({row[0] for row in rows})
                    exact_ms.append((time.perf_counter() - started) * 1000)
        results["exact"] = (percentile(exact_ms, 50), percentile(exact_ms, 95))
        for i in range(min(5, args.queries)):  # warm the caches and the connection pool
            await timed(SearchMode.HYBRID, i, None)
        keyword = [(await timed(SearchMode.KEYWORD, i, None))[0] for i in range(args.queries)]
        results["keyword"] = (percentile(keyword, 50), percentile(keyword, 95))
        matched = []
        async with sessions() as session:
            for i in range(args.queries):  # how many of the user's rows each keyword query has to rank
                terms = _Terms.of(texts[i])
                count = f"SELECT count(*) FROM search_entries e, {terms.sql} WHERE e.user_id = :u AND e.search_vector @@ q.any_word"
                matched.append(
                    (await session.execute(text(count), {"u": target, "text": texts[i], **terms.params})).scalar_one()
                )
        results["matched"] = (percentile(matched, 50) / args.user_rows, percentile(matched, 95) / args.user_rows)
        print(f"  KEYWORD p95 {results['keyword'][1]:.1f} ms", flush=True)
        for ef in args.ef_search:
            semantic, recalls, hybrid = [], [], []
            for i in range(args.queries):
                elapsed, ids = await timed(SearchMode.SEMANTIC, i, ef)
                semantic.append(elapsed)
                recalls.append(len(set(ids) & exact[i]) / max(1, len(exact[i])))
            for i in range(min(args.hybrid_queries or args.queries, args.queries)):
                hybrid.append((await timed(SearchMode.HYBRID, i, ef))[0])
            row = (
                ef,
                percentile(semantic, 50),
                percentile(semantic, 95),
                float(np.mean(recalls)),
                float(np.min(recalls)),
                percentile(hybrid, 50),
                percentile(hybrid, 95),
            )
            results["ef"].append(row)  # type: ignore[union-attr]
            print(
                f"  ef_search {ef}: SEMANTIC p95 {row[2]:.1f} ms recall {row[3]:.3f}; HYBRID p95 {row[6]:.1f} ms",
                flush=True,
            )
        return results
    finally:
        await engine.dispose()


# -- report ----------------------------------------------------------------------------------------------


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def print_load(args, loaded: dict, size: dict) -> None:
    if "copy_s" in loaded:
        rate = args.rows / loaded["copy_s"] if loaded["copy_s"] else float("nan")
        print(
            f"\nload: COPY {loaded['copy_s']:.1f} s ({rate:,.0f} rows/s, tsvector computed by the database), "
            f"generating {loaded['generate_s']:.1f} s, VACUUM ANALYZE {loaded['vacuum_analyze_s']:.1f} s"
        )
    if "indexes" in loaded:
        print(
            f"{'index':<38} {'type':<5} {'rows':>10} {'build s':>9} {'size':>10} {'peak RSS backend':>17} {'all':>10}"
        )
        for name, kind, rows, elapsed, index_size, backend, total in loaded["indexes"]:
            shown_rows = f"{rows:,}" if rows is not None else "all"
            print(
                f"{name:<38} {kind:<5} {shown_rows:>10} {elapsed:>9.1f} {mib(index_size):>10} {mib(backend):>17} {mib(total):>10}"
            )
        for notice in loaded["notices"]:
            print(f"  server notice: {notice}")
    print(
        f"size: {size['rows']:,} rows; table {mib(size['table'])}, indexes {mib(size['indexes'])}, "
        f"total (pg_total_relation_size) {mib(size['total'])}",
        flush=True,
    )


def print_report(args, results: dict) -> None:
    print("plan of the semantic query (its snippet left out): " + " / ".join(line.strip() for line in results["plan"]))
    hybrid = min(args.hybrid_queries or args.queries, args.queries)
    print(
        f"\n{args.queries} queries ({hybrid} for HYBRID) for the user with {args.user_rows:,} rows, top 10 "
        "(ms, through spek.search.service.search)"
    )
    print(
        f"{'hnsw.ef_search':>14} {'SEM p50':>8} {'SEM p95':>8} {'recall@10':>9} {'min':>5} {'HYB p50':>8} {'HYB p95':>8}   targets"
    )
    for ef, s50, s95, recall, worst, h50, h95 in results["ef"]:
        ok = [
            "SEM p95 ok" if s95 <= TARGET_SEMANTIC_P95_MS else "SEM p95 MISSED",
            "recall ok" if recall >= TARGET_RECALL else "recall MISSED",
            "HYB p95 ok" if h95 <= TARGET_HYBRID_P95_MS else "HYB p95 MISSED",
        ]
        own = getattr(service, "EF_SEARCH", None)
        label = f"{ef}" if ef is not None else f"{own} (service)" if own is not None else "40 (default)"
        print(
            f"{label:>14} {s50:>8.1f} {s95:>8.1f} {recall:>9.3f} {worst:>5.1f} {h50:>8.1f} {h95:>8.1f}   {', '.join(ok)}"
        )
    print(
        f"{'KEYWORD':>14} p50 {results['keyword'][0]:.1f} ms, p95 {results['keyword'][1]:.1f} ms; a query matches "
        f"{results['matched'][0]:.0%} of the user's rows (median; p95 {results['matched'][1]:.0%}) by one of its words"
    )
    print(
        f"{'exact SEMANTIC':>14} p50 {results['exact'][0]:.1f} ms, p95 {results['exact'][1]:.1f} ms (index scans off)"
    )
    print(
        f"targets: SEMANTIC p95 <= {TARGET_SEMANTIC_P95_MS:.0f} ms with recall@10 >= {TARGET_RECALL}; "
        f"HYBRID p95 <= {TARGET_HYBRID_P95_MS:.0f} ms"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in search_entries, all users")
    parser.add_argument("--user-rows", type=int, default=100_000, help="rows of the user whose searches are timed")
    parser.add_argument("--users", type=int, default=100, help="users in all (the others share the rest evenly)")
    parser.add_argument("--words", type=int, default=150, help="words per row (a ~1000-character passage)")
    parser.add_argument("--queries", type=int, default=200, help="queries per setting")
    parser.add_argument(
        "--ef-search",
        type=lambda v: None if v in ("default", "none") else int(v),
        nargs="+",
        default=[None, 100, 200, 400],
        help="hnsw.ef_search values to try ('default': the service's own, else the server's 40)",
    )
    parser.add_argument("--hybrid-queries", type=int, help="HYBRID on only the first N queries (default: all)")
    parser.add_argument(
        "--rebuild-indexes", action="store_true", help="with a reused database: build the indexes again"
    )
    parser.add_argument("--maintenance-work-mem", help="for the index builds, e.g. 1GB (default: the server's)")
    parser.add_argument("--data-dir", type=Path, help="keep the database here; reused when it holds --rows rows")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not 0 < args.user_rows < args.rows or args.users < 2:
        parser.error("need 0 < --user-rows < --rows and --users >= 2")
    return args


async def existing_target(database_url: str, rows: int) -> uuid.UUID | None:
    connection = await connect(database_url)
    try:
        found = await connection.fetchval("SELECT count(*) FROM search_entries")
        if found == 0:
            return None
        if found != rows:
            raise SystemExit(f"the database in --data-dir holds {found:,} rows, not {rows:,}: use another folder")
        return await connection.fetchval(
            "SELECT user_id FROM search_entries GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
        )
    finally:
        await connection.close()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.data_dir or Path(scratch)
        postgres = EmbeddedPostgres(directory / "postgres")
        try:
            database_url = postgres.start()
            migrate.upgrade(database_url)
        except Exception as e:  # any failure to start is reported the same way
            print(f"the embedded PostgreSQL did not start: {e!r}", file=sys.stderr)
            postgres.stop()
            sys.exit(1)
        try:
            server = asyncio.run(_server_settings(database_url))
            print(
                f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
                f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at start"
            )
            print(
                f"PostgreSQL {server['server_version'].split()[0]} (embedded), pgvector {server['pgvector']}; "
                f"shared_buffers {server['shared_buffers']}, work_mem {server['work_mem']}, maintenance_work_mem "
                f"{args.maintenance_work_mem or server['maintenance_work_mem']}, max_parallel_maintenance_workers "
                f"{server['max_parallel_maintenance_workers']}"
            )
            print(
                f"data: {args.rows:,} rows over {args.users} users, {args.user_rows:,} for the measured one; "
                f"{DIMENSION}-dim vectors ({TOPICS} topics x {SUBTOPICS_PER_TOPIC} subtopics, stored as {MODEL}); "
                f"{args.words} words a row; {args.queries} queries; ef_search {args.ef_search}; seed {args.seed}",
                flush=True,
            )
            generator = Generator(args.seed, args.words)
            target = asyncio.run(existing_target(database_url, args.rows)) if args.data_dir else None
            loaded: dict = {}
            if target is None:
                target, loaded = asyncio.run(load(database_url, args, generator))
            elif args.rebuild_indexes:
                print("reusing the loaded database; building its indexes again", flush=True)
                loaded = asyncio.run(rebuild_indexes(database_url, args.maintenance_work_mem))
            else:
                print("reusing the loaded database (no load, no index build)")
            print_load(args, loaded, asyncio.run(sizes(database_url)))
            results = asyncio.run(measure(database_url, target, args, generator))
            print_report(args, results)
        finally:
            postgres.stop()


async def _server_settings(database_url: str) -> dict[str, str]:
    connection = await connect(database_url)
    try:
        return await settings(connection)
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
