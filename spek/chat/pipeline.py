"""The chat job a worker runs for one answer: retrieving → generating, streamed into `chat:<message id>`.

Deltas go out in small batches (every FLUSH_SECONDS or FLUSH_DELTAS), so a client sees the answer grow
without an event per token. The answer ends COMPLETED with its checked citations — also when the user
stops it — or FAILED with an error a person can read; never left STREAMING: a worker that dies mid-answer
leaves a job that the next worker fails (a client has seen part of the answer, which cannot be taken
back), one that dies before the first delta is simply answered again.
"""

import threading
import time
import uuid
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass

import anyio
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.accounts.models import User
from spek.chat import answer, events, retrieval
from spek.chat.models import Message, MessageStatus
from spek.chat.service import finish, is_stopped
from spek.embeddings import Embedder
from spek.jobs import service as jobs
from spek.jobs.models import Job, JobStatus
from spek.jobs.runner import begin_stage, run_job
from spek.llm import LLM, ChatMessage, LLMError, LLMUnavailable, RateLimited
from spek.search.query_embedder import QueryEmbedder

FLUSH_SECONDS = 0.1
FLUSH_DELTAS = 8
MAX_ANSWER_TOKENS = 600
# A provider's 429 (Gemini's client does not retry it in a stream): wait 2, 4, 8 s (or what the provider
# asks for, up to a minute), telling the client in a notice event each time.
RATE_LIMIT_RETRIES = 3
RATE_LIMIT_BACKOFF_SECONDS = 2.0
MAX_RATE_LIMIT_WAIT_SECONDS = 60.0


@dataclass
class ChatTools:
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    llm: Callable[[], LLM]
    embedder: Callable[[], Embedder]
    stopping: threading.Event  # set when the worker is shutting down
    max_attempts: int = 3
    retry_backoff_seconds: float = 10.0
    timeout_seconds: float = 180.0
    sources_characters: int = answer.REMOTE_SOURCES_CHARACTERS  # of the sources' text in the prompt


class AnswerFailed(Exception):
    """The answer cannot be written; the message says why, for a person."""


async def answer_message(tools: ChatTools, job_id: uuid.UUID) -> None:
    """Run the job once; RetryLater or WorkerStopping tell the queue to run it again."""

    async def work(session: AsyncSession, job: Job) -> None:
        message = await _message_of(session, job)
        if message is None or message.status is not MessageStatus.STREAMING:
            # Deleted, or stopped before it began: nothing to write.
            await jobs.report(session, tools.redis, job, status=JobStatus.COMPLETED, message="nothing to answer")
            return
        await _answer(tools, session, job, message)

    async def failed(session: AsyncSession, job: Job) -> None:
        message = await _message_of(session, job)
        if message is not None and message.status is MessageStatus.STREAMING:
            error = (job.error or "the answer failed").removeprefix("Answering failed: ")
            await finish(session, tools.redis, message, await events.streamed_text(tools.redis, message.id), [], error)

    await run_job(tools, job_id, "Answering", work, failed)


