"""Prometheus metrics for the API."""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()

GRAPHQL_REQUESTS = Counter("spek_graphql_requests_total", "GraphQL operations served", ["operation", "type"])
GRAPHQL_LATENCY = Histogram(
    "spek_graphql_request_duration_seconds",
    "Time to execute a GraphQL operation",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRAPHQL_ERRORS = Counter("spek_graphql_errors_total", "GraphQL errors by error code", ["code"])
# Read from the database and Redis at each scrape: every API replica reports the same, whole picture.
JOBS = Gauge("spek_jobs", "Jobs by kind and status", ["kind", "status"])
QUEUE_DEPTH = Gauge("spek_queue_depth", "Jobs waiting in a queue (not yet taken by a worker)", ["queue"])
