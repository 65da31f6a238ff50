"""What the bot does with each message, command and button: thin handlers over the services in spek/."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import anyio
import structlog
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    WebAppInfo,
)
from aiogram.types import (
    User as TelegramUser,
)
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from spek.accounts import service as accounts
from spek.accounts.models import User
from spek.asr.whisper import Quality
from spek.errors import NotFound, PayloadTooLarge, RateLimited, SpekError, Unavailable, UnsupportedMedia, is_outage
from spek.jobs import service as jobs
from spek.jobs.events import JobEvent
from spek.jobs.models import JobStatus
from spek.notes import service as notes
from spek.ratelimits import RateLimits
from spek.recordings import service as recordings
from spek.settings import Settings
from spek.storage import CHUNK_SIZE, Storage
from spek.telegram import service as telegram
from spek.telegram.models import TelegramAccount, TelegramStatusMessage
from spek.transcripts import service as transcripts
from spek.transcripts.exports import CONTENT_TYPES, render_export
from spek.uploads import IncomingFile, UploadTools
from telegram_bot.render import MAX_MESSAGES, note_message, split_messages, transcript_lines
from telegram_bot.status import EditThrottle, render_final, render_progress
from telegram_bot.texts import language_of, text

log = structlog.get_logger("spek.telegram")
router = Router(name="spek")
CLOUD_API = "https://api.telegram.org"
CLOUD_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what the cloud Bot API lets a bot download
LANGUAGES = [None, "en", "ru", "uk", "de", "fr", "es", "it", "pt"]
SPEAKER_COUNTS = [None, 1, 2, 3, 4, 5, 6]
HISTORY_SIZE = 10
ALBUM_WAIT_SECONDS = 1.0  # an album's messages come within a fraction of a second of each other


class Albums:
    """An album's files come as separate messages at about the same time: the first one waits a moment and takes
    the whole album, to upload it as one batch."""

    def __init__(self, wait_seconds: float = ALBUM_WAIT_SECONDS) -> None:
        self.wait_seconds = wait_seconds
        self._open: dict[str, list[Message]] = {}

    async def collect(self, message: Message) -> list[Message]:
        """The album's messages for its first message, [] for the rest; a message not in an album alone."""
        group = message.media_group_id
        if group is None:
            return [message]
        if group in self._open:
            self._open[group].append(message)
            return []
        self._open[group] = [message]
        await asyncio.sleep(self.wait_seconds)
        return sorted(self._open.pop(group), key=lambda m: m.message_id)


