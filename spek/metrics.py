"""Prometheus metrics for the API."""

from collections.abc import Iterable

from prometheus_client import Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily

disable_created_metrics()

GRAPHQL_REQUESTS = Counter("spek_graphql_requests_total", "GraphQL operations served", ["operation", "type"])
GRAPHQL_LATENCY = Histogram(
    "spek_graphql_request_duration_seconds",
    "Time to execute a GraphQL operation",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRAPHQL_ERRORS = Counter("spek_graphql_errors_total", "GraphQL errors by error code", ["code"])


# Read from the database and Redis at each scrape (see /metrics): every API replica and every API process
# reports the same, whole picture, once.
def jobs_family(counts: Iterable[tuple[str, str, int]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily("spek_jobs", "Jobs by kind and status", labels=["kind", "status"])
    for kind, status, count in counts:
        family.add_metric([kind, status], count)
    return family


def queue_depth_family(depths: Iterable[tuple[str, int]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "spek_queue_depth", "Jobs waiting in a queue (not yet taken by a worker)", labels=["queue"]
    )
    for queue, depth in depths:
        family.add_metric([queue], depth)
    return family
