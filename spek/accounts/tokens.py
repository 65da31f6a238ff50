"""Access tokens (short-lived JWTs) and refresh tokens (random, stored hashed)."""

import hashlib
import os
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import jwt

from spek.errors import Unauthenticated
from spek.settings import Settings

ALGORITHM = "HS256"
ISSUER = "spek"


def load_signing_secret(settings: Settings) -> str:
    """The JWT secret: from settings, else generated once and kept in the data dir."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = Path(settings.data_dir) / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: when API and worker start together,
        # exactly one secret wins, and neither can read the file before its secret is in it.
        draft = path.with_name(f".jwt-secret-{secrets.token_hex(8)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="ascii").strip()


class AccessTokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        # A token's signature and claims are checked once (a client sends the same token for its whole
        # life); only its expiry is checked at every use.
        self._checked = lru_cache(maxsize=10_000)(self._check)

    def issue(self, user_id: uuid.UUID) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "iss": ISSUER,
            "typ": "access",
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> uuid.UUID:
        """The user id a valid token speaks for; Unauthenticated otherwise."""
        user_id, expires_at = self._checked(token)
        if time.time() >= expires_at:
            raise Unauthenticated("The access token has expired; refresh it.")
        return user_id

    def _check(self, token: str) -> tuple[uuid.UUID, float]:
        """The user id of a token signed here, and when it expires; Unauthenticated if it never was valid."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The access token has expired; refresh it.") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("The access token is not valid.") from None
        if claims.get("typ") != "access":
            raise Unauthenticated("The access token is not valid.")
        try:
            return uuid.UUID(claims["sub"]), float(claims["exp"])
        except ValueError:
            raise Unauthenticated("The access token is not valid.") from None

    def authenticate(self, authorization: object) -> uuid.UUID:
        """The user an `Authorization` value (`Bearer <accessToken>`) speaks for; Unauthenticated otherwise.

        The one check behind every way in: HTTP headers, the WebSocket's connection_init, downloads.
        """
        token = bearer_token(authorization) if isinstance(authorization, str) else None
        if token is None:
            raise Unauthenticated("Sign in first: send `Authorization: Bearer <accessToken>`.")
        return self.verify(token)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
