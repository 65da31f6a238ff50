"""Load: concurrent clients doing a realistic mix, with concurrent uploads, against a real `spek up`.

    .venv/bin/python -m benchmarks.load_mix [--clients 50] [--seconds 60] [--uploads 20]

Prepares one user per client (a notebook with pages, one short espeak-ng recording transcribed to
completion), then for `--seconds` runs `--clients` asyncio clients, each looping with no think time over a
weighted mix: `login`, `me`, the notebooks and recordings lists, a transcript with its segments and words,
`search` in each mode, and a `jobProgress` subscription over graphql-transport-ws until its first event.
At the start of the load `--uploads` recordings are uploaded at once; their jobs must complete.

Before the load, one of each operation alone, then semantic searches until every API process has loaded
the embedding model (each loads it on its first one). Prints, per operation, count, errors (a non-200
answer, any GraphQL error, or no answer), p50 and p99; the memory of the API (all its processes), each
worker and the embedded PostgreSQL (RSS summed, and PSS) and Redis: before the warm-up, warm, peak, after
the load and after the uploads; CPU seconds per process group during the load; and the uploads' outcome.
Exits 1 on any 5xx or INTERNAL error, or an upload that did not complete. `--log FILE` keeps Spek's log.
SPEK_NOTES is off unless `--notes`: the local LLM would queue a note job behind every transcript.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil
from websockets.asyncio.client import connect

from benchmarks.stack import running_spek_process
from tests.audio import speak
from tests.support import UNLIMITED

PASSWORD = "load test password"
SENTENCES = [
    "The quarterly budget review moves to Thursday afternoon.",
    "Please send the design document to the whole team before lunch.",
    "We agreed to hire two engineers for the mobile application.",
    "The server migration finished without any customer complaints.",
    "Remember to renew the conference booking for next spring.",
]
PAGES = [
    ("Budget", "# Budget\n\nThe marketing budget grows by ten percent; travel stays flat."),
    ("Hiring", "# Hiring\n\nTwo engineers for the mobile application, one designer in autumn."),
    ("Migration", "# Migration\n\nMove the database servers on Saturday night; customers get an email first."),
]
QUERIES = ["budget", "mobile engineers", "server migration customers", "conference booking", "design document"]

REGISTER = "mutation($e: String!, $p: String!) { register(email: $e, password: $p) { accessToken user { id } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken refreshToken user { id } } }"
CREATE_NOTEBOOK = 'mutation { createNotebook(title: "Work", description: "Load test") { id } }'
CREATE_PAGE = 'mutation($nb: ID!, $t: String!, $c: String!) { createPage(notebookId: $nb, title: $t, content: $c, tags: ["work"]) { id } }'
UPLOAD = (
    "mutation($file: Upload!, $input: RecordingInput) { uploadRecording(file: $file, input: $input) { id job { id } } }"
)
JOB = "query($id: ID!) { job(id: $id) { status error } }"
RECORDING = "query($id: ID!) { recording(id: $id) { transcript { id } } }"

# The mix: (operation, weight). Reads dominate, as in an app that is mostly looked at; a sign-in (Argon2id,
# about 0.2 s of CPU) is one operation in 25, far more often than an app with refresh tokens signs in.
MIX = [
    ("login", 1),
    ("me", 4),
    ("notebooks", 4),
    ("recordings", 4),
    ("transcript", 4),
    ("search KEYWORD", 2),
    ("search SEMANTIC", 2),
    ("search HYBRID", 2),
    ("subscribe", 2),
]
READS = {
    "me": ("{ me { id email displayName } }", lambda u: {}),
    "notebooks": (
        "{ notebooks { id title description sections { id title } pages { id title content tags updatedAt } } }",
        lambda u: {},
    ),
    "recordings": (
        "{ recordings(limit: 20) { id title filename format durationSeconds status createdAt job { id status progress } } }",
        lambda u: {},
    ),
    "transcript": (
        "query($id: ID!) { transcript(id: $id) { id language text speakers { label name } segments { id index start end speaker text words { text start end probability } } } }",
        lambda u: {"id": u.transcript_id},
    ),
}
SEARCH = "query($q: String!, $mode: SearchMode) { search(query: $q, mode: $mode, limit: 10) { kind id parentId title snippet score start end } }"
PROGRESS = "subscription($job: ID!) { jobProgress(jobId: $job) { seq status stage progress } }"


@dataclass
class User:
    email: str
    token: str = ""
    notebook_id: str = ""
    recording_id: str = ""
    transcript_id: str = ""
    job_id: str = ""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    server_errors: int = 0  # 5xx answers and INTERNAL errors
    samples: list[str] = field(default_factory=list)  # a few error messages, to print

    def record(self, op: str, seconds: float, error: str | None = None, server: bool = False) -> None:
        self.latencies[op].append(seconds)
        if error is not None:
            self.errors[op] += 1
            self.server_errors += server
            if len(self.samples) < 10:
                self.samples.append(f"{op}: {error[:300]}")


def graphql_error(response: httpx.Response) -> tuple[str | None, bool]:
    """What was wrong with an answer (None when nothing), and whether the server was at fault."""
    if response.status_code != 200:
        return f"HTTP {response.status_code} {response.text[:200]}", response.status_code >= 500
    errors = response.json().get("errors")
    if errors:
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        return json.dumps(errors)[:300], "INTERNAL" in codes
    return None, False


async def gql(http: httpx.AsyncClient, query: str, variables: dict, token: str = "") -> dict:
    """The data of a request that must succeed (preparation only)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), (response.status_code, body)
    return body["data"]