@dataclass
class BotServices:
    """What the bot process holds for its lifetime."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    storage: Storage
    rate_limits: RateLimits
    throttle: EditThrottle = field(default_factory=EditThrottle)
    albums: Albums = field(default_factory=Albums)
    # Files still being processed per chat, and how many were sent since it was last empty (for "all ready").
    running: dict[int, int] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)

    def upload_tools(self) -> UploadTools:
        limit = self.settings.max_upload_mb * 1024 * 1024
        return UploadTools(self.redis, self.storage, self.settings.data_dir / "tmp", limit)

    @property
    def cloud_api(self) -> bool:
        return self.settings.telegram_api_url.rstrip("/") == CLOUD_API


@asynccontextmanager
async def signed_in(
    services: BotServices, who: TelegramUser
) -> AsyncIterator[tuple[AsyncSession, TelegramAccount, User]]:
    """A session and the Spek user this Telegram user is (created on first contact), within their request limit."""
    async with services.sessionmaker() as session:
        name = " ".join(part for part in (who.first_name, who.last_name) if part)
        account, user = await telegram.sign_in(session, who.id, who.language_code, name)
        await services.rate_limits.hit("requests", str(user.id))
        yield session, account, user


def _lang(who: TelegramUser | None) -> str:
    return language_of(who.language_code if who else None)


async def _say_error(message: Message, lang: str, error: Exception, services: BotServices) -> None:
    if isinstance(error, RateLimited):
        await message.answer(text(lang, "rate_limited", seconds=error.retry_after))
    elif isinstance(error, UnsupportedMedia):
        await message.answer(text(lang, "unsupported"))
    elif isinstance(error, PayloadTooLarge):
        await message.answer(text(lang, "too_big", limit=services.settings.max_upload_mb))
    elif isinstance(error, NotFound):
        await message.answer(text(lang, "not_found"))
    elif isinstance(error, SpekError):
        await message.answer(str(error))
    else:
        log.exception("telegram.handler_failed", error=str(error))
        await message.answer(text(lang, "error"))


# Commands -------------------------------------------------------------------------------------------------


@router.message(CommandStart())
@router.message(Command("help"))
async def start(message: Message, services: BotServices) -> None:
    lang = _lang(message.from_user)
    if message.from_user is None:
        return
    try:
        async with signed_in(services, message.from_user):
            pass
    except RateLimited as e:
        await _say_error(message, lang, e, services)
        return
    await message.answer(text(lang, "start"))


def _settings_view(lang: str, prefs: telegram.Preferences) -> tuple[str, InlineKeyboardMarkup]:
    language = prefs.language or text(lang, "auto")
    diarize = text(lang, "on" if prefs.diarize else "off")
    speakers = str(prefs.num_speakers) if prefs.num_speakers else text(lang, "auto")
    body = text(lang, "settings", language=language, quality=str(prefs.quality), diarize=diarize, speakers=speakers)
    rows = [
        [InlineKeyboardButton(text=text(lang, "language_button", value=language), callback_data="s:lang")],
        [InlineKeyboardButton(text=text(lang, "quality_button", value=str(prefs.quality)), callback_data="s:q")],
        [InlineKeyboardButton(text=text(lang, "diarize_button", value=diarize), callback_data="s:d")],
        [InlineKeyboardButton(text=text(lang, "speakers_button", value=speakers), callback_data="s:n")],
    ]
    return body, InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(Command("settings"))
async def settings_command(message: Message, services: BotServices) -> None:
    lang = _lang(message.from_user)
    if message.from_user is None:
        return
    try:
        async with signed_in(services, message.from_user) as (_, account, _user):
            body, markup = _settings_view(lang, telegram.Preferences.of(account))
    except SpekError as e:
        await _say_error(message, lang, e, services)
        return
    await message.answer(body, reply_markup=markup)


def _next(values: list, current: object) -> object:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


@router.callback_query(F.data.startswith("s:"))
async def settings_button(callback: CallbackQuery, services: BotServices) -> None:
    lang = _lang(callback.from_user)
    field_name = (callback.data or "")[2:]
    async with signed_in(services, callback.from_user) as (session, account, _user):
        prefs = telegram.Preferences.of(account)
        if field_name == "lang":
            change: dict[str, object] = {"language": _next(LANGUAGES, prefs.language)}
        elif field_name == "q":
            change = {"quality": _next(list(Quality), prefs.quality)}
        elif field_name == "d":
            change = {"diarize": not prefs.diarize}
        else:
            change = {"num_speakers": _next(SPEAKER_COUNTS, prefs.num_speakers)}
        prefs = await telegram.update_preferences(session, account, **change)
    body, markup = _settings_view(lang, prefs)
    await callback.answer(text(lang, "saved"))
    if isinstance(callback.message, Message):
        with suppress(TelegramBadRequest):
            await callback.message.edit_text(body, reply_markup=markup)


@router.message(Command("history"))
async def history(message: Message, services: BotServices) -> None:
    lang = _lang(message.from_user)
    if message.from_user is None:
        return
    async with signed_in(services, message.from_user) as (session, _account, user):
        found = await recordings.list_recordings(session, user, HISTORY_SIZE, 0)
    if not found:
        await message.answer(text(lang, "history_empty"))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=text(lang, "history_item", title=r.title[:40], status=jobs.status_of(r.job).value.lower()),
                callback_data=f"h:{r.id}",
            )
        ]
        for r in found
    ]
    await message.answer(text(lang, "history"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(F.data.startswith("h:"))
async def history_item(callback: CallbackQuery, services: BotServices) -> None:
    lang = _lang(callback.from_user)
    try:
        recording_id = uuid.UUID((callback.data or "")[2:])
        async with signed_in(services, callback.from_user) as (session, _account, user):
            recording = await recordings.get_recording(session, user, recording_id)
            ready = await transcripts.transcript_of(session, user, recording_id) is not None
    except (ValueError, NotFound):
        await callback.answer(text(lang, "not_found"), show_alert=True)
        return
    await callback.answer()
    if callback.message is not None:
        body = f"🎙 {recording.title}\n{text(lang, 'files') if ready else text(lang, 'not_ready')}"
        markup = _files_keyboard(lang, services, recording_id) if ready else None
        await callback.message.answer(body, reply_markup=markup)


@router.message(Command("cancel"))
async def cancel_command(message: Message, services: BotServices) -> None:
    lang = _lang(message.from_user)
    if message.from_user is None:
        return
    cancelled = 0
    async with signed_in(services, message.from_user) as (session, _account, user):
        for recording in await recordings.list_recordings(session, user, 50, 0):
            if recording.job is not None and not recording.job.status.is_terminal:
                try:
                    await jobs.cancel_job(session, services.redis, user, recording.job.id)
                    cancelled += 1
                except SpekError:
                    pass  # it finished meanwhile
    await message.answer(text(lang, "cancelled_n", count=cancelled) if cancelled else text(lang, "nothing_to_cancel"))


@router.callback_query(F.data.startswith("c:"))
async def cancel_button(callback: CallbackQuery, services: BotServices) -> None:
    lang = _lang(callback.from_user)
    try:
        job_id = uuid.UUID((callback.data or "")[2:])
        async with signed_in(services, callback.from_user) as (session, _account, user):
            await jobs.cancel_job(session, services.redis, user, job_id)
    except (ValueError, SpekError):
        await callback.answer(text(lang, "nothing_to_cancel"))
        return
    await callback.answer(text(lang, "cancelling"))  # the status message says "Cancelled" from the job's event


@router.message(Command("link"))
async def link(message: Message, services: BotServices) -> None:
    lang = _lang(message.from_user)
    if message.from_user is None:
        return
    async with signed_in(services, message.from_user) as (_session, account, _user):
        code = await telegram.issue_link_code(services.redis, account)
    await message.answer(text(lang, "link", code=code, minutes=telegram.LINK_CODE_TTL_SECONDS // 60))


# Files ----------------------------------------------------------------------------------------------------


@dataclass
class _Media:
    file_id: str
    file_size: int | None
    filename: str
    title_key: str | None = None  # voice and video messages have no name: "Voice message <date>"


def _media_of(message: Message) -> _Media | None:
    if message.voice:
        return _Media(message.voice.file_id, message.voice.file_size, f"voice-{message.message_id}.ogg", "voice_title")
    if message.audio:
        name = message.audio.file_name or f"audio-{message.message_id}"
        return _Media(message.audio.file_id, message.audio.file_size, name)
    if message.video_note:
        name = f"video-note-{message.message_id}.mp4"
        return _Media(message.video_note.file_id, message.video_note.file_size, name, "video_note_title")
    if message.video:
        name = message.video.file_name or f"video-{message.message_id}.mp4"
        return _Media(message.video.file_id, message.video.file_size, name)
    if message.document:
        name = message.document.file_name or f"file-{message.message_id}"
        return _Media(message.document.file_id, message.document.file_size, name)
    return None


class _Refused(Exception):
    """A file the bot turns down before anything is stored; the message says why and what to do."""


async def _download(bot: Bot, file_path: str) -> AsyncIterator[bytes]:
    """The file's bytes from the Bot API server (a local-mode server's absolute path is read from disk)."""
    if Path(file_path).is_absolute() and Path(file_path).is_file():
        async with await anyio.open_file(file_path, "rb") as f:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk
        return
    async for chunk in bot.session.stream_content(bot.session.api.file_url(bot.token, file_path), timeout=600):
        yield chunk


async def _incoming(bot: Bot, services: BotServices, lang: str, found: _Media) -> IncomingFile:
    """The file to upload, once its size is within Spek's limit and what the Bot API server lets a bot download."""
    if found.file_size is not None and found.file_size > services.settings.max_upload_mb * 1024 * 1024:
        raise _Refused(text(lang, "too_big", limit=services.settings.max_upload_mb))
    if found.file_size is not None and found.file_size > CLOUD_DOWNLOAD_LIMIT and services.cloud_api:
        raise _Refused(text(lang, "too_big_cloud"))
    try:
        file = await bot.get_file(found.file_id)
    except TelegramBadRequest as e:
        if "too big" in e.message.lower():  # the cloud Bot API's 20 MB
            raise _Refused(text(lang, "too_big_cloud")) from None
        raise
    if not file.file_path:
        raise _Refused(text(lang, "unsupported"))
    return IncomingFile(found.filename, _download(bot, file.file_path))