async def _message_of(session: AsyncSession, job: Job) -> Message | None:
    query = select(Message).where(Message.job_id == job.id).execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def _answer(tools: ChatTools, session: AsyncSession, job: Job, message: Message) -> None:
    if await events.streamed_text(tools.redis, message.id):
        raise AnswerFailed("the worker writing this answer stopped part-way; regenerate it to ask again")
    await begin_stage(tools, session, job, "retrieving", 0.1)
    user = await session.get_one(User, message.user_id)
    earlier = list(
        (
            await session.execute(
                select(Message)
                .where(Message.conversation_id == message.conversation_id, Message.created_at < message.created_at)
                .order_by(Message.created_at)
            )
        ).scalars()
    )
    questions = [m.content for m in earlier if m.role == "user"]
    if not questions:
        raise AnswerFailed("there is no question to answer")
    question = questions[-1]
    embed_query = QueryEmbedder(tools.embedder)
    query = retrieval.retrieval_query(question, questions[:-1])
    sources = await retrieval.retrieve(session, user, query, embed_query, message.notebook_id)
    await session.commit()  # end the read transaction: generating takes a while
    if not sources:
        said = answer.NOTHING_FOUND[answer.language_of(question)]
        await events.append_delta(tools.redis, message.id, said)
        await _complete(tools, session, job, message, said, [])
        return

    await begin_stage(tools, session, job, "generating", 0.3)
    history = [
        ChatMessage(m.role, m.content) for m in earlier[:-1] if m.content and m.status is MessageStatus.COMPLETED
    ]
    prompt, sources = answer.prompt(question, history, sources, tools.sources_characters)
    try:
        llm = await anyio.to_thread.run_sync(tools.llm)
        with anyio.fail_after(tools.timeout_seconds):
            written = await _stream_patiently(tools, message, llm, prompt)
    except (LLMError, LLMUnavailable) as error:
        raise AnswerFailed(str(error)) from None
    except TimeoutError:
        raise AnswerFailed(f"the model took longer than {tools.timeout_seconds:.0f} s to answer") from None
    content, cited = answer.checked_citations(written, [hit for hit, _ in sources])
    if not cited:
        cited = answer.attributed(content, sources)
    await _complete(tools, session, job, message, content, [answer.stored(hit) for hit in cited])


async def _stream_patiently(tools: ChatTools, message: Message, llm: LLM, prompt: list[ChatMessage]) -> str:
    """_stream, asked again after a rate limit that came before any of the answer was sent."""
    for attempt in range(1, RATE_LIMIT_RETRIES + 2):
        try:
            return await _stream(tools, message, llm, prompt)
        except RateLimited as error:
            if attempt > RATE_LIMIT_RETRIES or await events.streamed_text(tools.redis, message.id):
                raise
            delay = min(
                error.retry_after or RATE_LIMIT_BACKOFF_SECONDS * 2 ** (attempt - 1), MAX_RATE_LIMIT_WAIT_SECONDS
            )
            notice = (
                f"The model is busy (rate limited); trying again in {delay:.0f} s "
                f"(attempt {attempt + 1} of {RATE_LIMIT_RETRIES + 1})."
            )
            await events.append_notice(tools.redis, message.id, notice)
            await anyio.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


async def _stream(tools: ChatTools, message: Message, llm: LLM, prompt: list[ChatMessage]) -> str:
    """Send the model's answer as it comes, in batches; stop early when the user asks to. The text."""
    written: list[str] = []
    pending: list[str] = []
    flushed = time.monotonic()

    async def flush() -> None:
        nonlocal flushed
        if pending:
            await events.append_delta(tools.redis, message.id, "".join(pending))
            written.extend(pending)
            pending.clear()
        flushed = time.monotonic()

    if await is_stopped(tools.redis, message.id):
        return ""
    async with aclosing(llm.stream(prompt, max_tokens=MAX_ANSWER_TOKENS, temperature=0.2)) as deltas:
        async for delta in deltas:
            pending.append(delta)
            if len(pending) >= FLUSH_DELTAS or time.monotonic() - flushed >= FLUSH_SECONDS:
                await flush()
                if await is_stopped(tools.redis, message.id):
                    break
    await flush()
    return "".join(written)


async def _complete(
    tools: ChatTools, session: AsyncSession, job: Job, message: Message, content: str, citations: list[dict]
) -> None:
    current = await session.get(Message, message.id, populate_existing=True)
    # Deleted with its conversation meanwhile, or ended already (stopped before this worker took it).
    if current is not None and current.status is MessageStatus.STREAMING:
        await finish(session, tools.redis, current, content, citations, None)
    await jobs.report(session, tools.redis, job, status=JobStatus.COMPLETED, stage="generating", message="answered")