async def upload(http: httpx.AsyncClient, token: str, audio: bytes, title: str) -> httpx.Response:
    variables = {"file": None, "input": {"title": title, "language": "en"}}
    return await http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": UPLOAD, "variables": variables}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("memo.wav", audio, "audio/wav")},
        headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "1"},
    )


async def wait_for_jobs(http: httpx.AsyncClient, jobs: dict[str, str], timeout: float) -> dict[str, str]:
    """Poll each job (id → owner's token) until it is over; job id → final status (or TIMEOUT). Each second
    the jobs are asked in order up to the first one still running (the queue is first in, first out), so the
    polling itself adds next to nothing to the load."""
    done: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(jobs) and time.monotonic() < deadline:
        for job_id, token in jobs.items():
            if job_id in done:
                continue
            job = (await gql(http, JOB, {"id": job_id}, token))["job"]
            if job["status"] not in ("COMPLETED", "FAILED", "CANCELLED"):
                break
            done[job_id] = job["status"] if job["status"] == "COMPLETED" else f"{job['status']}: {job['error']}"
        await asyncio.sleep(1)
    return {job_id: done.get(job_id, "TIMEOUT") for job_id in jobs}


async def prepare(base_url: str, count: int, audio: list[bytes]) -> list[User]:
    """`count` users, each with a notebook of pages and one recording transcribed to completion."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        users = [User(f"load-{uuid.uuid4().hex[:10]}@example.com") for _ in range(count)]

        async def one(i: int, user: User) -> None:
            data = await gql(http, REGISTER, {"e": user.email, "p": PASSWORD})
            user.token = data["register"]["accessToken"]
            user.notebook_id = (await gql(http, CREATE_NOTEBOOK, {}, user.token))["createNotebook"]["id"]
            for title, content in PAGES:
                await gql(http, CREATE_PAGE, {"nb": user.notebook_id, "t": title, "c": content}, user.token)
            response = await upload(http, user.token, audio[i % len(audio)], f"Memo {i}")
            body = response.json()
            assert response.status_code == 200 and not body.get("errors"), body
            user.recording_id = body["data"]["uploadRecording"]["id"]
            user.job_id = body["data"]["uploadRecording"]["job"]["id"]

        semaphore = asyncio.Semaphore(8)

        async def limited(i: int, user: User) -> None:
            async with semaphore:
                await one(i, user)

        await asyncio.gather(*(limited(i, u) for i, u in enumerate(users)))
        outcome = await wait_for_jobs(http, {u.job_id: u.token for u in users}, timeout=60 * count)
        failed = {k: v for k, v in outcome.items() if v != "COMPLETED"}
        assert not failed, f"preparation: {len(failed)} transcriptions did not complete: {failed}"
        for user in users:
            data = await gql(http, RECORDING, {"id": user.recording_id}, user.token)
            user.transcript_id = data["recording"]["transcript"]["id"]
        return users


async def operation(op: str, http: httpx.AsyncClient, ws_url: str, user: User, stats: Stats) -> None:
    started = time.perf_counter()
    error: str | None = None
    server = False
    try:
        if op == "subscribe":
            async with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=30) as ws:
                await ws.send(
                    json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {user.token}"}})
                )
                ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if ack["type"] != "connection_ack":
                    error = f"no ack: {ack}"
                else:
                    payload = {"query": PROGRESS, "variables": {"job": user.job_id}}
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if message["type"] != "next" or message["payload"].get("errors"):
                        error = f"first message: {message}"
                        server = "INTERNAL" in json.dumps(message)
                    else:
                        await ws.send(json.dumps({"id": "1", "type": "complete"}))
        else:
            headers = {"Authorization": f"Bearer {user.token}"}
            if op == "login":
                body = {"query": LOGIN, "variables": {"e": user.email, "p": PASSWORD}}
                headers = {}
            elif op.startswith("search "):
                body = {"query": SEARCH, "variables": {"q": random.choice(QUERIES), "mode": op.split()[1]}}
            else:
                query, variables = READS[op]
                body = {"query": query, "variables": variables(user)}
            response = await http.post("/graphql", json=body, headers=headers)
            error, server = graphql_error(response)
            if op == "login" and error is None:
                user.token = response.json()["data"]["login"]["accessToken"]
    except Exception as e:  # a timeout, a refused or dropped connection: the client got no answer
        error = f"{type(e).__name__}: {e}"
    stats.record(op, time.perf_counter() - started, error, server)


async def semantic_search(base_url: str, user: User) -> None:
    """One semantic search on a connection of its own (so that it may reach any of the API's processes)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        await http.post(
            "/graphql",
            json={"query": SEARCH, "variables": {"q": QUERIES[0], "mode": "SEMANTIC"}},
            headers={"Authorization": f"Bearer {user.token}"},
        )