@router.message(F.voice | F.audio | F.video_note | F.video | F.document)
async def media(message: Message, bot: Bot, services: BotServices) -> None:
    """A file, or an album of files (one batch: one bad file refuses them all, nothing stored), each with its own
    status message."""
    messages = await services.albums.collect(message)
    if message.from_user is None or not messages:
        return
    lang = _lang(message.from_user)
    try:
        statuses = await _upload(bot, services, lang, message.from_user, messages)
    except _Refused as e:
        await message.answer(str(e))
        return
    except (SpekError, TelegramBadRequest) as e:
        await _say_error(message, lang, e, services)
        return
    await asyncio.gather(*(_watch(bot, services, status) for status in statuses))


async def _upload(
    bot: Bot, services: BotServices, lang: str, who: TelegramUser, messages: list[Message]
) -> list[TelegramStatusMessage]:
    """Upload the messages' files as the user's recordings (a batch when there are several) and post a status
    message for each, remembered until its job ends."""
    found = [(message, media) for message in messages if (media := _media_of(message)) is not None]
    async with signed_in(services, who) as (session, account, user):
        for _ in found:
            await services.rate_limits.hit("uploads", str(user.id))
        files = [await _incoming(bot, services, lang, media) for _, media in found]
        preferences = telegram.Preferences.of(account)
        if len(files) == 1:
            message, media = found[0]
            when = message.date.strftime("%Y-%m-%d %H:%M")
            title = text(lang, media.title_key, when=when) if media.title_key else None
            options = preferences.recording_options(title)
            added = [await recordings.upload_recording(session, services.upload_tools(), user, files[0], options)]
        else:
            options = preferences.recording_options()
            batch = await recordings.submit_batch(session, services.upload_tools(), user, files, options)
            added = batch.recordings
        statuses = []
        for (message, _), recording in zip(found, added, strict=True):
            if recording.job_id is None:
                continue
            status = TelegramStatusMessage(
                job_id=recording.job_id,
                recording_id=recording.id,
                chat_id=message.chat.id,
                message_id=None,
                language=lang,
                title=recording.title,
            )
            # Remembered before it is posted: a bot killed in between posts it again when it starts.
            await telegram.track_status(session, user, status)
            await _post_status(bot, services, status, reply_to=message.message_id)
            statuses.append(status)
    return statuses


