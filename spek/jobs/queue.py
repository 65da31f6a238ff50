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
    ANSWER_MESSAGE = "answer_message"


# Chat answers have a queue and worker of their own: a question must not wait behind an hour of audio.
CHAT_FUNCTIONS = frozenset({JobFunction.ANSWER_MESSAGE})
CHAT_QUEUE_SUFFIX = ":chat"


def queue_name(settings: Settings, chat: bool) -> str:
    return settings.queue_name + (CHAT_QUEUE_SUFFIX if chat else "")


async def enqueue(queue: ArqRedis, function: JobFunction, job_id: uuid.UUID) -> None:
    """Queue the run of a Job row; the ARQ job takes the row's id, so one row is queued at most once."""
    name = queue.default_queue_name + (CHAT_QUEUE_SUFFIX if function in CHAT_FUNCTIONS else "")
    await queue.enqueue_job(function.value, str(job_id), _job_id=str(job_id), _queue_name=name)


async def enqueue_indexing(queue: ArqRedis, user_id: uuid.UUID) -> None:
    """Embed the user's new and changed search entries soon. At most one such job per user waits in the
    queue (its id is the user's); whatever one misses, the every-minute sweep picks up."""
    await queue.enqueue_job(JobFunction.INDEX_SEARCH.value, str(user_id), _job_id=f"index:{user_id}")


def worker_heartbeat_key(settings: Settings, chat: bool = False) -> str:
    """ARQ workers refresh this key every `health_check_interval` seconds."""
    return queue_name(settings, chat) + ":health-check"
