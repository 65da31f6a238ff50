"""Telegram identities: a Telegram user signed in as a Spek user, their bot options, /link codes, and WebApp
sign-in from Telegram's signed `initData`. Every edge (the bot, the GraphQL API) comes through here."""

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from spek import audit
from spek.accounts.models import User
from spek.accounts.service import AuthResult, TokenPolicy, _start_session
from spek.asr.whisper import Quality
from spek.errors import BadUserInput, NotFound, Unauthenticated
from spek.recordings.options import DEFAULTS, RecordingOptions
from spek.telegram.models import TelegramAccount, TelegramStatusMessage

LINK_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
LINK_CODE_LENGTH = 8  # 40 bits, alive for LINK_CODE_TTL_SECONDS, used once
LINK_CODE_TTL_SECONDS = 600
MAX_SPEAKERS_SETTING = 10


@dataclass
class Preferences:
    """What the bot uses for a user's recordings: the same options an upload over GraphQL takes."""

    language: str | None = None  # None: detect
    quality: Quality = DEFAULTS.quality
    diarize: bool = DEFAULTS.diarize
    num_speakers: int | None = None

    @classmethod
    def of(cls, account: TelegramAccount) -> "Preferences":
        data = account.preferences or {}
        return cls(
            language=data.get("language"),
            quality=Quality(data.get("quality", DEFAULTS.quality)),
            diarize=bool(data.get("diarize", DEFAULTS.diarize)),
            num_speakers=data.get("num_speakers"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "quality": str(self.quality),
            "diarize": self.diarize,
            "num_speakers": self.num_speakers,
        }

    def recording_options(self, title: str | None = None) -> RecordingOptions:
        return RecordingOptions(
            title=title,
            language=self.language,
            quality=self.quality,
            diarize=self.diarize,
            num_speakers=self.num_speakers if self.diarize else None,
        )


async def sign_in(
    session: AsyncSession, telegram_id: int, language_code: str | None = None, display_name: str | None = None
) -> tuple[TelegramAccount, User]:
    """The Spek user a Telegram user is, creating both on first contact (like a device account)."""
    account = await session.get(TelegramAccount, telegram_id)
    if account is None:
        user = User(display_name=(display_name or "").strip()[:200] or None)
        session.add(user)
        await session.flush()
        account = TelegramAccount(telegram_id=telegram_id, user_id=user.id, language_code=language_code, preferences={})
        session.add(account)
        try:
            await session.flush()
        except IntegrityError:  # the same Telegram user's first two messages at once
            await session.rollback()
            account = await session.get_one(TelegramAccount, telegram_id)
        else:
            audit.record(session, user.id, "user.register_telegram", "user", user.id)
        await session.commit()
    elif language_code and account.language_code != language_code:
        account.language_code = language_code
        await session.commit()
    user = await session.get_one(User, account.user_id)
    return account, user


async def update_preferences(session: AsyncSession, account: TelegramAccount, **changes: Any) -> Preferences:
    """Change some of the user's options, checked by the same rules as an upload's."""
    current = Preferences.of(account)
    for name, value in changes.items():
        if name not in {"language", "quality", "diarize", "num_speakers"}:
            raise BadUserInput(f"Unknown Telegram setting {name!r}.")
        setattr(current, name, value)
    if current.num_speakers is not None and not 1 <= current.num_speakers <= MAX_SPEAKERS_SETTING:
        raise BadUserInput(f"The speaker count must be 1 to {MAX_SPEAKERS_SETTING}, or automatic.")
    current.recording_options().validate()
    account.preferences = current.as_json()
    audit.record(session, account.user_id, "telegram.settings", "user", account.user_id, **current.as_json())
    await session.commit()
    return current


def _link_key(code: str) -> str:
    return f"telegram:link:{code}"


async def issue_link_code(redis: Redis, account: TelegramAccount) -> str:
    """A one-time code that attaches this Telegram identity to the account of whoever redeems it (signed in on
    the web) within LINK_CODE_TTL_SECONDS."""
    code = "".join(secrets.choice(LINK_CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    await redis.set(_link_key(code), str(account.telegram_id), ex=LINK_CODE_TTL_SECONDS)
    return code


async def redeem_link_code(session: AsyncSession, redis: Redis, user: User, code: str) -> TelegramAccount:
    """Attach the Telegram identity that asked for `code` to `user`: from now on the bot (and the Telegram WebApp)
    acts as this account, so its recordings appear in the web app. What the Telegram-only account made before
    stays with that account."""
    normalized = "".join(code.split()).upper()
    if len(normalized) != LINK_CODE_LENGTH or any(c not in LINK_CODE_ALPHABET for c in normalized):
        raise BadUserInput(f"A link code is {LINK_CODE_LENGTH} letters and digits, as the bot's /link gave it.")
    telegram_id = await redis.getdel(_link_key(normalized))  # used once, whatever happens next
    if telegram_id is None:
        raise NotFound("That link code is not valid or has expired; send /link to the bot again.")
    account = await session.get_one(TelegramAccount, int(telegram_id), with_for_update=True)
    previous = account.user_id
    account.user_id = user.id
    audit.record(session, user.id, "telegram.link", "user", user.id, previous_user=str(previous))
    await session.commit()
    return account


async def track_status(session: AsyncSession, user: User, status: TelegramStatusMessage) -> None:
    """Remember a status message the bot is editing for one of the user's jobs (until `untrack_status`)."""
    status.user_id = user.id
    await session.merge(status)
    await session.commit()


async def status_posted(session: AsyncSession, job_id: uuid.UUID, message_id: int) -> None:
    """The status message of this job is posted, as this message."""
    query = update(TelegramStatusMessage).where(TelegramStatusMessage.job_id == job_id).values(message_id=message_id)
    await session.execute(query)
    await session.commit()


async def untrack_status(session: AsyncSession, job_id: uuid.UUID) -> None:
    """The status message of this job is final and its result sent, or its chat closed to the bot: nothing to
    carry on after a restart."""
    await session.execute(delete(TelegramStatusMessage).where(TelegramStatusMessage.job_id == job_id))
    await session.commit()


async def tracked_statuses(session: AsyncSession) -> list[TelegramStatusMessage]:
    """Every status message a bot was still editing when it stopped, oldest first (the bot carries on with them
    when it starts: it is the one edge that acts for all its users)."""
    query = select(TelegramStatusMessage).order_by(TelegramStatusMessage.created_at)
    return list((await session.execute(query)).scalars())


async def accounts_of(session: AsyncSession, user: User) -> list[TelegramAccount]:
    return list((await session.execute(select(TelegramAccount).where(TelegramAccount.user_id == user.id))).scalars())


@dataclass(frozen=True)
class WebAppUser:
    telegram_id: int
    language_code: str | None
    display_name: str | None


def _signed_fields(bot_token: str, init_data: str) -> dict[str, str]:
    """initData's fields when its `hash` is HMAC-SHA256 of the sorted `key=value` lines, keyed by
    HMAC-SHA256("WebAppData", bot token): https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
    """
    not_signed = Unauthenticated("The Telegram WebApp data is not signed by this bot.")
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise not_signed from None
    given = fields.pop("hash", "")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise not_signed
    return fields


def verify_webapp_init_data(bot_token: str, init_data: str, max_age_seconds: int) -> WebAppUser:
    """The Telegram user a WebApp's `initData` names, when its HMAC-SHA256 signature (keyed by the bot token)
    holds and it is at most `max_age_seconds` old; Unauthenticated otherwise."""
    fields = _signed_fields(bot_token, init_data)
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user = json.loads(fields["user"])
        telegram_id = int(user["id"])
    except (KeyError, ValueError, TypeError, OverflowError):
        raise Unauthenticated("The Telegram WebApp data names no user.") from None
    now = datetime.now(UTC)
    if not now - timedelta(seconds=max_age_seconds) <= auth_date <= now + timedelta(seconds=60):
        raise Unauthenticated("The Telegram WebApp data is too old; open the player from the bot again.")
    name = " ".join(str(user.get(part) or "") for part in ("first_name", "last_name")).strip() or None
    language = user.get("language_code")
    return WebAppUser(telegram_id, language if isinstance(language, str) else None, name)


async def webapp_login(
    session: AsyncSession, policy: TokenPolicy, bot_token: str | None, init_data: str, max_age_seconds: int
) -> AuthResult:
    """Sign in (as with a password) the Spek user behind a Telegram WebApp's signed `initData`."""
    if not bot_token:
        raise Unauthenticated("This server has no Telegram bot (SPEK_TELEGRAM_TOKEN is not set).")
    who = verify_webapp_init_data(bot_token, init_data, max_age_seconds)
    _, user = await sign_in(session, who.telegram_id, who.language_code, who.display_name)
    audit.record(session, user.id, "user.login_telegram", "user", user.id)
    return await _start_session(session, policy, user, uuid.uuid4())