async def _post_status(
    bot: Bot, services: BotServices, status: TelegramStatusMessage, reply_to: int | None = None
) -> int:
    """Post the status message of a queued job and remember which message it is."""
    queued = JobEvent(str(status.job_id), 0, JobStatus.QUEUED, None, 0.0, None, None, None, datetime.now(UTC))
    posted = await bot.send_message(
        status.chat_id,
        render_progress(status.language, status.title, queued),
        reply_markup=_cancel_keyboard(status.language, status.job_id),
        # Posted even when the user has deleted their message meanwhile.
        reply_parameters=None
        if reply_to is None
        else ReplyParameters(message_id=reply_to, allow_sending_without_reply=True),
    )
    status.message_id = posted.message_id
    async with services.sessionmaker() as session:
        await telegram.status_posted(session, status.job_id, posted.message_id)
    return posted.message_id


async def resume_statuses(bot: Bot, services: BotServices) -> None:
    """Carry on with the status messages the bot was editing when it last stopped (their jobs went on meanwhile)."""
    async with services.sessionmaker() as session:
        statuses = await telegram.tracked_statuses(session)
    if statuses:
        log.info("telegram.resuming", status_messages=len(statuses))
    await asyncio.gather(*(_watch(bot, services, status) for status in statuses))


async def _watch(bot: Bot, services: BotServices, status: TelegramStatusMessage) -> None:
    """Follow one file to its end; the last of several files in a chat to finish says that all are ready."""
    chat_id = status.chat_id
    services.running[chat_id] = services.running.get(chat_id, 0) + 1
    services.sent[chat_id] = services.sent.get(chat_id, 0) + 1
    try:
        await _follow(bot, services, status)
    except TelegramForbiddenError as e:
        # The user blocked the bot (or removed it from the group): nothing reaches that chat any more, so
        # the status message is let go (the job goes on; its transcript is in the web app and the API).
        log.info("telegram.chat_closed", chat_id=chat_id, job_id=str(status.job_id), error=e.message)
        async with services.sessionmaker() as session:
            await telegram.untrack_status(session, status.job_id)
    finally:
        services.running[chat_id] -= 1
        if services.running[chat_id] == 0:
            count = services.sent.pop(chat_id, 0)
            del services.running[chat_id]
            if count > 1:
                with suppress(TelegramForbiddenError):
                    await bot.send_message(chat_id, text(status.language, "all_done", count=count))


