"""File downloads over plain HTTP: a recording's audio (with Range, for seeking), transcript exports, and a
user's whole account (exportMyData).

Signed links (`/files/...?token=`) need no Authorization header, so an <audio> element or a plain
download can use them; `/transcripts/{id}/export` is the same export for API clients with a token.
"""

import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from spek.accounts import service as accounts
from spek.accounts.export import write_export
from spek.errors import BadUserInput, ErrorCode, NotFound, SpekError
from spek.ids import parse_id
from spek.links import export_params
from spek.recordings import service as recordings
from spek.transcripts import service as transcripts
from spek.transcripts.fragments import Fragment
from spek.web.services import Services

AUDIO_TYPES = {
    "wav": "audio/wav",
    "w64": "audio/x-w64",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "webm": "audio/webm",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}
STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range [start, end) a Range header asks for; None for the whole file.

    Several ranges in one header are answered with the whole file, which RFC 9110 allows.
    """
    if not header or "," in header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size
    else:
        start, end = int(first), size if last == "" else min(int(last) + 1, size)
    if start >= size or start >= end:
        raise RangeNotSatisfiable
    return start, end


def _error(error: SpekError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code.value, "message": error.message}}, status_code=STATUS.get(error.code, 500)
    )


def _services(request: Request) -> Services:
    services: Services = request.app.state.services  # built by spek.web.app at start-up
    return services


async def audio(request: Request) -> Response:
    services = _services(request)
    try:
        grant = services.links.verify("audio", request.query_params.get("token"), request.path_params["recording_id"])
        async with services.sessionmaker() as session:
            user = await accounts.get_user(session, grant.user_id)
            recording = await recordings.get_recording(session, user, grant.subject_id)
        if recording.audio_expired_at is not None:
            raise NotFound(recordings.AUDIO_EXPIRED)
        size = await services.storage.size(recording.storage_key)
    except SpekError as e:
        return _error(e)
    except FileNotFoundError:
        return _error(NotFound("The recording's audio is gone."))
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    media_type = AUDIO_TYPES.get(recording.format, "application/octet-stream")
    try:
        byte_range = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if byte_range is None:
        start, end, status = 0, size, 200
    else:
        (start, end), status = byte_range, 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    body: AsyncIterator[bytes] = services.storage.read(recording.storage_key, start, end)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)


async def _export(services: Services, user_id: uuid.UUID, transcript_id: uuid.UUID, params: dict[str, Any]) -> Response:
    fragment = Fragment(params.get("start"), params.get("end"), params.get("segments"), bool(params.get("rebase")))
    async with services.sessionmaker() as session:
        user = await accounts.get_user(session, user_id)
        export = await transcripts.export_transcript(
            session, user, transcript_id, params["format"], fragment, params.get("speakers", True)
        )
    return Response(
        export.content, media_type=export.content_type, headers={"Content-Disposition": export.content_disposition()}
    )


async def signed_export(request: Request) -> Response:
    services = _services(request)
    try:
        grant = services.links.verify("export", request.query_params.get("token"), request.path_params["transcript_id"])
        return await _export(services, grant.user_id, grant.subject_id, grant.params)
    except SpekError as e:
        return _error(e)


def _number(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise BadUserInput(f"{name} must be a number of seconds.") from None


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() in ("1", "true", "yes")


async def authenticated_export(request: Request) -> Response:
    """GET /transcripts/{id}/export?format=srt&start=&end=&segments=id,id&rebase=1&speakers=0 with a Bearer token."""
    services = _services(request)
    query = request.query_params
    try:
        user_id = services.access_tokens.authenticate(request.headers.get("authorization"))
        segments = [s for s in query.get("segments", "").split(",") if s] or None
        params = export_params(
            query.get("format", ""),
            _number(query.get("start"), "start"),
            _number(query.get("end"), "end"),
            segments,
            _flag(query.get("rebase"), False),
            _flag(query.get("speakers"), True),
        )
        return await _export(services, user_id, parse_id(request.path_params["transcript_id"]), params)
    except SpekError as e:
        return _error(e)


async def account_export(request: Request) -> Response:
    """GET /files/account/{user_id}?token=: a ZIP of everything the user owns (exportMyData), built now."""
    services = _services(request)
    try:
        grant = services.links.verify("account", request.query_params.get("token"), request.path_params["user_id"])
        descriptor, name = tempfile.mkstemp(prefix="spek-export-", suffix=".zip", dir=services.settings.data_dir)
        os.close(descriptor)  # the ZIP is written by name
        scratch = Path(name)
        try:
            async with services.sessionmaker() as session:
                user = await accounts.get_user(session, grant.user_id)
                await write_export(session, services.storage, user, scratch)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
    except SpekError as e:
        return _error(e)
    filename = f"spek-export-{datetime.now(UTC):%Y-%m-%d}.zip"
    return FileResponse(
        scratch,
        media_type="application/zip",
        filename=filename,
        background=BackgroundTask(scratch.unlink, missing_ok=True),
    )
