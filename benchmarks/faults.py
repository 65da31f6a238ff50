"""Faults in the middle of jobs, against a real `spek up` (embedded PostgreSQL and Redis).

    .venv/bin/python -m benchmarks.faults [--rounds 20] [--faults worker,redis,postgres,sigterm] [--seed 1]

Each round uploads a short recording and, at a random point of its transcription, does one of:
kill -9 of the worker, kill -9 of Redis, kill -9 of PostgreSQL, or SIGTERM of `spek up` (then starts it
again on the same data). Then it waits for the job to finish. It prints, per fault: jobs completed,
failed, lost (never finished) and run twice (two attempts both completed the work, from the workers'
`job.attempt_ended` log lines), how many faults came while the job was still unfinished (the rest
found it done), and how long those jobs took to finish after the fault.

Settings differ from the defaults in two ways, both to keep a round short: a 6 s job lease (a killed
worker's job is picked up again within 6 s instead of 30 s), and restarts judged over a 10 s window
(`spek up` gives up on a process that ends 5 times within it; 20 kills in a few minutes would
otherwise make it give up, which is what it should do with a process that really keeps crashing).
"""

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from benchmarks.stack import running_spek_process
from tests.audio import speak
from tests.support import UNLIMITED

FAULTS = ("worker", "redis", "postgres", "sigterm")
ROUND_TIMEOUT_SECONDS = 180.0
SETTINGS = {
    **UNLIMITED,
    "SPEK_NOTES": "false",
    "SPEK_LOG_JSON": "true",
    "SPEK_JOB_LEASE_SECONDS": "6",
    "SPEK_JOB_RETRY_BACKOFF_SECONDS": "1",
    "SPEK_RESTART_WINDOW_SECONDS": "10",
    "SPEK_ACCESS_TOKEN_TTL": "86400",  # one sign-in for the whole run
}
REGISTER = 'mutation($e: String!) { register(email: $e, password: "fault suite password") { accessToken } }'
UPLOAD = (
    "mutation($file: Upload!, $input: RecordingInput) { uploadRecording(file: $file, input: $input) { job { id } } }"
)
JOB = "query($id: ID!) { job(id: $id) { status stage attempts error } }"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


