"""Retrieval quality of `search` per mode and per embedding model, through the real API and worker.

    .venv/bin/python -m benchmarks.search_quality [--models minilm e5-small] [--repeat 3] [--cache DIR]
        [--details FILE]

Corpus, fetched at run time with `apt-get download` into the cache dir (about 190 MB once, 45 MB kept):
the Python 3.11 documentation's HTML pages named in benchmarks/search_queries.json (Debian's
python3.11-doc: tutorial, HOWTOs, library pages), and the Russian sentences of A. N. Tolstoy's
"Aelita" (1923, public domain) that Debian's festvox-ru voice was recorded from (the package that
../shared/speech-devset's ru_nsh_aelita comes from; here all of its Aelita sentences), cut into
Markdown documents. Every file is uploaded with `uploadDocument`: extraction, chunking and embedding
are Spek's own. For each model (SPEK_EMBEDDING_MODEL, one fresh stack each: embedded PostgreSQL and
Redis, migrated, `spek serve` and `spek worker`) it asks every query of search_queries.json in each
mode (limit 10, kinds DOCUMENT) and prints recall@10 and MRR per group (EN, RU, EN→RU: English
questions about the Russian text), and the latency of `search` over HTTP (p50/p95 per mode, query
embedding included). A relevant passage is one of the named document that contains the query's
phrase. Target (issue 9): HYBRID beats both single modes.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

from tests.support import Stack, sql
from tests.support import running_stack as tests_stack

QUERIES_FILE = Path(__file__).with_name("search_queries.json")
HTML_ROOT = "usr/share/doc/python3.11/html"
MODES = ["SEMANTIC", "KEYWORD", "HYBRID"]
GROUPS = ["EN", "RU", "EN→RU"]
K = 10
UPLOAD = "mutation($file: Upload!) { uploadDocument(file: $file) { id title chunkCount } }"
DOCUMENTS = "{ documents(limit: 200) { id status chunkCount } }"
SEARCH = "query($q: String!, $mode: SearchMode) { search(query: $q, mode: $mode, limit: 10, kinds: [DOCUMENT]) { id parentId } }"
REGISTER = 'mutation($e: String!) { register(email: $e, password: "benchmark password") { accessToken user { id } } }'
LOGIN = 'mutation($e: String!) { login(email: $e, password: "benchmark password") { accessToken user { id } } }'


# -- corpus ----------------------------------------------------------------------------------------------


def fetch_package(cache: Path, package: str, members: list[str]) -> tuple[Path, str]:
    """The package's files matching `members` (tar wildcards), extracted under cache/package; its version."""
    target = cache / package
    marker = target / ".version"
    if marker.exists():
        return target, marker.read_text()
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run(["apt-get", "download", package], cwd=target, check=True, capture_output=True)
    [deb] = target.glob("*.deb")
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(target), "--wildcards", *members], stdin=tar.stdout, check=True)
    if tar.wait() != 0:
        raise RuntimeError(f"dpkg-deb could not read {deb}")
    version = deb.name.split("_")[1]
    deb.unlink()
    marker.write_text(version)
    return target, version


@dataclass
class Document:
    key: str  # what search_queries.json names: the HTML page's path, or aelita-N
    filename: str
    content: bytes


def english_documents(cache: Path, pages: list[str]) -> tuple[list[Document], str]:
    root, version = fetch_package(cache, "python3.11-doc", [f"./{HTML_ROOT}/{page}" for page in pages])
    return [Document(page, page.replace("/", "-"), (root / HTML_ROOT / page).read_bytes()) for page in pages], version


def russian_documents(cache: Path, spec: dict) -> tuple[list[Document], str]:
    """The voice's sentences in order (stress marks removed), in paragraphs, as Markdown documents: Aelita's
    (the queries ask about them), then the rest (other books; distractors, no query asks about them)."""
    root, version = fetch_package(cache, spec["package"], [f"./{spec['file']}"])
    text = (root / spec["file"]).read_text(encoding="utf-8")
    numbered = [
        (int(n), " ".join(s.replace("+", "").split()))
        for n, s in re.findall(r'^\(\s*ru_(\d+)\s+"(.*)"\s*\)\s*$', text, re.M)
    ]
    last = spec["last_aelita_sentence"]
    aelita = [s for n, s in numbered if n <= last]
    others = [s for n, s in numbered if n > last]
    return (
        _parts(aelita, "aelita", "Алексей Толстой. Аэлита (фрагменты)", spec)
        + _parts(others, "prose", "Русская проза (предложения из разных книг)", spec),
        version,
    )


