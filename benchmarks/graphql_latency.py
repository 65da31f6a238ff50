"""GraphQL latency under concurrent clients, against a real `spek up` (embedded PostgreSQL and Redis).

    .venv/bin/python -m benchmarks.graphql_latency [--clients 50] [--seconds 10]    (needs `wrk`: apt-get install wrk)

Prints p50/p95/p99 latency and throughput for a simple authenticated query (`me`) and a
notebook read, next to the SPEC target (p99 ≤ 50 ms with 50 concurrent clients).
"""

import argparse
import json
import os
import platform
import subprocess
import tempfile
import uuid
from pathlib import Path

import httpx

from benchmarks.stack import running_spek

TARGET_P99_MS = 50.0
QUERIES = {
    "me": "{ me { id email } }",
    "notebook": "query($id: ID!) { notebook(id: $id) { id title sections { id title } pages { id title tags } } }",
}


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
wrk.body = [[%s]]
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%f %%f %%f %%f %%d %%d\\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6), summary.errors.status, summary.requests))
end
"""


def load(base_url: str, token: str, body: str, clients: int, seconds: int) -> tuple[float, float, float, float]:
    """p50, p95, p99 (ms) and requests/s from wrk, which costs far less CPU than a Python client."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % (token, body))
        script.flush()
        out = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "-s", script.name, f"{base_url}/graphql"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    p50, p95, p99, rps, bad_status, total = (float(x) for x in out.split("RESULT")[1].split())
    assert bad_status == 0 and total > 0, out
    return p50, p95, p99, rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10, help="load duration per query")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data_dir, running_spek(Path(data_dir)) as base_url:
        http = httpx.Client(base_url=base_url)
        register = 'mutation($e: String!) { register(email: $e, password: "benchmark password") { accessToken } }'
        token = http.post(
            "/graphql", json={"query": register, "variables": {"e": f"bench-{uuid.uuid4().hex[:8]}@example.com"}}
        ).json()["data"]["register"]["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        create = 'mutation { createNotebook(title: "Bench") { id } }'
        notebook_id = http.post("/graphql", json={"query": create}, headers=headers).json()["data"]["createNotebook"][
            "id"
        ]
        for i in range(5):
            page = 'mutation($nb: ID!, $t: String!) { createPage(notebookId: $nb, title: $t, tags: ["a", "b"]) { id } }'
            http.post(
                "/graphql", json={"query": page, "variables": {"nb": notebook_id, "t": f"Page {i}"}}, headers=headers
            )

        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"{args.clients} concurrent connections (wrk), {args.seconds} s per query; one API process"
        )
        print(
            f"{'query':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'target p99':>11} {'p99 / target':>13}"
        )
        for name, query in QUERIES.items():
            body = json.dumps({"query": query, "variables": {"id": notebook_id} if "$id" in query else {}})
            check = http.post("/graphql", content=body, headers={**headers, "Content-Type": "application/json"}).json()
            assert not check.get("errors"), check
            load(base_url, token, body, args.clients, 2)  # warm-up
            p50, p95, p99, rps = load(base_url, token, body, args.clients, args.seconds)
            print(
                f"{name:<10} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {rps:>8.0f} {TARGET_P99_MS:>11.0f} {p99 / TARGET_P99_MS:>13.2f}"
            )


if __name__ == "__main__":
    main()
