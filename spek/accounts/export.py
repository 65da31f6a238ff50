"""Everything a user owns, in one ZIP: a JSON file per table (their rows only) and their original files."""

import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from spek.accounts.models import User
from spek.storage import Storage

_NOTEBOOKS = "SELECT id FROM notebooks WHERE user_id = :user_id"
_TRANSCRIPTS = "SELECT t.id FROM transcripts t JOIN recordings r ON r.id = t.recording_id WHERE r.user_id = :user_id"
# Each table's rows that are the user's. tests/test_account_privacy.py checks every table is here or in LEFT_OUT.
ROWS = {
    "users": "id = :user_id",
    "audit_log": "actor_id = :user_id",
    "batches": "user_id = :user_id",
    "conversations": "user_id = :user_id",
    "messages": "user_id = :user_id",
    "jobs": "user_id = :user_id",
    "notebooks": "user_id = :user_id",
    "sections": f"notebook_id IN ({_NOTEBOOKS})",
    "pages": f"notebook_id IN ({_NOTEBOOKS})",
    "tags": "user_id = :user_id",
    "page_tags": f"page_id IN (SELECT id FROM pages WHERE notebook_id IN ({_NOTEBOOKS}))",
    "recordings": "user_id = :user_id",
    "transcripts": f"id IN ({_TRANSCRIPTS})",
    "segments": f"transcript_id IN ({_TRANSCRIPTS})",
    "documents": "user_id = :user_id",
    "notes": "user_id = :user_id",
    "note_tags": "note_id IN (SELECT id FROM notes WHERE user_id = :user_id)",
    "telegram_accounts": "user_id = :user_id",
    "telegram_status_messages": "user_id = :user_id",
}
# Credentials and what Spek derives again from the rows above (search entries and their vectors).
LEFT_OUT = {"refresh_tokens", "search_entries"}
SECRET_COLUMNS = {"password_hash"}


async def write_export(session: AsyncSession, storage: Storage, user: User, target: Path) -> None:
    """Write the user's ZIP to `target`: `<table>.json` for each table, `files/` with their recordings' audio
    (while it is kept) and documents as uploaded."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table, condition in ROWS.items():
            result = await session.execute(text(f"SELECT * FROM {table} WHERE {condition}"), {"user_id": user.id})
            rows = [{k: v for k, v in row._mapping.items() if k not in SECRET_COLUMNS} for row in result]
            archive.writestr(f"{table}.json", json.dumps(rows, default=_plain, ensure_ascii=False, indent=1))
        files = await session.execute(
            text(
                "SELECT 'recordings' AS kind, id, filename, storage_key FROM recordings "
                "WHERE user_id = :user_id AND audio_expired_at IS NULL "
                "UNION ALL SELECT 'documents', id, filename, storage_key FROM documents WHERE user_id = :user_id"
            ),
            {"user_id": user.id},
        )
        for kind, file_id, filename, key in list(files):
            with archive.open(f"files/{kind}/{file_id}-{Path(filename).name}", "w") as member:
                async for chunk in storage.read(key):
                    member.write(chunk)


def _plain(value: Any) -> Any:
    """JSON for what the database gives beyond JSON's types (UUIDs, times, vectors)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