async def client(base_url: str, user: User, stats: Stats, until: float, seed: int) -> None:
    rng = random.Random(seed)
    ops, weights = zip(*MIX)
    ws_url = base_url.replace("http://", "ws://") + "/graphql"
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while time.monotonic() < until:
            await operation(rng.choices(ops, weights)[0], http, ws_url, user, stats)


@dataclass
class UploadOutcome:
    errors: int = 0
    statuses: dict[str, str] = field(default_factory=dict)
    accepted_s: list[float] = field(default_factory=list)  # each upload's request time
    all_completed_s: float | None = None  # from the first upload's start to the last COMPLETED
    samples: list[str] = field(default_factory=list)


async def uploads(base_url: str, users: list[User], count: int, audio: bytes, outcome: UploadOutcome) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as http:
        started = time.monotonic()

        async def one(i: int) -> tuple[str, str] | None:
            user = users[i % len(users)]
            t0 = time.perf_counter()
            try:
                response = await upload(http, user.token, audio, f"Load upload {i}")
                error, _ = graphql_error(response)
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            outcome.accepted_s.append(time.perf_counter() - t0)
            if error is not None:
                outcome.errors += 1
                outcome.samples.append(error[:300])
                return None
            return response.json()["data"]["uploadRecording"]["job"]["id"], user.token

        jobs = dict(job for job in await asyncio.gather(*(one(i) for i in range(count))) if job is not None)
        outcome.statuses = await wait_for_jobs(http, jobs, timeout=1800)
        if all(s == "COMPLETED" for s in outcome.statuses.values()) and outcome.errors == 0:
            outcome.all_completed_s = time.monotonic() - started


GROUPS = ("API (spek serve)", "worker", "chat worker", "postgres", "redis")


def spek_processes(up: psutil.Process, data_dir: Path) -> dict[str, list[psutil.Process]]:
    """The API (with its worker processes when SPEK_API_WORKERS > 1), the workers, and the embedded servers
    (PostgreSQL and Redis daemonize: they are not in `spek up`'s tree), looked up afresh each time."""
    groups: dict[str, list[psutil.Process]] = defaultdict(list)
    redis_port = None
    for p in up.children():
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.cmdline())
            tree = [p, *p.children(recursive=True)]
            if "spek serve" in cmd:
                groups["API (spek serve)"] += tree
                redis_port = urlsplit(p.environ().get("REDIS_URL", "")).port
            elif "spek worker --chat" in cmd:
                groups["chat worker"] += tree
            elif "spek worker" in cmd:
                groups["worker"] += tree
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or []).strip()  # redis-server pads its rewritten title with empty args
        if f"-D {data_dir}" in cmd:  # the postmaster, and its backends and helpers
            with contextlib.suppress(psutil.Error):
                groups["postgres"] += [p, *p.children(recursive=True)]
        elif redis_port and "redis-server" in cmd and cmd.endswith(f":{redis_port}"):
            groups["redis"].append(p)
    return groups


