"""Conversations and messages: asking, stopping, regenerating, renaming, deleting; following an answer.

`send_message` answers at once with the assistant message (STREAMING) and queues a chat job; a worker
writes the answer (spek.chat.pipeline) into the message's event stream and row.
"""

import uuid
from collections.abc import AsyncIterator

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from spek import audit
from spek.accounts.models import User
from spek.chat import events
from spek.chat.models import Conversation, Message, MessageStatus
from spek.db import utcnow
from spek.errors import BadUserInput, Conflict, NotFound
from spek.jobs import service as jobs
from spek.jobs.models import JobStatus
from spek.jobs.queue import JobFunction, enqueue
from spek.notebooks.models import Notebook

MAX_QUESTION_CHARACTERS = 4000
MAX_TITLE_CHARACTERS = 200
TITLE_FROM_QUESTION = 60  # characters of the first question that title a new conversation
CHAT_JOB = "chat"


def _stop_key(message_id: uuid.UUID) -> str:
    return f"chat:{message_id}:stop"


async def is_stopped(redis: Redis, message_id: uuid.UUID) -> bool:
    return bool(await redis.exists(_stop_key(message_id)))


def title_of(question: str) -> str:
    """A new conversation's title: the question's start, cut at a word."""
    words = " ".join(question.split())
    if len(words) <= TITLE_FROM_QUESTION:
        return words
    return words[:TITLE_FROM_QUESTION].rsplit(" ", 1)[0].rstrip(",;:") + "…"


async def get_conversation(session: AsyncSession, user: User, conversation_id: uuid.UUID) -> Conversation:
    query = (
        select(Conversation)
        .where(Conversation.id == conversation_id, Conversation.user_id == user.id)
        .options(selectinload(Conversation.messages))
        .execution_options(populate_existing=True)
    )
    conversation = (await session.execute(query)).scalar_one_or_none()
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} not found.")
    return conversation


async def list_conversations(session: AsyncSession, user: User) -> list[Conversation]:
    """The user's conversations, the most recently active first, each with its messages."""
    query = (
        select(Conversation)
        .where(Conversation.user_id == user.id)
        .options(selectinload(Conversation.messages))
        .order_by(Conversation.updated_at.desc())
    )
    return list((await session.execute(query)).scalars())


async def get_message(session: AsyncSession, user: User, message_id: uuid.UUID) -> Message:
    query = select(Message).where(Message.id == message_id, Message.user_id == user.id)
    message = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if message is None:
        raise NotFound(f"Message {message_id} not found.")
    return message


async def send_message(
    session: AsyncSession,
    queue: ArqRedis,
    user: User,
    content: str,
    conversation_id: uuid.UUID | None = None,
    notebook_id: uuid.UUID | None = None,
) -> Message:
    """Store the question and an empty assistant message (STREAMING), queue the answer; the latter."""
    question = content.strip()
    if not question:
        raise BadUserInput("Ask something: the message is empty.")
    if len(question) > MAX_QUESTION_CHARACTERS:
        raise BadUserInput(
            f"A message is at most {MAX_QUESTION_CHARACTERS} characters long (this one has {len(question)}); "
            "upload a long text as a document and ask about it instead."
        )
    if notebook_id is not None:
        owned = select(Notebook.id).where(Notebook.id == notebook_id, Notebook.user_id == user.id)
        if (await session.execute(owned)).first() is None:
            raise NotFound(f"Notebook {notebook_id} not found.")
    if conversation_id is None:
        conversation = Conversation(user_id=user.id, title=title_of(question))
        session.add(conversation)
        await session.flush()
    else:
        conversation = await get_conversation(session, user, conversation_id)
        if any(m.status is MessageStatus.STREAMING for m in conversation.messages):
            raise Conflict("The last answer is still being written: wait for it, or stop it first.")
    session.add(
        Message(
            conversation_id=conversation.id,
            user_id=user.id,
            role="user",
            content=question,
            status=MessageStatus.COMPLETED,
            citations=[],
        )
    )
    await session.flush()  # the question's created_at comes before the answer's
    answer = await _queue_answer(session, queue, user, conversation, notebook_id, "chat.ask")
    return await get_message(session, user, answer.id)


