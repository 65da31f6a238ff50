import json
import re
from pathlib import Path

import httpx

from spek.embedded import wait_for_exit
from tests.support import Account, GraphQLClient, follow, free_port, poll_http, spek_process
from tests.test_documents import upload_document


def test_healthz(client: GraphQLClient) -> None:
    assert client.http.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_redis_and_worker(client: GraphQLClient) -> None:
    ready = client.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "worker": "ok"}


def test_readyz_names_the_missing_worker(stack) -> None:
    """An API whose queue has no worker answers 503 and says which part is failing."""
    port = free_port()
    api = spek_process("serve", {**stack.env, "SPEK_PORT": str(port), "SPEK_QUEUE_NAME": "spek:queue-without-workers"})
    try:
        response = poll_http(f"http://127.0.0.1:{port}/readyz", lambda r: True, api)
        assert response.status_code == 503
        body = response.json()
        assert body["failing"] == ["worker"]
        assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
        assert body["checks"]["worker"].startswith("failing")
    finally:
        api.terminate()
        wait_for_exit(api, 20)


def test_metrics_count_operations_and_error_codes(client: GraphQLClient, alice: Account) -> None:
    client.data("{ notebooks { id } }", token=alice.access_token)
    client.execute("{ notebooks { id } }")
    text = client.http.get("/metrics").text
    assert 'spek_graphql_requests_total{operation="notebooks",type="query"}' in text
    assert 'spek_graphql_request_duration_seconds_bucket{le="0.05",operation="notebooks",type="query"}' in text
    assert 'spek_graphql_errors_total{code="UNAUTHENTICATED"}' in text


def test_metric_series_stay_bounded_whatever_clients_send(client: GraphQLClient, alice: Account) -> None:
    fields = ["me { id }", "notebooks { id }", "recordings { id }", "notes { id }", "documents { id }"]
    for n in range(len(fields)):
        for m in range(n + 1, len(fields)):
            client.data(f"query Q{n}x{m} {{ {fields[n]} {fields[m]} }}", token=alice.access_token)
    operations = set(re.findall(r'spek_graphql_requests_total\{operation="([^"]*)"', client.http.get("/metrics").text))
    assert "several" in operations and not any("," in op or op.startswith("Q") for op in operations)


def test_metrics_report_jobs_and_queues(client: GraphQLClient, alice: Account, stack) -> None:
    body = upload_document(client, alice, "note.md", b"# Note\n\nThe ferry timetable changes in May.")
    follow(stack, alice.access_token, body["data"]["uploadDocument"]["job"]["id"])
    text = client.http.get("/metrics").text
    assert re.search(r'spek_jobs\{kind="document",status="COMPLETED"\} [1-9]', text)
    # How long the workers took, read from Redis at the scrape: per attempt and per stage.
    assert re.search(r'spek_job_attempt_duration_seconds_count\{kind="document",outcome="completed"\} [1-9]', text)
    assert re.search(
        r'spek_job_stage_duration_seconds_bucket\{kind="document",le="\+Inf",stage="embedding"\} [1-9]', text
    )
    assert 'spek_queue_depth{queue="spek:queue"}' in text and 'spek_queue_depth{queue="spek:queue:chat"}' in text


def test_metrics_can_require_a_token(stack) -> None:
    port = free_port()
    api = spek_process("serve", {**stack.env, "SPEK_PORT": str(port), "SPEK_METRICS_TOKEN": "scrape-me"})
    try:
        refused = poll_http(f"http://127.0.0.1:{port}/metrics", lambda r: True, api)
        assert refused.status_code == 401
        allowed = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert allowed.status_code == 200 and "spek_jobs" in allowed.text
        wrong = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    finally:
        api.terminate()
        wait_for_exit(api, 20)


def test_worker_check_command(stack) -> None:
    alive = spek_process("worker", stack.env, args_extra=["--check"])
    assert alive.wait(30) == 0
    none = spek_process("worker", {**stack.env, "SPEK_QUEUE_NAME": "spek:nobody-here"}, args_extra=["--check"])
    assert none.wait(30) == 1


def test_the_grafana_dashboard_asks_for_metrics_spek_has(client: GraphQLClient, alice: Account) -> None:
    dashboard = json.loads((Path(__file__).parents[1] / "deploy" / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    client.data("{ me { id } }", token=alice.access_token)
    exposed = client.http.get("/metrics").text
    names = {name for expression in expressions for name in re.findall(r"\bspek_[a-z_]+", expression)}
    assert len(names) >= 6 and [name for name in sorted(names) if name not in exposed] == []