def _parts(sentences: list[str], key: str, title: str, spec: dict) -> list[Document]:
    per_document, per_paragraph = spec["sentences_per_document"], spec["sentences_per_paragraph"]
    documents = []
    for part, start in enumerate(range(0, len(sentences), per_document), 1):
        chosen = sentences[start : start + per_document]
        paragraphs = [" ".join(chosen[i : i + per_paragraph]) for i in range(0, len(chosen), per_paragraph)]
        content = f"# {title}, часть {part}\n\n" + "\n\n".join(paragraphs) + "\n"
        documents.append(Document(f"{key}-{part}", f"{key}-{part}.md", content.encode()))
    return documents


def normalized(text: str) -> str:
    """For matching phrases: case-folded, ё as е, Markdown marks dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[*`\\]", "", text).casefold().replace("ё", "е").split())


# -- the stack -------------------------------------------------------------------------------------------


@contextmanager
def running_stack(data_dir: Path, model: str, **settings: str) -> Iterator[Stack]:
    """The tests' stack (embedded PostgreSQL and Redis, `spek serve`, a worker, a chat worker) for this embedding
    model, `settings` added, its output in `spek.log` (the last lines printed if it fails)."""
    settings = {
        "SPEK_EMBEDDING_MODEL": model,
        "SPEK_LOG_LEVEL": "WARNING",
        "SPEK_ACCESS_TOKEN_TTL": "86400",  # embedding the corpus can outlast the default 15 minutes
        "SPEK_MAX_DOCUMENT_MB": "50",
        **settings,
    }
    with (data_dir / "spek.log").open("wb") as log:
        try:
            with tests_stack(data_dir, log, **settings) as stack:
                yield stack
        except BaseException:
            log.flush()
            tail = (data_dir / "spek.log").read_text(errors="replace").splitlines()[-20:]
            print("\n".join(["spek's log, last lines:", *tail]), file=sys.stderr)
            raise


class Client:
    def __init__(self, base_url: str, email: str | None = None) -> None:
        """Signs in as `email` (a user an earlier run registered), or registers a new user."""
        self.http = httpx.Client(base_url=base_url, timeout=120)
        if email:
            body = self.graphql(LOGIN, {"e": email})["login"]
        else:
            self.email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
            body = self.graphql(REGISTER, {"e": self.email})["register"]
        self.user_id = body["user"]["id"]
        self.http.headers["Authorization"] = f"Bearer {body['accessToken']}"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = self.http.post("/graphql", json={"query": query, "variables": variables or {}}).json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def upload(self, document: Document) -> str:
        response = self.http.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (document.filename, document.content, "application/octet-stream")},
            headers={"Apollo-Require-Preflight": "1"},
        ).json()
        if response.get("errors"):
            raise RuntimeError(f"{document.filename}: {response['errors']}")
        return response["data"]["uploadDocument"]["id"]

    def wait_embedded(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            documents = self.graphql(DOCUMENTS)["documents"]
            failed = [d for d in documents if d["status"] in ("FAILED", "CANCELLED")]
            if failed:
                raise RuntimeError(f"document jobs failed: {failed}")
            if len(documents) == count and all(d["status"] == "COMPLETED" for d in documents):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"documents not embedded after {timeout:.0f} s")
            time.sleep(1)

    def search(self, query: str, mode: str) -> tuple[list[dict], float]:
        started = time.perf_counter()
        hits = self.graphql(SEARCH, {"q": query, "mode": mode})["search"]
        return hits, (time.perf_counter() - started) * 1000


# -- scoring ---------------------------------------------------------------------------------------------


@dataclass
class Scores:
    recall: dict[str, list[float]] = field(default_factory=lambda: {g: [] for g in GROUPS})
    reciprocal_rank: dict[str, list[float]] = field(default_factory=lambda: {g: [] for g in GROUPS})
    latency_ms: list[float] = field(default_factory=list)


def relevant_passages(queries: list[dict], passages: list[tuple], document_keys: dict[str, str]) -> list[list[set]]:
    """For each query, for each of its targets: the ids of the passages that satisfy it."""
    texts = [
        (str(source_id), document_keys[str(parent_id)], normalized(text)) for source_id, parent_id, text in passages
    ]
    found, missing = [], []
    for query in queries:
        targets = []
        for target in query["relevant"]:
            phrase = normalized(target["phrase"])
            ids = {
                source_id
                for source_id, key, text in texts
                if (key == target["doc"] or key.startswith(target["doc"] + "-")) and phrase in text
            }
            if not ids:
                missing.append(f"{query['id']}: {target['doc']} has no passage with {target['phrase']!r}")
            targets.append(ids)
        found.append(targets)
    if missing:
        raise SystemExit("the query set does not fit this corpus:\n  " + "\n  ".join(missing))
    return found


@contextmanager
def data_dir(args: argparse.Namespace, model: str) -> Iterator[Path]:
    """A fresh temporary directory, or with --data-dir this model's directory there, kept for the next run."""
    if args.data_dir is None:
        with tempfile.TemporaryDirectory() as directory:
            yield Path(directory)
        return
    directory = args.data_dir / model
    directory.mkdir(parents=True, exist_ok=True)
    yield directory


