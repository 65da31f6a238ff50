"""The bot process (`spek telegram`): aiogram's dispatcher over the services, long polling by default."""

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import Update
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response

from spek.db import create_engine, create_sessionmaker
from spek.ratelimits import RateLimits
from spek.settings import Settings
from spek.storage import Storage, create_storage
from telegram_bot.handlers import BotServices, resume_statuses, router

log = structlog.get_logger("spek.telegram")


def bot_token(settings: Settings) -> str:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value().strip():
        raise SystemExit("spek telegram needs SPEK_TELEGRAM_TOKEN (the token @BotFather gave the bot).")
    return settings.telegram_token.get_secret_value().strip()


def webhook_secret(token: str) -> str:
    """The secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token with every webhook call: derived from
    the bot token, so the API and the bot agree without another setting."""
    return hashlib.sha256(b"spek-telegram-webhook:" + token.encode()).hexdigest()


def create_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")))
    return Bot(bot_token(settings), session=session)


def create_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


@asynccontextmanager
async def bot_services(settings: Settings) -> AsyncIterator[BotServices]:
    if not settings.database_url or not settings.redis_url:
        raise SystemExit("The Telegram bot needs DATABASE_URL and REDIS_URL (`spek up` sets both for you).")
    engine = create_engine(settings.database_url, pool_size=5, max_overflow=10)
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.queue_name)
    storage = create_storage(settings)
    try:
        yield BotServices(
            settings=settings,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            storage=storage,
            rate_limits=RateLimits(settings, settings.redis_url),
        )
    finally:
        await redis.aclose()
        await engine.dispose()
        await storage.close()


async def _reach(bot: Bot) -> None:
    """Wait until the Bot API server answers (a network outage at start is waited out, not a crash that would use
    up `spek up`'s restarts); a token it refuses stops the bot, saying so."""
    delay = 1.0
    while True:
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise SystemExit("The Bot API refused SPEK_TELEGRAM_TOKEN: check the token @BotFather gave.") from None
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as e:
            log.warning("telegram.unreachable", error=str(e), retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
        else:
            log.info("telegram.connected", bot=me.username)
            return


async def _poll(settings: Settings) -> None:
    bot = create_bot(settings)
    await _reach(bot)
    async with bot_services(settings) as services:
        # Status messages a previous run left part-way are edited on to the end (in webhook mode too: this process
        # is then the one that carries on with them).
        resuming = asyncio.create_task(resume_statuses(bot, services))
        try:
            if settings.telegram_webhook_url:
                # The API takes the updates at /telegram/webhook; this process only tells Telegram where they go.
                await bot.set_webhook(settings.telegram_webhook_url, secret_token=webhook_secret(bot.token))
                log.info("telegram.webhook_set", url=settings.telegram_webhook_url)
                await asyncio.Event().wait()  # kept running, so `spek up` does not restart it
                return
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("telegram.polling", api=settings.telegram_api_url)
            dispatcher = create_dispatcher()
            await dispatcher.start_polling(bot, services=services, handle_signals=True, close_bot_session=False)
        finally:
            resuming.cancel()
            await bot.session.close()


def run(settings: Settings) -> None:
    """Long polling until SIGTERM or Ctrl-C."""
    bot_token(settings)
    asyncio.run(_poll(settings))


class Webhook:
    """Webhook mode inside the API (`/telegram/webhook`): Telegram posts each update with the secret-token header;
    it is answered at once and handled in the background by the same dispatcher and handlers as polling."""

    def __init__(self, settings: Settings, services: BotServices) -> None:
        self.bot = create_bot(settings)
        self.dispatcher = create_dispatcher()
        self.services = services
        self.secret = webhook_secret(self.bot.token)
        self._tasks: set[asyncio.Task] = set()

    def authentic(self, secret_header: str | None) -> bool:
        return hmac.compare_digest((secret_header or "").encode(), self.secret.encode())

    def accept(self, body: dict) -> None:
        update = Update.model_validate(body, context={"bot": self.bot})
        task = asyncio.create_task(self.dispatcher.feed_update(self.bot, update, services=self.services))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.bot.session.close()


def webhook_for(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: ArqRedis,
    storage: Storage,
    rate_limits: RateLimits,
) -> Webhook | None:
    """The API's webhook, when SPEK_TELEGRAM_TOKEN and SPEK_TELEGRAM_WEBHOOK_URL are both set."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if not token or not settings.telegram_webhook_url:
        return None
    return Webhook(settings, BotServices(settings, sessionmaker, redis, storage, rate_limits))


async def webhook_endpoint(request: Request) -> Response:
    """POST /telegram/webhook: an update from Telegram, with the secret token it was given in setWebhook."""
    hook: Webhook | None = getattr(request.app.state, "telegram", None)
    if hook is None:
        return Response("This server takes no Telegram webhook (SPEK_TELEGRAM_WEBHOOK_URL is not set).\n", 404)
    if not hook.authentic(request.headers.get("x-telegram-bot-api-secret-token")):
        return Response("Wrong or missing X-Telegram-Bot-Api-Secret-Token.\n", 401)
    try:
        hook.accept(await request.json())
    except (ValueError, ValidationError):
        return Response("Not a Telegram update.\n", 400)
    return Response(status_code=200)
