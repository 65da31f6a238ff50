"""Status messages edited live, within Telegram's limits: at most one edit a second per chat, a 429's
`retry_after` honoured, and the final state always delivered."""

import asyncio
import time
from collections import defaultdict

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup

from spek.jobs.events import JobEvent
from spek.jobs.models import JobStatus
from telegram_bot.texts import stage_name, text

log = structlog.get_logger("spek.telegram")
EDIT_INTERVAL_SECONDS = 1.0
FINAL_ATTEMPTS = 20
BAR_WIDTH = 10


class EditThrottle:
    """One per bot process: when each chat may next see an edit."""

    def __init__(self, interval: float = EDIT_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._next: dict[int, float] = {}
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def wait_time(self, chat_id: int) -> float:
        return max(0.0, self._next.get(chat_id, 0.0) - time.monotonic())

    async def edit(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        body: str,
        markup: InlineKeyboardMarkup | None,
        *,
        final: bool,
    ) -> bool:
        """Edit the message now if the chat allows it; a final edit waits (and retries after a 429) until it is
        delivered. False when a non-final edit was skipped."""
        lock = self._locks[chat_id]
        if not final and lock.locked():
            return False
        async with lock:
            for _ in range(FINAL_ATTEMPTS):
                wait = self.wait_time(chat_id)
                if wait > 0:
                    if not final:
                        return False
                    await asyncio.sleep(wait)
                try:
                    await bot.edit_message_text(text=body, chat_id=chat_id, message_id=message_id, reply_markup=markup)
                except TelegramRetryAfter as e:
                    log.info("telegram.retry_after", chat_id=chat_id, seconds=e.retry_after)
                    self._next[chat_id] = time.monotonic() + e.retry_after
                    if not final:
                        return False
                    continue
                except TelegramBadRequest as e:
                    if "not modified" not in e.message:
                        log.warning("telegram.edit_failed", chat_id=chat_id, error=e.message)
                self._next[chat_id] = time.monotonic() + self.interval
                return True
            return False


def progress_bar(progress: float) -> str:
    filled = max(0, min(BAR_WIDTH, int(progress * BAR_WIDTH + 1e-9)))
    return "▰" * filled + "▱" * (BAR_WIDTH - filled)


def duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    if whole >= 3600:
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
    return f"{whole // 60}:{whole % 60:02d}"


def render_progress(lang: str, title: str, event: JobEvent) -> str:
    """What the status message says while the job runs."""
    if event.status is JobStatus.QUEUED:
        return f"🎙 {title}\n{text(lang, 'queued')} {progress_bar(0)} 0%"
    stage = stage_name(lang, event.stage) or text(lang, "queued")
    line = f"{stage} {progress_bar(event.progress)} {event.progress:.0%}"
    if event.eta_seconds is not None and event.eta_seconds > 0:
        line += " · " + text(lang, "eta", eta=duration(event.eta_seconds))
    return f"🎙 {title}\n{line}"


def render_final(lang: str, title: str, event: JobEvent) -> str:
    if event.status is JobStatus.COMPLETED:
        return text(lang, "done", title=title)
    if event.status is JobStatus.CANCELLED:
        return f"🎙 {title}\n{text(lang, 'cancelled')}"
    return f"🎙 {title}\n{text(lang, 'failed', error=event.error or '?')}"
