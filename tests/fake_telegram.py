"""A fake Telegram Bot API server on loopback, speaking the real wire protocol: `POST /bot<token>/<method>` with
form or multipart bodies (aiogram's), `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}` answers, `getUpdates` long polling with offsets, `getFile` and downloads from
`/file/bot<token>/<file_path>`. It keeps every call, the chats as a user would see them, and can fail a method
with a 429 on demand, or hold its answers."""

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import serving_on_loopback

BOT = {"id": 4242, "is_bot": True, "first_name": "Spek", "username": "spek_test_bot"}
TEXT_FIELDS = {"text", "caption", "callback_query_id", "file_id", "url", "secret_token", "description"}
CLOUD_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]  # field -> (filename, content)
    at: float
    ok: bool = True
    error_code: int | None = None  # what a refused call was answered with


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    text: str | None
    reply_markup: dict | None
    document: tuple[str, bytes] | None = None
    edits: list[tuple[float, str]] = field(default_factory=list)  # (when, text), as delivered


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.base_url = ""
        self.calls: list[Call] = []
        self.messages: dict[int, SentMessage] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.too_big: set[str] = set()  # file ids getFile refuses as the cloud API does past 20 MB
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._failures: dict[str, list[int]] = {}
        self._held: set[str] = set()
        self._blocked: set[str] = set()  # chats whose user blocked the bot, as the calls name them
        self._lock = threading.Lock()

    # What a test does ------------------------------------------------------------------------------------

    def push(self, update: dict) -> None:
        with self._lock:
            self._updates.append({"update_id": next(self._update_ids), **update})

    def user_message(self, user: dict, **content: Any) -> None:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
            "from": user,
            **content,
        }
        if "text" in content and content["text"].startswith("/"):
            command = content["text"].split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.push({"message": message})

    def press(self, user: dict, message: SentMessage, data: str) -> str:
        query_id = f"cb-{next(self._message_ids)}"
        bot_message = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private"},
            "from": BOT,
            "text": message.text or "",
        }
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": "1",
                    "data": data,
                    "message": bot_message,
                }
            }
        )
        return query_id

    def add_file(self, file_id: str, content: bytes, path: str) -> None:
        self.files[file_id] = (path, content)

    def fail(self, method: str, retry_after: int, times: int = 1) -> None:
        """The next `times` calls of `method` get a 429 with this retry_after."""
        with self._lock:
            self._failures.setdefault(method, []).extend([retry_after] * times)

    def hold(self, method: str) -> None:
        """Calls of `method` take effect but get no answer until `release` (as when the bot dies mid-call)."""
        with self._lock:
            self._held.add(method)

    def release(self, method: str) -> None:
        with self._lock:
            self._held.discard(method)

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: every call for that chat is refused from now on, as Telegram does."""
        with self._lock:
            self._blocked.add(str(chat_id))

    def chat(self, chat_id: int) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages.values() if m.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, found: Callable[[], Any], timeout: float = 120, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = found()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"the bot did not {what or 'do it'} within {timeout} s; calls: {self.calls[-15:]}")

    # The Bot API ----------------------------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        params, files = await _params(request)
        call = Call(method, params, files, time.monotonic())
        with self._lock:
            self.calls.append(call)
            failures = self._failures.get(method)
            retry_after = failures.pop(0) if failures else None
        if retry_after is not None:
            call.ok = False
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            }
            return JSONResponse(body, 429)
        handler = getattr(self, f"_{method}", None)
        try:
            if str(params.get("chat_id")) in self._blocked:
                raise _Refused(403, "Forbidden: bot was blocked by the user")
            result = await handler(params, files) if handler else True
        except _Refused as e:
            call.ok, call.error_code = False, e.code
            return JSONResponse({"ok": False, "error_code": e.code, "description": e.description}, e.code)
        while method in self._held:
            await asyncio.sleep(0.05)
        return JSONResponse({"ok": True, "result": result})

    async def download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        wanted = request.path_params["path"]
        for path, content in self.files.values():
            if path == wanted:
                return Response(content, media_type="application/octet-stream")
        return Response(status_code=404)

    async def _getMe(self, params: dict, files: dict) -> dict:
        return {**BOT, "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _getUpdates(self, params: dict, files: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates[: int(params.get("limit") or 100)])
            await asyncio.sleep(0.05)

    def _message(self, chat_id: int, text: str | None, markup: dict | None, document: tuple[str, bytes] | None) -> dict:
        with self._lock:
            sent = SentMessage(next(self._message_ids), chat_id, text, markup, document)
            self.messages[sent.message_id] = sent
        return self._as_json(sent)

    def _as_json(self, sent: SentMessage) -> dict:
        body: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private"},
            "from": BOT,
        }
        if sent.text is not None:
            body["text"] = sent.text
        if sent.reply_markup:
            body["reply_markup"] = sent.reply_markup
        if sent.document is not None:
            body["document"] = {"file_id": f"doc-{sent.message_id}", "file_unique_id": f"u{sent.message_id}"}
            body["document"]["file_name"] = sent.document[0]
        return body

    async def _sendMessage(self, params: dict, files: dict) -> dict:
        if not params.get("text") or len(params["text"]) > 4096:
            raise _Refused(400, "Bad Request: message text is empty or too long")
        return self._message(int(params["chat_id"]), params["text"], params.get("reply_markup"), None)

    async def _editMessageText(self, params: dict, files: dict) -> dict:
        with self._lock:
            sent = self.messages.get(int(params["message_id"]))
            if sent is None or sent.chat_id != int(params["chat_id"]):
                raise _Refused(400, "Bad Request: message to edit not found")
            if sent.text == params["text"] and sent.reply_markup == params.get("reply_markup"):
                raise _Refused(400, "Bad Request: message is not modified")
            sent.text, sent.reply_markup = params["text"], params.get("reply_markup")
            sent.edits.append((time.monotonic(), params["text"]))
        return self._as_json(sent)

    async def _sendDocument(self, params: dict, files: dict) -> dict:
        reference = str(params.get("document", ""))
        key = reference.removeprefix("attach://")
        if key not in files:
            raise _Refused(400, "Bad Request: there is no document in the request")
        sent = self._message(int(params["chat_id"]), params.get("caption"), params.get("reply_markup"), files[key])
        return sent

    async def _getFile(self, params: dict, files: dict) -> dict:
        file_id = params["file_id"]
        if file_id in self.too_big:
            raise _Refused(400, "Bad Request: file is too big")
        if file_id not in self.files:
            raise _Refused(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content), "file_path": path}


class _Refused(Exception):
    def __init__(self, code: int, description: str) -> None:
        self.code, self.description = code, description


async def _params(request: Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """A call's parameters (JSON-encoded values decoded, as the Bot API does) and its file parts."""
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        return await request.json(), files
    form = await request.form()
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = (value.filename or key, await value.read())
        elif key in TEXT_FIELDS:
            params[key] = value
        else:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
    return params, files


@contextmanager
def fake_telegram(token: str) -> Iterator[FakeTelegram]:
    fake = FakeTelegram(token)
    routes = [
        Route("/bot{token}/{method}", fake.api, methods=["GET", "POST"]),
        Route("/file/bot{token}/{path:path}", fake.download, methods=["GET"]),
    ]
    with serving_on_loopback(routes) as base_url:
        fake.base_url = base_url
        yield fake