def ingested(stack: Stack, directory: Path, documents: list[Document], args: argparse.Namespace) -> tuple:
    """A signed-in client whose user has the corpus, its document keys by id, and the upload and ingest times
    (None when an earlier run's corpus in `directory` was reused)."""
    saved = directory / "corpus.json"
    if saved.exists():
        corpus = json.loads(saved.read_text())
        return Client(stack.base_url, corpus["email"]), corpus["keys"], None, None
    client = Client(stack.base_url)
    started = time.perf_counter()
    keys = {client.upload(document): document.key for document in documents}
    uploaded = time.perf_counter() - started
    client.wait_embedded(len(documents), args.timeout)
    ingest = time.perf_counter() - started
    if args.data_dir is not None:
        saved.write_text(json.dumps({"email": client.email, "keys": keys}))
    return client, keys, uploaded, ingest


def run_model(model: str, documents: list[Document], queries: list[dict], args: argparse.Namespace) -> dict:
    with data_dir(args, model) as directory, running_stack(directory, model) as stack:
        client, keys, uploaded, ingest = ingested(stack, directory, documents, args)
        passages = sql(
            stack.database_url,
            "SELECT source_id, parent_id, text FROM search_entries WHERE user_id = :u",
            u=uuid.UUID(client.user_id),
        )
        relevant = relevant_passages(queries, passages, keys)
        client.search("warm-up: load the query model", "HYBRID")
        scores = {mode: Scores() for mode in MODES}
        details = []
        for query, targets in zip(queries, relevant):
            ranks: dict[str, int | None] = {}
            for mode in MODES:
                hits, elapsed = client.search(query["query"], mode)
                latencies = [elapsed] + [client.search(query["query"], mode)[1] for _ in range(args.repeat - 1)]
                ids = [hit["id"] for hit in hits[:K]]
                first = next((rank for rank, hit in enumerate(ids, 1) if any(hit in t for t in targets)), None)
                scores[mode].recall[query["group"]].append(sum(bool(t & set(ids)) for t in targets) / len(targets))
                scores[mode].reciprocal_rank[query["group"]].append(1 / first if first else 0.0)
                scores[mode].latency_ms.extend(latencies)
                ranks[mode] = first
            details.append({"model": model, "id": query["id"], "query": query["query"], "rank": ranks})
        return {
            "scores": scores,
            "details": details,
            "passages": len(passages),
            "upload_s": uploaded,
            "ingest_s": ingest,
        }


