from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from spek.ids import parse_id
from spek.jobs import events, models, service
from spek.jobs.models import JobStatus

# The core's enum, registered as the contract's JobStatus (strawberry.enum marks the class itself).
strawberry.enum(JobStatus)


@strawberry.type
class Job:
    id: strawberry.ID
    kind: str = strawberry.field(description='e.g. "transcription", "document", "chat"')
    status: JobStatus
    stage: str | None = strawberry.field(description='e.g. "decoding", "transcribing", "diarizing", "saving"')
    progress: float = strawberry.field(description="0.0 .. 1.0, never decreasing")
    eta_seconds: float | None
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_model(cls, job: models.Job) -> "Job":
        return from_row(cls, job)


@strawberry.type
class JobEvent:
    job_id: strawberry.ID
    seq: int = strawberry.field(description="1, 2, 3 ... per job, no gaps")
    status: JobStatus
    stage: str | None
    progress: float
    eta_seconds: float | None
    message: str | None
    error: str | None
    at: datetime

    @classmethod
    def from_event(cls, event: events.JobEvent) -> "JobEvent":
        return from_row(cls, event)


@strawberry.type
class JobsQuery:
    @strawberry.field
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        async with info.context.signed_in() as (session, user):
            return Job.from_model(await service.get_job(session, user, parse_id(id)))


@strawberry.type
class JobsMutation:
    @strawberry.mutation(description="Stop a queued or running job; it ends CANCELLED.")
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        async with info.context.signed_in() as (session, user):
            return Job.from_model(await service.cancel_job(session, info.context.services.redis, user, parse_id(id)))


@strawberry.type
class JobsSubscription:
    @strawberry.subscription(
        description="Replays every event with seq > after (default: from the first), then follows live; "
        "completes after the terminal event (COMPLETED, FAILED or CANCELLED)."
    )
    async def job_progress(
        self, info: Info, job_id: strawberry.ID, after: int | None = None
    ) -> AsyncGenerator[JobEvent, None]:
        redis, job = info.context.services.redis, parse_id(job_id, "jobId")
        async for event in info.context.subscribed(lambda s, user: service.follow_job(s, redis, user, job, after or 0)):
            yield JobEvent.from_event(event)