async def _queue_answer(
    session: AsyncSession,
    queue: ArqRedis,
    user: User,
    conversation: Conversation,
    notebook_id: uuid.UUID | None,
    action: str,
) -> Message:
    """Save an empty answer (STREAMING) with its job, audited as `action` in the same transaction; queue it."""
    job = await jobs.create_job(session, user, CHAT_JOB)
    answer = Message(
        conversation_id=conversation.id,
        user_id=user.id,
        role="assistant",
        content="",
        status=MessageStatus.STREAMING,
        citations=[],
        job_id=job.id,
        notebook_id=notebook_id,
    )
    session.add(answer)
    conversation.updated_at = utcnow()  # most recently active first
    await session.flush()
    audit.record(session, user.id, action, "conversation", conversation.id, message=str(answer.id))
    await session.commit()
    await enqueue(queue, JobFunction.ANSWER_MESSAGE, job.id)
    return answer


async def stop_message(session: AsyncSession, redis: ArqRedis, user: User, message_id: uuid.UUID) -> Message:
    """Stop writing the answer: it ends COMPLETED with what was written so far (nothing, if not started)."""
    message = await get_message(session, user, message_id)
    if message.role != "assistant":
        raise BadUserInput("Only an answer can be stopped; this is a question.")
    if message.status is not MessageStatus.STREAMING:
        return message  # finished meanwhile: stopping it again changes nothing
    await redis.set(_stop_key(message.id), "1", ex=events.RETENTION_SECONDS)
    job = await jobs.get_job(session, user, message.job_id) if message.job_id else None
    if job is not None and job.status is JobStatus.QUEUED:
        # No worker has it yet: end it here, and make sure none starts it.
        await jobs.cancel_job(session, redis, user, job.id)
        await finish(session, redis, message, await events.streamed_text(redis, message.id), [], None)
    audit.record(session, user.id, "chat.stop", "message", message.id)
    await session.commit()
    return message


async def finish(
    session: AsyncSession,
    redis: Redis,
    message: Message,
    content: str,
    citations: list[dict],
    error: str | None,
) -> None:
    """Save how the answer ended, then send the final event (done, the whole content and its citations)."""
    message.content, message.citations, message.error = content, citations, error
    message.status = MessageStatus.FAILED if error else MessageStatus.COMPLETED
    await session.commit()
    await events.append_done(redis, message.id, content, citations, error)


async def regenerate_message(session: AsyncSession, queue: ArqRedis, user: User, message_id: uuid.UUID) -> Message:
    """Answer the conversation's last question again: the last answer is replaced by a new one (STREAMING)."""
    message = await get_message(session, user, message_id)
    conversation = await get_conversation(session, user, message.conversation_id)
    if message.role != "assistant" or conversation.messages[-1].id != message.id:
        raise BadUserInput("Only the conversation's last answer can be regenerated.")
    if message.status is MessageStatus.STREAMING:
        raise Conflict("The answer is still being written: stop it first.")
    notebook_id = message.notebook_id
    await session.delete(message)
    answer = await _queue_answer(session, queue, user, conversation, notebook_id, "chat.regenerate")
    return await get_message(session, user, answer.id)


async def rename_conversation(
    session: AsyncSession, user: User, conversation_id: uuid.UUID, title: str
) -> Conversation:
    title = " ".join(title.split())
    if not title:
        raise BadUserInput("A conversation's title cannot be empty.")
    if len(title) > MAX_TITLE_CHARACTERS:
        raise BadUserInput(f"A conversation's title is at most {MAX_TITLE_CHARACTERS} characters long.")
    conversation = await get_conversation(session, user, conversation_id)
    conversation.title = title
    audit.record(session, user.id, "chat.rename", "conversation", conversation.id)
    await session.commit()
    return await get_conversation(session, user, conversation_id)


async def delete_conversation(session: AsyncSession, redis: Redis, user: User, conversation_id: uuid.UUID) -> bool:
    """Delete the conversation and its messages; an answer being written stops."""
    conversation = await get_conversation(session, user, conversation_id)
    for message in conversation.messages:
        if message.status is MessageStatus.STREAMING:
            await redis.set(_stop_key(message.id), "1", ex=events.RETENTION_SECONDS)
    await session.delete(conversation)
    audit.record(session, user.id, "chat.delete", "conversation", conversation_id)
    await session.commit()
    return True


async def follow_message(
    session: AsyncSession, redis: Redis, user: User, message_id: uuid.UUID, after: int
) -> AsyncIterator[events.ChatEvent]:
    """Check the user may see the message, then replay and follow its answer's events."""
    message = await get_message(session, user, message_id)
    await session.close()  # don't hold a connection while an answer is written
    if message.status is not MessageStatus.STREAMING and not await redis.exists(events.stream_key(message.id)):
        # A question, or an answer whose events have expired: the row says how it ended.
        yield events.ChatEvent(str(message.id), after + 1, "", True, message.content, message.citations, message.error)
        return
    async for event in events.follow(redis, message.id, after):
        yield event
