"""Chat over the user's own material: conversations, messages, and answers streamed from workers."""

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from graphql_schema.search import SearchHit
from spek.chat import events, models, service
from spek.chat.answer import restored
from spek.chat.models import MessageStatus
from spek.ids import parse_id

# The core's enum, registered as the contract's MessageStatus (strawberry.enum marks the class itself).
strawberry.enum(MessageStatus)


def _citations(stored: list[dict] | None) -> list[SearchHit]:
    return [SearchHit.from_hit(restored(citation)) for citation in stored or []]


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    role: str = strawberry.field(description='"user" | "assistant"')
    content: str
    status: MessageStatus
    citations: list[SearchHit] = strawberry.field(description="the caller's passages the answer cites, as [n]")
    created_at: datetime
    error: str | None = strawberry.field(description="FAILED: why, for a person")
    notebook_id: strawberry.ID | None = strawberry.field(description="an answer: the notebook it drew on, if one")

    @classmethod
    def from_model(cls, message: models.Message) -> "Message":
        return from_row(cls, message, citations=_citations(message.citations))


@strawberry.type
class Conversation:
    id: strawberry.ID
    title: str
    messages: list[Message]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, conversation: models.Conversation) -> "Conversation":
        return from_row(cls, conversation, messages=[Message.from_model(m) for m in conversation.messages])


@strawberry.type
class ChatEvent:
    message_id: strawberry.ID
    seq: int = strawberry.field(description="1, 2, 3 ... no gaps")
    delta: str = strawberry.field(description='text added by this event ("" on the final event)')
    done: bool
    content: str | None = strawberry.field(description="full text, on the final event")
    citations: list[SearchHit] | None = strawberry.field(description="on the final event")
    error: str | None
    notice: str | None = strawberry.field(description="news while waiting, e.g. a rate limit; no text added")

    @classmethod
    def from_event(cls, event: events.ChatEvent) -> "ChatEvent":
        return from_row(cls, event, citations=_citations(event.citations) if event.done else None)


@strawberry.type
class ChatQuery:
    @strawberry.field(description="The caller's conversations, the most recently active first.")
    async def conversations(self, info: Info) -> list[Conversation]:
        async with info.context.signed_in() as (session, user):
            return [Conversation.from_model(c) for c in await service.list_conversations(session, user)]

    @strawberry.field
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        async with info.context.signed_in() as (session, user):
            return Conversation.from_model(await service.get_conversation(session, user, parse_id(id)))


@strawberry.type
class ChatMutation:
    @strawberry.mutation(
        description="Returns the assistant message, status STREAMING; follow it with messageTokens. A new "
        "conversation when conversationId is null; notebookId limits the sources to that notebook."
    )
    async def send_message(
        self,
        info: Info,
        content: str,
        conversation_id: strawberry.ID | None = None,
        notebook_id: strawberry.ID | None = None,
    ) -> Message:
        conversation = parse_id(conversation_id, "conversationId") if conversation_id is not None else None
        notebook = parse_id(notebook_id, "notebookId") if notebook_id is not None else None
        async with info.context.signed_in(limit="chat") as (session, user):
            message = await service.send_message(
                session, info.context.services.redis, user, content, conversation, notebook
            )
            return Message.from_model(message)

    @strawberry.mutation(description="Stop an answer being written: it ends COMPLETED with what it has so far.")
    async def stop_message(self, info: Info, id: strawberry.ID) -> Message:
        async with info.context.signed_in() as (session, user):
            message = await service.stop_message(session, info.context.services.redis, user, parse_id(id))
            return Message.from_model(message)

    @strawberry.mutation(description="Answer the last question again; returns the new answer (STREAMING).")
    async def regenerate_message(self, info: Info, id: strawberry.ID) -> Message:
        async with info.context.signed_in(limit="chat") as (session, user):
            message = await service.regenerate_message(session, info.context.services.redis, user, parse_id(id))
            return Message.from_model(message)

    @strawberry.mutation
    async def rename_conversation(self, info: Info, id: strawberry.ID, title: str) -> Conversation:
        async with info.context.signed_in() as (session, user):
            return Conversation.from_model(await service.rename_conversation(session, user, parse_id(id), title))

    @strawberry.mutation
    async def delete_conversation(self, info: Info, id: strawberry.ID) -> bool:
        async with info.context.signed_in() as (session, user):
            return await service.delete_conversation(session, info.context.services.redis, user, parse_id(id))


@strawberry.type
class ChatSubscription:
    @strawberry.subscription(description="Same replay rule as jobProgress; completes after the event with done = true.")
    async def message_tokens(
        self, info: Info, message_id: strawberry.ID, after: int | None = None
    ) -> AsyncGenerator[ChatEvent, None]:
        redis, message = info.context.services.redis, parse_id(message_id, "messageId")
        events = info.context.subscribed(lambda s, user: service.follow_message(s, redis, user, message, after or 0))
        async for event in events:
            yield ChatEvent.from_event(event)