def _cancel_keyboard(lang: str, job_id: uuid.UUID) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=text(lang, "cancel"), callback_data=f"c:{job_id}")
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def _events(
    services: BotServices, user_id: uuid.UUID, job_id: uuid.UUID, out: asyncio.Queue[JobEvent | None]
) -> None:
    """Every event of the job into `out` (the job's Redis stream, replayed then followed; resumed where it was
    after a Redis or PostgreSQL outage), then None."""
    after = 0
    try:
        while True:
            try:
                async with services.sessionmaker() as session:
                    user = await accounts.get_user(session, user_id)
                    async for event in jobs.follow_job(session, services.redis, user, job_id, after):
                        after = event.seq
                        await out.put(event)
                return
            except NotFound:
                return  # deleted meanwhile
            except Exception as e:
                if not is_outage(e):
                    raise
                log.warning("telegram.follow_interrupted", job_id=str(job_id), error=str(e))
                await asyncio.sleep(Unavailable.RETRY_AFTER_SECONDS)
    finally:
        await out.put(None)


async def _follow(bot: Bot, services: BotServices, status: TelegramStatusMessage) -> None:
    """Edit the status message from the job's events within the chat's edit limits, then send the transcript,
    its files and (when one is written) its note; forget the status message once all is delivered."""
    message_id = status.message_id
    if message_id is None:  # the bot stopped before it could post it
        message_id = await _post_status(bot, services, status)
    chat_id, lang = status.chat_id, status.language
    cancel = _cancel_keyboard(lang, status.job_id)
    queue: asyncio.Queue[JobEvent | None] = asyncio.Queue()
    reader = asyncio.create_task(_events(services, status.user_id, status.job_id, queue))
    pending: str | None = None
    last: JobEvent | None = None
    shown: str | None = None
    try:
        while True:
            try:
                timeout = max(0.05, services.throttle.wait_time(chat_id)) if pending else None
                event = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                edited = await services.throttle.edit(bot, chat_id, message_id, pending or "", cancel, final=False)
                if pending and edited:
                    shown, pending = pending, None
                continue
            if event is None:
                break
            last = event
            if event.status.is_terminal:
                break
            body = render_progress(lang, status.title, event)
            if body == shown:
                continue
            if await services.throttle.edit(bot, chat_id, message_id, body, cancel, final=False):
                shown, pending = body, None
            else:
                pending = body
    finally:
        reader.cancel()
    if last is None or not last.status.is_terminal:
        return  # the job is gone; or the bot is stopping, and carries on with it when it starts again
    final = render_final(lang, status.title, last)
    await services.throttle.edit(bot, chat_id, message_id, final, None, final=True)
    if last.status is JobStatus.COMPLETED:
        await _send_result(bot, services, status)
    async with services.sessionmaker() as session:
        await telegram.untrack_status(session, status.job_id)


