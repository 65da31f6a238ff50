"""GraphQL overhead and latency under concurrent clients, against a real `spek up` (embedded PostgreSQL and Redis).

    .venv/bin/python -m benchmarks.graphql_latency [--api-workers N] [--seconds 10] [--rounds 3]
    (needs `wrk`: apt-get install wrk)

Side by side in one run: a plain Starlette endpoint (`/healthz`), the cheapest GraphQL query
(`{ __typename }`, no sign-in, no database) and a signed-in query (`me`: token, one Redis round trip
for the rate limits and the deletion marker, the caller's row kept by the process), each at 10
connections (req/s, p50/p95/p99) and at 50 connections (req/s, p99), with each one's throughput
against /healthz's and the targets: GraphQL overhead on a trivial query at most 2× a plain endpoint,
`me` p99 ≤ 50 ms at 50 clients (the SPEC's "simple query" target). The three are measured in rounds,
one after the other, and each figure is the median of its rounds.

The rate limits are raised for the run so that no request is refused (every one is still checked); a
run fails if any answer is not a 200 or any GraphQL error is counted on /metrics.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from benchmarks.stack import running_spek_process

TARGET_OVERHEAD = 2.0  # /healthz req/s ÷ `{ __typename }` req/s, at most
TARGET_P99_MS = 50.0  # `me` at 50 connections
UNLIMITED = {f"SPEK_RATE_{name}": "100000000/minute" for name in ("REQUESTS", "GLOBAL", "SIGNUP_IP")}

WRK_SCRIPT = """
wrk.method = "%(method)s"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
wrk.body = [[%(body)s]]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%f %%f %%f %%f %%d %%d %%d\\n", latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6),
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
"""


@dataclass
class Load:
    p50: float
    p95: float
    p99: float
    rps: float
    requests: int
    socket_errors: int
    api_cpu_ms: float | None = None  # CPU time of the API processes per request (less noisy than req/s)


@dataclass
class Target:
    name: str
    path: str
    method: str = "GET"
    body: str = ""
    signed_in: bool = False


def load(base_url: str, target: Target, token: str, clients: int, seconds: int) -> Load:
    """Latency percentiles (ms) and requests/s from wrk, which costs far less CPU than a Python client."""
    script_text = WRK_SCRIPT % {
        "method": target.method,
        "auth": f'wrk.headers["Authorization"] = "Bearer {token}"' if target.signed_in else "",
        "body": target.body,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(script_text)
        script.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "-s", script.name, f"{base_url}{target.path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    p50, p95, p99, rps, bad_status, socket_errors, total = (float(x) for x in out.split("RESULT")[1].split())
    assert bad_status == 0 and total > 0, out
    # Timeouts (no answer within wrk's 2 s) are counted, not fatal: on a loaded machine they happen.
    return Load(p50, p95, p99, rps, int(total), int(socket_errors))


def api_cpu_seconds(up: subprocess.Popen) -> Callable[[], float]:
    """CPU seconds used so far by `spek up`'s API: its `serve` child and that one's worker processes."""
    [serve] = [child for child in psutil.Process(up.pid).children() if child.cmdline()[-1:] == ["serve"]]

    def used() -> float:
        total = 0.0
        for process in [serve, *serve.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    return used


def graphql_errors(http: httpx.Client) -> float:
    """Every GraphQL error counted so far (all API processes)."""
    text = http.get("/metrics").text
    return sum(float(value) for value in re.findall(r"^spek_graphql_errors_total\{[^}]*\} (\S+)$", text, re.M))


def machine_line() -> str:
    load1, load5, _ = os.getloadavg()
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load1:.2f} / {load5:.2f} (1 / 5 min) before the run"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--api-workers", type=int, default=None, help="SPEK_API_WORKERS for the run (default: Spek's, the cores)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="load duration per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all three endpoints; medians are compared")
    parser.add_argument("--clients", type=int, nargs=2, default=[10, 50], metavar=("FEW", "MANY"))
    parser.add_argument("--base-url", help="measure an API that is already running instead of starting `spek up`")
    args = parser.parse_args()
    workers = args.api_workers or os.cpu_count() or 1
    settings = {**UNLIMITED, **({"SPEK_API_WORKERS": str(args.api_workers)} if args.api_workers else {})}

    print(machine_line())
    with tempfile.TemporaryDirectory() as data_dir:
        if args.base_url:
            run(args, args.base_url, workers, None)
        else:
            with running_spek_process(Path(data_dir), None, **settings) as (base_url, up):
                run(args, base_url, workers, api_cpu_seconds(up))


def run(args: argparse.Namespace, base_url: str, workers: int, cpu: Callable[[], float] | None) -> None:
    few, many = args.clients
    http = httpx.Client(base_url=base_url)
    register = 'mutation($e: String!) { register(email: $e, password: "benchmark password") { accessToken } }'
    token = http.post(
        "/graphql", json={"query": register, "variables": {"e": f"bench-{uuid.uuid4().hex[:8]}@example.com"}}
    ).json()["data"]["register"]["accessToken"]
    targets = [
        Target("/healthz", "/healthz"),
        Target("{ __typename }", "/graphql", "POST", json.dumps({"query": "{ __typename }"})),
        Target("me", "/graphql", "POST", json.dumps({"query": "{ me { id email } }"}), signed_in=True),
    ]
    print(
        f"{workers} API worker process(es) (SPEK_API_WORKERS); wrk, 1 thread, on the same cores; "
        f"{args.seconds} s per measurement after a 2 s warm-up, {args.rounds} rounds (medians below); rate limits "
        "raised, still checked"
    )
    for target in targets:
        if target.body:
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            check = http.post(target.path, content=target.body, headers=headers).json()
            assert not check.get("errors"), check
        load(base_url, target, token, few, 2)  # warm-up
    # Rounds of all three, one after the other: a machine whose speed drifts during the run (shared, or
    # throttled) weighs on each endpoint alike; the medians of the rounds are compared.
    rounds: dict[str, list[tuple[Load, Load]]] = {target.name: [] for target in targets}
    for round_number in range(1, args.rounds + 1):
        for target in targets:
            errors_before = graphql_errors(http)
            cpu_before = cpu() if cpu else 0.0
            at_few = load(base_url, target, token, few, args.seconds)
            if cpu:
                at_few.api_cpu_ms = 1000 * (cpu() - cpu_before) / at_few.requests
            at_many = load(base_url, target, token, many, args.seconds)
            assert graphql_errors(http) == errors_before, f"{target.name}: GraphQL errors during the run"
            rounds[target.name].append((at_few, at_many))
            print(
                f"round {round_number} {target.name:<16} {at_few.rps:>8.0f} req/s, p99 {at_few.p99:.1f} ms at {few}; "
                f"{at_many.rps:>8.0f} req/s, p99 {at_many.p99:.1f} ms at {many}"
            )
    results = {
        name: (median_load([r[0] for r in runs]), median_load([r[1] for r in runs])) for name, runs in rounds.items()
    }

    baseline = results["/healthz"][0].rps
    print(
        f"\n{'':<16} {'── ' + str(few) + ' connections ─────────────────':<44}{'── ' + str(many) + ' connections ──':<22}\n"
        f"{'endpoint':<16} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'÷ /healthz':>10} {'API CPU':>8} "
        f"{'req/s':>8} {'p99 ms':>8}   target"
    )
    targets_text = {
        "/healthz": "",
        "{ __typename }": f"÷ /healthz ≤ {TARGET_OVERHEAD:.0f}×",
        "me": f"p99 at {many} ≤ {TARGET_P99_MS:.0f} ms",
    }
    for name, (at_few, at_many) in results.items():
        slower = baseline / at_few.rps
        print(
            f"{name:<16} {at_few.rps:>8.0f} {at_few.p50:>8.1f} {at_few.p95:>8.1f} {at_few.p99:>8.1f} "
            f"{slower:>9.2f}× {cpu_text(at_few):>8} {at_many.rps:>8.0f} {at_many.p99:>8.1f}   {targets_text[name]}"
        )
    overhead = baseline / results["{ __typename }"][0].rps
    for name, (at_few, at_many) in results.items():
        if at_few.socket_errors or at_many.socket_errors:
            print(f"{name}: {at_few.socket_errors} / {at_many.socket_errors} socket errors or timeouts (> 2 s)")
    print(
        f"API CPU: milliseconds of CPU the API processes used per request at {few} connections (less noisy than req/s)"
    )
    me_p99 = results["me"][1].p99
    print(
        f"\n{{ __typename }}: {overhead:.2f}× fewer req/s than /healthz (target ≤ {TARGET_OVERHEAD:.0f}×: "
        f"{'met' if overhead <= TARGET_OVERHEAD else 'not met'}); "
        f"me p99 at {many} connections {me_p99:.1f} ms (target ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if me_p99 <= TARGET_P99_MS else 'not met'})"
    )


def median_load(loads: list[Load]) -> Load:
    """Each figure's median over the rounds."""
    cpus = [load.api_cpu_ms for load in loads if load.api_cpu_ms is not None]
    return Load(
        p50=statistics.median(load.p50 for load in loads),
        p95=statistics.median(load.p95 for load in loads),
        p99=statistics.median(load.p99 for load in loads),
        rps=statistics.median(load.rps for load in loads),
        requests=sum(load.requests for load in loads),
        socket_errors=sum(load.socket_errors for load in loads),
        api_cpu_ms=statistics.median(cpus) if cpus else None,
    )


def cpu_text(result: Load) -> str:
    return "-" if result.api_cpu_ms is None else f"{result.api_cpu_ms:.3f} ms"


if __name__ == "__main__":
    main()
