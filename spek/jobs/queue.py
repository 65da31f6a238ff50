"""The queue between the API and the workers: the job functions by name, and how to enqueue one.

The API enqueues by a `JobFunction`; the worker registers its functions under the same names
(`jobs/worker.py`), and a test checks that every name has a function. A new job kind adds a
member here and a function there.
"""

import enum
import uuid

from arq.connections import ArqRedis

from spek.settings import Settings


class JobFunction(enum.StrEnum):
    TRANSCRIBE_RECORDING = "transcribe_recording"
    PROCESS_DOCUMENT = "process_document"
    INDEX_SEARCH = "index_search_entries"
    MAKE_NOTE = "make_note"


async def enqueue(queue: ArqRedis, function: JobFunction, job_id: uuid.UUID) -> None:
    """Queue the run of a Job row; the ARQ job takes the row's id, so one row is queued at most once."""
    await queue.enqueue_job(function.value, str(job_id), _job_id=str(job_id))


async def enqueue_indexing(queue: ArqRedis, user_id: uuid.UUID) -> None:
    """Embed the user's new and changed search entries soon. At most one such job per user waits in the
    queue (its id is the user's); whatever one misses, the every-minute sweep picks up."""
    await queue.enqueue_job(JobFunction.INDEX_SEARCH.value, str(user_id), _job_id=f"index:{user_id}")


def worker_heartbeat_key(settings: Settings) -> str:
    """ARQ workers refresh this key every `health_check_interval` seconds."""
    return settings.queue_name + ":health-check"
