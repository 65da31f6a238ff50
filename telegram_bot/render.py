"""Transcripts and notes as Telegram messages."""

from spek.notes.models import Note
from spek.transcripts.document import TranscriptDocument, turns
from spek.transcripts.fragments import Fragment, select
from telegram_bot.texts import text

MAX_MESSAGE = 4096
MAX_MESSAGES = 3  # a longer transcript goes as a .txt document


def timestamp(seconds: float) -> str:
    """[mm:ss], or [h:mm:ss] past an hour."""
    whole = max(0, int(seconds))
    if whole >= 3600:
        return f"[{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}]"
    return f"[{whole // 60:02d}:{whole % 60:02d}]"


def transcript_lines(document: TranscriptDocument) -> list[str]:
    """One line per turn: `[mm:ss] Speaker: text`."""
    lines = []
    for turn in turns(select(document, Fragment()).segments):
        name = document.speaker_name(turn.speaker)
        lines.append(f"{timestamp(turn.start)} {name}: {turn.text}" if name else f"{timestamp(turn.start)} {turn.text}")
    return lines


def split_messages(lines: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Lines packed into messages of at most `limit` characters (a longer line is cut)."""
    messages: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            if current:
                messages.append(current)
                current = ""
            messages.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def note_message(lang: str, note: Note, document: TranscriptDocument | None) -> str:
    parts = [f"{text(lang, 'summary')}: {note.title}", note.summary]
    if note.key_phrases:
        parts.append(f"{text(lang, 'key_phrases')}: " + ", ".join(note.key_phrases))
    if note.sentiment:
        tones = []
        for entry in note.sentiment:
            speaker = entry.get("speaker")
            name = (document.speaker_name(speaker) if document is not None and speaker else speaker) or "—"
            tones.append(f"{name}: {entry.get('label')} ({float(entry.get('score') or 0):+.2f})")
        parts.append(f"{text(lang, 'sentiment')}: " + "; ".join(tones))
    return "\n\n".join(part for part in parts if part)[:MAX_MESSAGE]
