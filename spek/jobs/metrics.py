"""How long jobs and their stages take, and how often they are retried: counted in Redis by the workers,
read by the API at each scrape of /metrics, so that every API replica reports what all workers did."""

import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import cast

import structlog
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger("spek.jobs")

KEY = "spek:metrics:jobs"
BUCKETS_SECONDS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, float("inf"))
ATTEMPT, STAGE, RETRY = "attempt", "stage", "retry"


@dataclass
class AttemptClock:
    """Times one attempt at a job (in one worker) and each stage it goes through."""

    kind: str
    began: float = field(default_factory=time.monotonic)
    stages: list[tuple[str, float]] = field(default_factory=list)  # (stage, seconds) of the stages done
    _stage: str | None = None
    _stage_began: float = 0.0

    def stage(self, name: str) -> None:
        if name == self._stage:
            return
        self._end_stage()
        self._stage, self._stage_began = name, time.monotonic()

    def _end_stage(self) -> None:
        if self._stage is not None:
            self.stages.append((self._stage, time.monotonic() - self._stage_began))
            self._stage = None

    def observations(self, outcome: str) -> list[tuple[str, tuple[str, str], float]]:
        """(metric, labels, seconds) for the whole attempt, which ended as `outcome`, and each stage."""
        self._end_stage()
        return [(ATTEMPT, (self.kind, outcome), time.monotonic() - self.began)] + [
            (STAGE, (self.kind, stage), seconds) for stage, seconds in self.stages
        ]


def _field(metric: str, labels: tuple[str, str], part: str) -> str:
    return "|".join((metric, *labels, part))


async def record(redis: Redis, observations: list[tuple[str, tuple[str, str], float]]) -> None:
    """Add observations to the shared histograms. Metrics never fail a job: a Redis error is only logged."""
    pipe = redis.pipeline(transaction=False)
    for metric, labels, seconds in observations:
        for bound in BUCKETS_SECONDS:
            if seconds <= bound:
                pipe.hincrby(KEY, _field(metric, labels, str(bound)), 1)
        pipe.hincrby(KEY, _field(metric, labels, "count"), 1)
        pipe.hincrbyfloat(KEY, _field(metric, labels, "sum"), seconds)
    try:
        await pipe.execute()
    except RedisError as e:
        log.warning("job.metrics_lost", error=repr(e))


async def record_retry(redis: Redis, kind: str) -> None:
    try:
        await cast(Awaitable[int], redis.hincrby(KEY, _field(RETRY, (kind, ""), "count"), 1))
    except RedisError as e:
        log.warning("job.metrics_lost", error=repr(e))


async def read(redis: Redis) -> list[Metric]:
    """The job histograms and the retry counter, as Prometheus metric families."""
    raw = await cast(Awaitable[dict[bytes | str, bytes | str]], redis.hgetall(KEY))
    values = {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}
    attempts = HistogramMetricFamily(
        "spek_job_attempt_duration_seconds",
        "Time one attempt at a job took in a worker, by kind and how it ended",
        labels=["kind", "outcome"],
    )
    stages = HistogramMetricFamily(
        "spek_job_stage_duration_seconds", "Time a job spent in each stage, by kind", labels=["kind", "stage"]
    )
    retries = CounterMetricFamily(
        "spek_job_retries", "Attempts put back in the queue after a transient failure", labels=["kind"]
    )
    series: dict[tuple[str, str, str], dict[str, float]] = {}
    for name, value in values.items():
        metric, first, second, part = name.split("|")
        series.setdefault((metric, first, second), {})[part] = value
    for (metric, first, second), parts in sorted(series.items()):
        if metric == RETRY:
            retries.add_metric([first], parts.get("count", 0.0))
            continue
        buckets = [
            ("+Inf" if bound == float("inf") else str(bound), parts.get(str(bound), 0.0)) for bound in BUCKETS_SECONDS
        ]
        family = attempts if metric == ATTEMPT else stages
        family.add_metric([first, second], buckets, parts.get("sum", 0.0))
    return [attempts, stages, retries]