def memory_mb(up: psutil.Process, data_dir: Path) -> dict[str, float]:
    """MB resident per group (RSS summed over its processes), and PostgreSQL's PSS: its backends all map the
    same shared buffers, which summed RSS counts once per backend."""
    groups = spek_processes(up, data_dir)
    out = {}
    for name in GROUPS:
        total = pss = 0
        for p in groups.get(name, []):
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
                if name == "postgres":
                    pss += p.memory_full_info().pss
        out[name] = total / 2**20
        if name == "postgres":
            out["postgres (PSS)"] = pss / 2**20
    return out


def cpu_seconds(up: psutil.Process, data_dir: Path) -> dict[str, float]:
    """CPU time (user + system) used so far per group, and by this load generator (PostgreSQL backends that
    have exited are not counted)."""
    out = {}
    for name, processes in [*spek_processes(up, data_dir).items(), ("load generator", [psutil.Process()])]:
        total = 0.0
        for p in processes:
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                total += times.user + times.system
        out[name] = total
    return out


def api_processes(up: psutil.Process, data_dir: Path) -> list[psutil.Process]:
    """The processes that answer requests: `spek serve` itself, or its workers when it has any."""
    api = spek_processes(up, data_dir)["API (spek serve)"]
    return [p for p in api if "spawn_main" in " ".join(p.cmdline())] or api[:1]


async def sample_peak(up: psutil.Process, data_dir: Path, until: float, peak: dict[str, float]) -> None:
    while time.monotonic() < until:
        for name, mb in memory_mb(up, data_dir).items():
            peak[name] = max(peak.get(name, 0.0), mb)
        await asyncio.sleep(2)


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)


