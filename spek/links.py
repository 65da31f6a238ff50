"""Signed, expiring links: a download a browser or player can fetch without an Authorization header.

A link's token is a JWT (the API's signing secret) that names the user, what it opens (`typ`: audio
or export, and the id) and, for exports, the export's options. It cannot stand in for an access
token, nor an access token for it: each checks its own `typ`.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from spek.accounts.tokens import ALGORITHM, ISSUER
from spek.errors import Forbidden


@dataclass(frozen=True)
class LinkGrant:
    user_id: uuid.UUID
    subject_id: uuid.UUID
    params: dict[str, Any]


def export_params(
    format: str, start: float | None, end: float | None, segment_ids: list[str] | None, rebase: bool, speakers: bool
) -> dict[str, Any]:
    """What an export link carries, as JSON claims: the export's format and fragment."""
    return {
        "format": format,
        "start": start,
        "end": end,
        "segments": segment_ids,
        "rebase": rebase,
        "speakers": speakers,
    }


class SignedLinks:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(
        self, kind: str, user_id: uuid.UUID, subject_id: uuid.UUID, params: dict[str, Any] | None = None
    ) -> tuple[str, datetime]:
        expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl_seconds)
        claims = {
            "iss": ISSUER,
            "typ": kind,
            "sub": str(user_id),
            "rid": str(subject_id),
            "exp": expires_at,
            "p": params or {},
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires_at

    def verify(self, kind: str, token: str | None, subject_id: str) -> LinkGrant:
        if not token:
            raise Forbidden("This link is missing its token; ask the API for a new link.")
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub", "rid"]}
            )
        except jwt.ExpiredSignatureError:
            raise Forbidden("This link has expired; ask the API for a new one.") from None
        except jwt.InvalidTokenError:
            raise Forbidden("This link is not valid.") from None
        if claims.get("typ") != kind or claims["rid"] != subject_id:
            raise Forbidden("This link is not valid.")
        return LinkGrant(uuid.UUID(claims["sub"]), uuid.UUID(claims["rid"]), claims.get("p") or {})