def _files_keyboard(lang: str, services: BotServices, recording_id: uuid.UUID) -> InlineKeyboardMarkup:
    formats = [InlineKeyboardButton(text=kind, callback_data=f"x:{kind}:{recording_id}") for kind in CONTENT_TYPES]
    rows = [formats[:3], formats[3:]]
    base = services.settings.public_base_url
    if base.startswith("https://"):  # Telegram opens WebApps over HTTPS only
        player = WebAppInfo(url=f"{base}/?recording={recording_id}")
        rows.append([InlineKeyboardButton(text=text(lang, "open_player"), web_app=player)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _send_result(bot: Bot, services: BotServices, status: TelegramStatusMessage) -> None:
    chat_id, lang = status.chat_id, status.language
    async with services.sessionmaker() as session:
        user = await accounts.get_user(session, status.user_id)
        transcript = await transcripts.transcript_of(session, user, status.recording_id)
        if transcript is None:
            return
        document = await transcripts.export_document(session, user, transcript.id)
        recording = await recordings.get_recording(session, user, status.recording_id)
        note_job_id = recording.note_job_id
    messages = split_messages(transcript_lines(document)) or [text(lang, "transcript_empty")]
    if len(messages) > MAX_MESSAGES:
        export = render_export(document, "TXT")
        await bot.send_document(
            chat_id, BufferedInputFile(export.content, export.filename), caption=text(lang, "transcript_file")
        )
    else:
        for body in messages:
            await bot.send_message(chat_id, body)
    markup = _files_keyboard(lang, services, status.recording_id)
    await bot.send_message(chat_id, text(lang, "files"), reply_markup=markup)
    if note_job_id is None:
        return
    queue: asyncio.Queue[JobEvent | None] = asyncio.Queue()
    await _events(services, status.user_id, note_job_id, queue)
    events = [event for event in iter(queue.get_nowait, None)]
    if not events or events[-1].status is not JobStatus.COMPLETED:
        return
    async with services.sessionmaker() as session:
        user = await accounts.get_user(session, status.user_id)
        note = await notes.note_of(session, user, status.recording_id)
    if note is not None:
        await bot.send_message(chat_id, note_message(lang, note, document))


@router.callback_query(F.data.startswith("x:"))
async def export_button(callback: CallbackQuery, services: BotServices) -> None:
    lang = _lang(callback.from_user)
    _, kind, raw_id = (callback.data or "x::").split(":", 2)
    try:
        recording_id = uuid.UUID(raw_id)
        async with signed_in(services, callback.from_user) as (session, _account, user):
            transcript = await transcripts.transcript_of(session, user, recording_id)
            if transcript is None:
                raise NotFound("no transcript")
            document = await transcripts.export_document(session, user, transcript.id)
        export = render_export(document, kind)
    except (ValueError, SpekError):
        await callback.answer(text(lang, "not_found"), show_alert=True)
        return
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer_document(BufferedInputFile(export.content, export.filename))


@router.error()
async def on_error(event: ErrorEvent) -> bool:
    """What no handler caught: a rate limit or a refusal said politely, anything else logged and apologized for."""
    update, error = event.update, event.exception
    who = (
        update.message.from_user
        if update.message
        else update.callback_query.from_user
        if update.callback_query
        else None
    )
    lang = _lang(who)
    if isinstance(error, RateLimited):
        body = text(lang, "rate_limited", seconds=error.retry_after)
    elif isinstance(error, SpekError):
        body = str(error)
    else:
        log.error("telegram.handler_failed", error=repr(error), exc_info=error)
        body = text(lang, "error")
    with suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(body[:200], show_alert=True)
        elif update.message is not None:
            await update.message.answer(body)
    return True


@router.message()
async def anything_else(message: Message) -> None:
    await message.answer(text(_lang(message.from_user), "not_media"))
