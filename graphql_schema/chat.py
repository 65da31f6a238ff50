"""Chat over the user's own material: the contract's types. Retrieval and generation land later."""

import enum
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from graphql_schema.context import Info
from graphql_schema.not_served import not_served
from graphql_schema.search import SearchHit


@strawberry.enum
class MessageStatus(enum.Enum):
    STREAMING = "STREAMING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@strawberry.type
class Message:
    id: strawberry.ID
    conversation_id: strawberry.ID
    role: str = strawberry.field(description='"user" | "assistant"')
    content: str
    status: MessageStatus
    citations: list[SearchHit]
    created_at: datetime


@strawberry.type
class Conversation:
    id: strawberry.ID
    title: str
    messages: list[Message]
    created_at: datetime


@strawberry.type
class ChatEvent:
    message_id: strawberry.ID
    seq: int = strawberry.field(description="1, 2, 3 ... no gaps")
    delta: str = strawberry.field(description='text added by this event ("" on the final event)')
    done: bool
    content: str | None = strawberry.field(description="full text, on the final event")
    citations: list[SearchHit] | None = strawberry.field(description="on the final event")
    error: str | None


@strawberry.type
class ChatQuery:
    @strawberry.field
    async def conversations(self, info: Info) -> list[Conversation]:
        not_served("conversations")

    @strawberry.field
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        not_served("conversation")


@strawberry.type
class ChatMutation:
    @strawberry.mutation(description="Returns the assistant message, status STREAMING.")
    async def send_message(self, info: Info, content: str, conversation_id: strawberry.ID | None = None) -> Message:
        not_served("sendMessage")


@strawberry.type
class ChatSubscription:
    @strawberry.subscription(description="Same replay rule as jobProgress; completes after the event with done = true.")
    async def message_tokens(
        self, info: Info, message_id: strawberry.ID, after: int | None = None
    ) -> AsyncGenerator[ChatEvent, None]:
        not_served("messageTokens")
        yield  # pragma: no cover  (makes this an async generator, as subscriptions must be)
