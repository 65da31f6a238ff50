"""Telegram: sign in from the Telegram WebApp's signed initData, and attach a Telegram identity (/link)."""

import strawberry

from graphql_schema.accounts import AuthPayload, User
from graphql_schema.context import Info
from spek.telegram import service


@strawberry.type
class TelegramMutation:
    @strawberry.mutation(
        description="Sign in from inside Telegram: the WebApp's `initData`, signed by Telegram with this server's bot "
        "token (HMAC-SHA256) and recent (SPEK_TELEGRAM_WEBAPP_MAX_AGE). The Telegram user's account, created on "
        "first contact as the bot does."
    )
    async def telegram_web_app_login(self, info: Info, init_data: str) -> AuthPayload:
        await info.context.limit("login_ip", info.context.client_address())
        settings = info.context.services.settings
        token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else None
        async with info.context.session() as session:
            result = await service.webapp_login(
                session, info.context.services.token_policy, token, init_data, settings.telegram_webapp_max_age_seconds
            )
            return AuthPayload.from_result(result)

    @strawberry.mutation(
        description="Attach the Telegram identity that asked the bot for this /link code (one use, 10 minutes) to "
        "the signed-in account: from then on the bot works in this account."
    )
    async def link_telegram(self, info: Info, code: str) -> User:
        await info.context.limit("login_ip", info.context.client_address())  # a code is a credential: no guessing
        async with info.context.signed_in() as (session, user):
            await service.redeem_link_code(session, info.context.services.redis, user, code)
            return User.from_model(user)
