"""Accounts: registration, login, device sign-in, token rotation, logout."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import CursorResult, delete, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from spek import audit
from spek.accounts.models import RefreshToken, User
from spek.accounts.passwords import hash_password_in_thread, verify_password_in_thread
from spek.accounts.tokens import AccessTokens, hash_refresh_token, new_refresh_token
from spek.errors import BadUserInput, Conflict, Unauthenticated

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MIN_DEVICE_ID_LENGTH = 16
MAX_DEVICE_ID_LENGTH = 200
MAX_DISPLAY_NAME_LENGTH = 200
BAD_CREDENTIALS = "Wrong email or password."


@dataclass
class AuthResult:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


@dataclass
class TokenPolicy:
    access: AccessTokens
    refresh_ttl_seconds: int


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as e:
        raise BadUserInput(f"That email address is not valid: {e}") from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadUserInput(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")


def _clean_display_name(display_name: str | None) -> str | None:
    if display_name is None or not display_name.strip():
        return None
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise BadUserInput(f"The display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters long.")
    return display_name.strip()


async def _start_session(session: AsyncSession, policy: TokenPolicy, user: User, family_id: uuid.UUID) -> AuthResult:
    refresh_token = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_refresh_token(refresh_token),
            family_id=family_id,
            expires_at=datetime.now(UTC) + timedelta(seconds=policy.refresh_ttl_seconds),
        )
    )
    await session.commit()
    return AuthResult(
        access_token=policy.access.issue(user.id),
        refresh_token=refresh_token,
        expires_in=policy.access.ttl_seconds,
        user=user,
    )


async def register(
    session: AsyncSession, policy: TokenPolicy, email: str, password: str, display_name: str | None
) -> AuthResult:
    email = normalize_email(email)
    _check_password(password)
    password_hash = await hash_password_in_thread(password)
    user = User(email=email, password_hash=password_hash, display_name=_clean_display_name(display_name))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict("An account with this email already exists; sign in instead.") from None
    audit.record(session, user.id, "user.register", "user", user.id)
    return await _start_session(session, policy, user, uuid.uuid4())


async def login(session: AsyncSession, policy: TokenPolicy, email: str, password: str) -> AuthResult:
    try:
        email = normalize_email(email)
    except BadUserInput:
        email = ""
    user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none() if email else None
    # Always verify a hash, so an unknown email costs the same time as a wrong password.
    if not await verify_password_in_thread(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated(BAD_CREDENTIALS)
    audit.record(session, user.id, "user.login", "user", user.id)
    return await _start_session(session, policy, user, uuid.uuid4())


async def register_device(session: AsyncSession, policy: TokenPolicy, device_id: str) -> AuthResult:
    """Sign in as the account bound to a device id, creating it on first use.

    The device id is the device's credential: apps generate a long random one and keep it secret.
    """
    device_id = device_id.strip()
    if not MIN_DEVICE_ID_LENGTH <= len(device_id) <= MAX_DEVICE_ID_LENGTH:
        raise BadUserInput(
            f"deviceId must be {MIN_DEVICE_ID_LENGTH} to {MAX_DEVICE_ID_LENGTH} characters "
            "(use a random UUID generated on the device)."
        )
    user = (await session.execute(select(User).where(User.device_id == device_id))).scalar_one_or_none()
    if user is None:
        user = User(device_id=device_id)
        session.add(user)
        try:
            await session.flush()
        except IntegrityError:  # registered concurrently by the same device
            await session.rollback()
            user = (await session.execute(select(User).where(User.device_id == device_id))).scalar_one()
        else:
            audit.record(session, user.id, "user.register_device", "user", user.id)
    return await _start_session(session, policy, user, uuid.uuid4())


async def refresh(session: AsyncSession, policy: TokenPolicy, refresh_token: str) -> AuthResult:
    """Trade a live refresh token for a new pair; the old one stops working.

    Presenting a token that was already rotated means it leaked: the whole family is revoked.
    """
    now = datetime.now(UTC)
    stored = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token)).with_for_update()
        )
    ).scalar_one_or_none()
    if stored is None:
        raise Unauthenticated("The refresh token is not valid; sign in again.")
    if stored.revoked_at is not None:
        await _revoke_family(session, stored.family_id, now)
        await session.commit()
        raise Unauthenticated("The refresh token was already used or signed out; sign in again.")
    if stored.expires_at <= now:
        raise Unauthenticated("The refresh token has expired; sign in again.")
    stored.revoked_at = now
    user = await session.get_one(User, stored.user_id)
    return await _start_session(session, policy, user, stored.family_id)


async def logout(session: AsyncSession, refresh_token: str) -> bool:
    """End the sign-in the refresh token belongs to. False when it was not live."""
    stored = (
        await session.execute(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token)))
    ).scalar_one_or_none()
    if stored is None or stored.revoked_at is not None:
        return False
    await _revoke_family(session, stored.family_id, datetime.now(UTC))
    audit.record(session, stored.user_id, "user.logout", "user", stored.user_id)
    await session.commit()
    return True


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# Every signed-in request starts with its caller's row.
_USER_COLUMNS = [(attribute.key, attribute.columns[0].name) for attribute in inspect(User).column_attrs]
_USER_BY_ID = f"SELECT {', '.join(name for _, name in _USER_COLUMNS)} FROM users WHERE id = $1"
ACCOUNT_GONE = "This account no longer exists; sign in again."


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The account, as the session's own: read unless the session has it already."""
    user = session.identity_map.get(identity_key(User, user_id))
    if user is None:
        user = attach_user(session, await read_user_row(session, user_id))
    return user


async def read_user_row(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """The account's column values (by attribute), read in one round trip on a pooled connection with no
    transaction (the session would add a BEGIN and a ROLLBACK, and its ORM loading costs more than the
    query). UNAUTHENTICATED when there is no such account."""
    async with cast(AsyncEngine, session.bind).connect() as connection:
        driver = cast(asyncpg.Connection, (await connection.get_raw_connection()).driver_connection)
        row = await driver.fetchrow(_USER_BY_ID, user_id)
    if row is None:
        raise Unauthenticated(ACCOUNT_GONE)
    return {key: row[name] for key, name in _USER_COLUMNS}


def attach_user(session: AsyncSession, values: dict[str, Any]) -> User:
    """A User made from a row read elsewhere, attached to the session as if loaded by it (SQLAlchemy's way:
    make_transient_to_detached, then add)."""
    user = User(**values)
    make_transient_to_detached(user)
    session.add(user)
    return user


async def purge_expired_refresh_tokens(session: AsyncSession) -> int:
    """Delete refresh tokens past their expiry; they can never be used again."""
    result = await session.execute(delete(RefreshToken).where(RefreshToken.expires_at < datetime.now(UTC)))
    await session.commit()
    return cast(CursorResult[Any], result).rowcount or 0