# -- report ----------------------------------------------------------------------------------------------


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def print_table(results: dict[str, dict], counts: dict[str, int], verdict: bool = True) -> None:
    groups = "  ".join(f"{f'{g} R@10':>10} {f'{g} MRR':>9}" for g in GROUPS)
    print(f"\n{'model':<9} {'mode':<9} {groups}  {'p50 ms':>7} {'p95 ms':>7}")
    for model, result in results.items():
        for mode in MODES:
            s = result["scores"][mode]
            cells = "  ".join(f"{mean(s.recall[g]):>10.3f} {mean(s.reciprocal_rank[g]):>9.3f}" for g in GROUPS)
            p50, p95 = np.percentile(s.latency_ms, 50), np.percentile(s.latency_ms, 95)
            print(f"{model:<9} {mode:<9} {cells}  {p50:>7.1f} {p95:>7.1f}")
    print(f"queries: {', '.join(f'{g} {counts[g]}' for g in GROUPS)}; latency over every query and repeat, per mode")
    if not verdict:
        return
    print("\ntarget: HYBRID beats both single modes (recall@10 and MRR, per group)")
    for model, result in results.items():
        verdicts = []
        for g in GROUPS:
            s = result["scores"]
            hybrid = (mean(s["HYBRID"].recall[g]), mean(s["HYBRID"].reciprocal_rank[g]))
            best = [max(mean(s[m].recall[g]) for m in ("SEMANTIC", "KEYWORD"))]
            best.append(max(mean(s[m].reciprocal_rank[g]) for m in ("SEMANTIC", "KEYWORD")))
            ok = [h > b for h, b in zip(hybrid, best)]
            tie = [h == b for h, b in zip(hybrid, best)]
            verdicts.append(
                f"{g}: R@10 {'beats' if ok[0] else 'ties' if tie[0] else 'MISSES'}, "
                f"MRR {'beats' if ok[1] else 'ties' if tie[1] else 'MISSES'}"
            )
        print(f"  {model:<9} " + "; ".join(verdicts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["minilm", "e5-small"], help="SPEK_EMBEDDING_MODEL values")
    parser.add_argument("--repeat", type=int, default=3, help="times each query is asked per mode, for latency")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "spek-benchmarks" / "search",
        help="where the corpus packages are kept between runs",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the embedding, per model")
    parser.add_argument("--details", type=Path, help="write every query's rank per mode and model here (JSON)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep each model's stack (database with the embedded corpus) here; a later run reuses it and only "
        "asks the queries, to compare ranking changes",
    )
    args = parser.parse_args()

    spec = json.loads(QUERIES_FILE.read_text(encoding="utf-8"))
    queries = spec["queries"]
    try:
        english, python_version = english_documents(args.cache, spec["english_pages"])
        russian, festvox_version = russian_documents(args.cache, spec["russian_sentences"])
    except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
        sys.exit(f"could not fetch the corpus (needs apt-get with package lists, and dpkg-deb): {e}")
    documents = english + russian
    counts = {g: sum(q["group"] == g for q in queries) for g in GROUPS}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"corpus: {len(english)} pages of python3.11-doc {python_version} (HTML), {len(russian)} Markdown parts of "
        f"Russian prose from festvox-ru {festvox_version} ({sum(d.key.startswith('aelita') for d in russian)} of Aelita) ({sum(len(d.content) for d in documents) / 2**20:.1f} MiB); "
        f"{len(queries)} queries ({', '.join(f'{g} {counts[g]}' for g in GROUPS)}); top {K}, kinds DOCUMENT; "
        f"latency: each query {args.repeat}x per mode over HTTP",
        flush=True,
    )
    results: dict[str, dict] = {}
    for model in args.models:
        try:
            results[model] = run_model(model, documents, queries, args)
        except Exception as e:  # any failure of the stack: say which, show what was measured, exit non-zero
            if results:
                print_table(results, counts)
            sys.exit(f"{model}: the stack failed: {e!r}")
        r = results[model]
        timing = (
            f"upload {r['upload_s']:.0f} s, upload + embedding {r['ingest_s']:.0f} s"
            if r["upload_s"] is not None
            else f"corpus reused from {args.data_dir / model}"
        )
        print(f"{model}: {r['passages']} passages; {timing}; load average {os.getloadavg()[0]:.2f}", flush=True)
        print_table({model: r}, counts, verdict=False)
        if args.details:
            details = [d for result in results.values() for d in result["details"]]
            args.details.write_text(json.dumps(details, ensure_ascii=False, indent=1))
    print_table(results, counts)


if __name__ == "__main__":
    main()