async def run(args: argparse.Namespace, base_url: str, up: psutil.Process, data_dir: Path, audio: list[bytes]) -> int:
    t0 = time.monotonic()
    users = await prepare(base_url, args.users or args.clients, audio)
    print(
        f"prepared {len(users)} users (notebook, {len(PAGES)} pages, one transcribed recording each) in {time.monotonic() - t0:.0f} s"
    )
    await asyncio.sleep(5)  # let the workers' follow-up jobs (page and transcript embeddings) settle

    before = memory_mb(up, data_dir)
    api = api_processes(up, data_dir)
    unloaded = {p.pid: p.memory_info().rss for p in api}
    # One of each operation first, alone: the API loads the embedding model on the first semantic search.
    warm_up = Stats()
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        for op, _ in MIX:
            await operation(op, http, base_url.replace("http://", "ws://") + "/graphql", users[0], warm_up)
    print(
        "warm-up, one of each alone (ms): "
        + ", ".join(f"{op} {1000 * v[0]:.0f}" for op, v in warm_up.latencies.items())
        + (f"; errors: {warm_up.samples}" if warm_up.samples else "")
    )
    # Every API process loads the model on its own first semantic search: new connections until each has.
    for _ in range(20):
        await asyncio.gather(*(semantic_search(base_url, users[0]) for _ in range(4 * len(api))))
        unloaded = {
            pid: rss for pid, rss in unloaded.items() if psutil.Process(pid).memory_info().rss < rss + 200 * 2**20
        }
        if not unloaded:
            break
    print(
        f"API processes: {len(api)}; the embedding model loaded in {len(api) - len(unloaded)} of them before the load"
    )
    warm = memory_mb(up, data_dir)
    cpu_before = cpu_seconds(up, data_dir)
    stats, outcome, peak = Stats(), UploadOutcome(), dict[str, float]()
    until = time.monotonic() + args.seconds
    started = time.monotonic()
    upload_task = asyncio.create_task(uploads(base_url, users, args.uploads, audio[0], outcome))
    await asyncio.gather(
        *(client(base_url, users[i % len(users)], stats, until, i) for i in range(args.clients)),
        sample_peak(up, data_dir, until, peak),
    )
    elapsed = time.monotonic() - started
    after_load = memory_mb(up, data_dir)
    cpu = {name: seconds - cpu_before.get(name, 0.0) for name, seconds in cpu_seconds(up, data_dir).items()}
    load_average = os.getloadavg()[0]
    await upload_task
    after = memory_mb(up, data_dir)

    print(f"\n{'operation':<17} {'count':>7} {'errors':>7} {'err %':>7} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}")
    everything: list[float] = []
    total_errors = 0
    for op, _ in MIX:
        values = stats.latencies.get(op, [])
        everything += values
        total_errors += stats.errors[op]
        if values:
            print(
                f"{op:<17} {len(values):>7} {stats.errors[op]:>7} {100 * stats.errors[op] / len(values):>7.2f} "
                f"{1000 * percentile(values, 50):>8.1f} {1000 * percentile(values, 99):>8.1f} {len(values) / elapsed:>7.1f}"
            )
    if everything:
        print(
            f"{'overall':<17} {len(everything):>7} {total_errors:>7} {100 * total_errors / len(everything):>7.2f} "
            f"{1000 * percentile(everything, 50):>8.1f} {1000 * percentile(everything, 99):>8.1f} {len(everything) / elapsed:>7.1f}"
        )
    print(f"5xx or INTERNAL: {stats.server_errors}")
    for sample in stats.samples:
        print(f"  e.g. {sample}")

    print(f"\n{'memory MB':<17} {'before':>8} {'warm':>8} {'peak':>8} {'after load':>11} {'after uploads':>14}")
    for name, mb in before.items():
        print(
            f"{name:<17} {mb:>8.0f} {warm[name]:>8.0f} {peak.get(name, 0):>8.0f} {after_load[name]:>11.0f} {after[name]:>14.0f}"
        )

    print(
        f"CPU seconds used during the {elapsed:.0f} s of load (of {elapsed * (os.cpu_count() or 1):.0f} available): "
        + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items())
        + f"; machine load average (1 min) at the end: {load_average:.1f}"
    )

    completed = sum(s == "COMPLETED" for s in outcome.statuses.values())
    print(
        f"\nuploads: {args.uploads} at once, {outcome.errors} refused or failed requests, {completed} transcripts COMPLETED; "
        f"request time p50 {percentile(outcome.accepted_s, 50):.2f} s, max {max(outcome.accepted_s):.2f} s; "
        + (
            f"all COMPLETED {outcome.all_completed_s:.0f} s after they started"
            if outcome.all_completed_s is not None
            else "NOT all completed"
        )
    )
    for sample in outcome.samples[:5]:
        print(f"  e.g. {sample}")
    for job_id, status in outcome.statuses.items():
        if status != "COMPLETED":
            print(f"  job {job_id}: {status}")
    return 1 if stats.server_errors or outcome.all_completed_s is None else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--users", type=int, default=0, help="users to prepare (default: one per client)")
    parser.add_argument("--notes", action="store_true", help="let the local LLM write a note of every transcript")
    parser.add_argument("--log", type=Path, help="append Spek's log (INFO and up) to this file")
    args = parser.parse_args()

    settings = {**UNLIMITED, "SPEK_NOTES": "true" if args.notes else "false"}
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; load generator on the same cores"
    )
    print(
        f"settings: {args.clients} clients, {args.seconds} s, {args.uploads} concurrent uploads, "
        f"{args.users or args.clients} users, SPEK_NOTES={settings['SPEK_NOTES']}, rate limits lifted, "
        "Whisper base int8 (BALANCED, language en), diarization on; mix " + ", ".join(f"{op} {w}" for op, w in MIX)
    )
    with tempfile.TemporaryDirectory() as scratch:
        audio = [speak(s, Path(scratch) / f"memo-{i}.wav").read_bytes() for i, s in enumerate(SENTENCES)]
        data_dir = Path(scratch) / "data"
        logging = {"log": args.log} if args.log else {}
        with running_spek_process(data_dir, **logging, **settings) as (base_url, up):
            code = asyncio.run(run(args, base_url, psutil.Process(up.pid), data_dir, audio))
    sys.exit(code)


if __name__ == "__main__":
    main()
