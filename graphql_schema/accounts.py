from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from graphql_schema.context import Info
from graphql_schema.convert import from_row
from graphql_schema.transcripts import ExportLink
from spek import audit
from spek.accounts import deletion, service
from spek.accounts.models import User as UserModel
from spek.errors import Unauthenticated


@strawberry.type
class User:
    id: strawberry.ID
    email: str | None
    device_id: str | None
    display_name: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, user: UserModel) -> "User":
        return from_row(cls, user)


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: User

    @classmethod
    def from_result(cls, result: service.AuthResult) -> "AuthPayload":
        return from_row(cls, result, token_type="Bearer", user=User.from_model(result.user))


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    action: str = strawberry.field(description='e.g. "recording.upload", "segment.update", "chat.ask"')
    target_type: str
    target_id: strawberry.ID | None
    details: JSON | None = strawberry.field(description="what changed (e.g. old and new values), when recorded")
    at: datetime

    @classmethod
    def from_model(cls, entry: audit.AuditEvent) -> "AuditEntry":
        return from_row(cls, entry)


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: Info) -> User:
        async with info.context.signed_in() as (_, user):
            return User.from_model(user)

    @strawberry.field(description="What the signed-in user did, newest first.")
    async def audit_log(self, info: Info, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
        async with info.context.signed_in() as (session, user):
            return [AuditEntry.from_model(entry) for entry in await audit.entries_of(session, user.id, limit, offset)]


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Create an account with email and password (at least 8 characters).")
    async def register(self, info: Info, email: str, password: str, display_name: str | None = None) -> AuthPayload:
        await info.context.limit("signup_ip", info.context.client_address())
        async with info.context.session() as session:
            policy = info.context.services.token_policy
            return AuthPayload.from_result(await service.register(session, policy, email, password, display_name))

    @strawberry.mutation
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        await info.context.limit("login_ip", info.context.client_address())
        # Only failures count against the account; once it has too many, even the right password waits.
        limits, account = info.context.services.rate_limits, email.strip().casefold()
        await limits.check("login_account", account)
        async with info.context.session() as session:
            try:
                result = await service.login(session, info.context.services.token_policy, email, password)
            except Unauthenticated:
                await limits.hit("login_account", account)
                raise
            return AuthPayload.from_result(result)

    @strawberry.mutation(description="Sign in a mobile device by its random device id, creating its account once.")
    async def register_device(self, info: Info, device_id: str) -> AuthPayload:
        await info.context.limit("signup_ip", info.context.client_address())
        async with info.context.session() as session:
            return AuthPayload.from_result(
                await service.register_device(session, info.context.services.token_policy, device_id)
            )

    @strawberry.mutation(description="Trade a refresh token for a new pair; the old refresh token stops working.")
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        await info.context.limit("refresh_ip", info.context.client_address())
        async with info.context.session() as session:
            return AuthPayload.from_result(
                await service.refresh(session, info.context.services.token_policy, refresh_token)
            )

    @strawberry.mutation(
        description="Delete the signed-in account with everything it owns: recordings and their files, transcripts, "
        "documents, notes, notebooks, conversations, search entries, tokens and its audit trail. An account "
        "with a password must give it again."
    )
    async def delete_account(self, info: Info, password: str | None = None) -> bool:
        services = info.context.services
        async with info.context.signed_in() as (session, user):
            return await deletion.delete_account(
                session, services.redis, services.storage, services.callers, user, password
            )

    @strawberry.mutation(
        description="A signed, time-limited link to a ZIP of everything the caller owns: a JSON file per kind of "
        "row and the original recordings and documents."
    )
    async def export_my_data(self, info: Info) -> ExportLink:
        async with info.context.signed_in() as (_, user):
            token, expires_at = info.context.services.links.issue("account", user.id, user.id)
        return ExportLink(
            url=info.context.absolute_url(f"/files/account/{user.id}?token={token}"),
            filename=f"spek-export-{expires_at:%Y-%m-%d}.zip",
            content_type="application/zip",
            expires_at=expires_at,
        )

    @strawberry.mutation(description="End the sign-in this refresh token belongs to. False if it was not live.")
    async def logout(self, info: Info, refresh_token: str) -> bool:
        async with info.context.session() as session:
            return await service.logout(session, refresh_token)