class Spek:
    """`spek up` on one data dir, stopped and started again at will."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir, self.log = data_dir, log
        self._running: contextlib.ExitStack | None = None
        self.base_url = ""
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._running = contextlib.ExitStack()
        self.base_url, self.process = self._running.enter_context(
            running_spek_process(self.data_dir, self.log, **SETTINGS)
        )

    def stop(self) -> None:
        """SIGTERM, and wait for everything to stop."""
        if self._running is not None:
            self._running.close()
            self._running = None

    def pid(self, what: str) -> int:
        if what == "postgres":
            return int((self.data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[0])
        if what == "redis":
            registry = json.loads((self.data_dir / "redis" / "spek.rdb.settings").read_text())
            return int(Path(registry["pidfile"]).read_text().strip())
        assert self.process is not None
        deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
        while True:  # the last one killed may not be replaced yet, or not yet reaped (a zombie)
            for child in psutil.Process(self.process.pid).children():
                with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                    if child.status() != psutil.STATUS_ZOMBIE and child.cmdline()[-1:] == ["worker"]:
                        return child.pid
            if time.monotonic() > deadline:
                raise TimeoutError("spek up has no worker")
            time.sleep(0.1)


@dataclass
class Outcome:
    fault: str
    job_id: str
    delay: float  # seconds from the upload to the fault
    status: str = "lost"
    error: str | None = None
    recovery: float | None = None  # seconds from the fault until the job finished
    mid_job: bool = False  # the job had not finished when the fault came


@dataclass
class Client:
    spek: Spek
    token: str = ""
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def post(self, **request: object) -> dict:
        """The `data` of a GraphQL request, asked again until the API answers: during a fault it may be
        restarting, or say UNAVAILABLE."""
        deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
        while True:
            try:
                body = self.http.post(
                    f"{self.spek.base_url}/graphql",
                    headers={"X-GraphQL-Preflight": "1"}
                    | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
                    **request,  # type: ignore[arg-type]
                ).json()
                codes = {error.get("extensions", {}).get("code") for error in body.get("errors") or []}
                if "UNAVAILABLE" not in codes:
                    assert not codes, body
                    return body["data"]
            except (httpx.TransportError, json.JSONDecodeError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API did not answer for {ROUND_TIMEOUT_SECONDS:.0f} s")
            time.sleep(0.2)

    def graphql(self, query: str, variables: dict) -> dict:
        return self.post(json={"query": query, "variables": variables})

    def upload(self, audio: Path) -> str:
        operations = {"query": UPLOAD, "variables": {"file": None, "input": {"language": "en", "quality": "FAST"}}}
        data = self.post(
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (audio.name, audio.read_bytes(), "audio/wav")},
        )
        return data["uploadRecording"]["job"]["id"]

    def wait(self, job_id: str, timeout: float = ROUND_TIMEOUT_SECONDS) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.graphql(JOB, {"id": job_id})["job"]
            if job["status"] in TERMINAL or time.monotonic() > deadline:
                return job
            time.sleep(0.2)


def fault(spek: Spek, what: str) -> None:
    if what == "sigterm":
        spek.stop()
        spek.start()
    else:
        psutil.Process(spek.pid(what)).kill()


def completed_attempts(log: Path) -> Counter[str]:
    """Per job, how many attempts ran its work to completion (from the workers' JSON log lines)."""
    counts: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if '"job.attempt_ended"' in line:
            with contextlib.suppress(json.JSONDecodeError):
                entry = json.loads(line)
                if entry.get("outcome") == "completed":
                    counts[entry["job_id"]] += 1
    return counts


def run_rounds(
    spek: Spek, audio: Path, faults: list[str], rounds: int, chance: random.Random
) -> tuple[list[Outcome], float]:
    """Every round's outcome, and how long one undisturbed job took."""
    client = Client(spek)
    client.token = client.graphql(REGISTER, {"e": "faults@example.com"})["register"]["accessToken"]
    assert client.wait(client.upload(audio))["status"] == "COMPLETED"  # warm-up: the worker loads its models
    started = time.monotonic()  # then how long one job takes, to place the faults within it
    assert client.wait(client.upload(audio))["status"] == "COMPLETED"
    job_seconds = time.monotonic() - started

    outcomes: list[Outcome] = []
    for what in faults:
        for number in range(rounds):
            job_id = client.upload(audio)
            outcome = Outcome(what, job_id, chance.uniform(0.0, job_seconds))
            time.sleep(outcome.delay)
            outcome.mid_job = client.graphql(JOB, {"id": job_id})["job"]["status"] not in TERMINAL
            fault(spek, what)
            hit = time.monotonic()
            job = client.wait(job_id)
            if job["status"] in TERMINAL:
                outcome.status, outcome.error = job["status"].lower(), job["error"]
                outcome.recovery = time.monotonic() - hit
            outcomes.append(outcome)
            print(f"{what} {number + 1}/{rounds}: {outcome.status} {outcome.error or ''}", flush=True)
    for outcome in outcomes:  # a last look at what had not finished
        if outcome.status == "lost":
            job = client.wait(outcome.job_id, timeout=60)
            if job["status"] in TERMINAL:
                outcome.status, outcome.error = f"{job['status'].lower()} (late)", job["error"]
    return outcomes, job_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="rounds per fault")
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    faults = args.faults.split(",")
    assert set(faults) <= set(FAULTS), f"faults are {FAULTS}"
    chance = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as scratch:
        data_dir, log = Path(scratch) / "data", Path(scratch) / "up.log"
        audio = speak(
            "The ferry leaves at nine. Bring the tickets and the map of the harbour.", Path(scratch) / "a.wav"
        )
        spek = Spek(data_dir, log)
        spek.start()
        try:
            outcomes, job_seconds = run_rounds(spek, audio, faults, args.rounds, chance)
        finally:
            spek.stop()
        twice = {job_id for job_id, count in completed_attempts(log).items() if count > 1}

    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"a {job_seconds:.1f} s job (FAST, {audio.name}), faults at a uniformly random point of it; seed {args.seed}"
    )
    print(
        f"{'fault':<10} {'rounds':>6} {'mid-job':>7} {'completed':>9} {'failed':>6} {'lost':>5} {'run twice':>9} {'recovery p50 s':>15} {'max s':>6}"
    )
    for what in faults:
        mine = [o for o in outcomes if o.fault == what]
        recoveries = [o.recovery for o in mine if o.recovery is not None and o.mid_job]
        print(
            f"{what:<10} {len(mine):>6} {sum(o.mid_job for o in mine):>7} {sum(o.status == 'completed' for o in mine):>9} "
            f"{sum(o.status.startswith('failed') for o in mine):>6} {sum(o.status == 'lost' for o in mine):>5} "
            f"{sum(o.job_id in twice for o in mine):>9} "
            f"{statistics.median(recoveries) if recoveries else float('nan'):>15.1f} "
            f"{max(recoveries) if recoveries else float('nan'):>6.1f}"
        )
    for o in outcomes:
        if o.status != "completed":
            print(f"  {o.fault} job {o.job_id}: {o.status} after a fault at {o.delay:.1f} s: {o.error}")


if __name__ == "__main__":
    main()
