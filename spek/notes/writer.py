"""An LLM writes a note from a transcript: one pass when it fits the model's context, else map-reduce.

Pure: a transcript's turns in, a `NoteDraft` out; no SQL. The model answers in JSON constrained by a
schema (arrays bounded with maxItems, which small models need to stop), and everything it says is
checked and tidied here: 2–3 sentence summary, 3–5 tags reusing the user's own, Markdown built by us.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from spek.llm import LLM, ChatMessage

MAX_OUTPUT_TOKENS = 700
TEMPERATURE = 0.2
MIN_TAGS, MAX_TAGS = 3, 5
LANGUAGES = {
    "en": "English", "ru": "Russian", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "uk": "Ukrainian", "tr": "Turkish", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi",
}  # fmt: skip

# The note's section headings in its language (English where there is none yet).
HEADINGS = {
    "en": ("Key points", "Decisions", "Action items"),
    "ru": ("Главное", "Решения", "Задачи"),
    "uk": ("Головне", "Рішення", "Завдання"),
    "fr": ("Points clés", "Décisions", "Actions à mener"),
    "de": ("Kernpunkte", "Entscheidungen", "Aufgaben"),
    "es": ("Puntos clave", "Decisiones", "Tareas"),
    "it": ("Punti chiave", "Decisioni", "Azioni da fare"),
    "pt": ("Pontos-chave", "Decisões", "Tarefas"),
}

_LIST = {"type": "array", "items": {"type": "string", "maxLength": 200}}
POINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key_points": {**_LIST, "maxItems": 8},
        "decisions": {**_LIST, "maxItems": 5},
        "action_items": {**_LIST, "maxItems": 5},
    },
    "required": ["key_points", "decisions", "action_items"],
}
MAX_TOPICS, MAX_POINTS_PER_TOPIC = 4, 4
TOPICS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "topic": {"type": "string", "maxLength": 60},
            "points": {**_LIST, "maxItems": MAX_POINTS_PER_TOPIC},
        },
        "required": ["topic", "points"],
    },
    "maxItems": MAX_TOPICS,
}
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 80},
        "summary": {"type": "string", "maxLength": 600},
        "topics": TOPICS_SCHEMA,  # the key points, grouped by what they are about
        "decisions": POINTS_SCHEMA["properties"]["decisions"],
        "action_items": POINTS_SCHEMA["properties"]["action_items"],
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": MAX_TAGS},
    },
    "required": ["title", "summary", "topics", "decisions", "action_items", "tags"],
}
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string", "maxLength": 600}},
    "required": ["summary"],
}
SUMMARY_PROMPT = "Summarize this conversation in two or three full sentences, each ending with a period.\n\n"


@dataclass(frozen=True)
class Turn:
    speaker: str | None  # the name people read ("Anna", "Speaker 2"); None without diarization
    start: float
    text: str

    def line(self) -> str:
        minutes, seconds = divmod(int(self.start), 60)
        return f"[{minutes:02d}:{seconds:02d}] {self.speaker + ': ' if self.speaker else ''}{self.text}"


@dataclass(frozen=True)
class NoteDraft:
    title: str
    summary: str
    content: str  # Markdown
    tags: list[str]


def _system(language: str) -> str:
    name = LANGUAGES.get(language, language)
    return (
        "You write short, faithful notes of recorded conversations. Use only what the transcript says: "
        "never add names, numbers or facts that are not in it. "
        f"Write every text field in {name}. Answer with JSON only."
    )


async def _ask(llm: LLM, language: str, prompt: str, schema: dict[str, Any]) -> dict[str, Any]:
    messages = [ChatMessage("system", _system(language)), ChatMessage("user", prompt)]
    answer = await llm.complete(messages, max_tokens=MAX_OUTPUT_TOKENS, temperature=TEMPERATURE, json_schema=schema)
    try:
        data = json.loads(answer)
    except json.JSONDecodeError:
        data = {}
    return data if isinstance(data, dict) else {}


def _strings(data: dict[str, Any], key: str, most: int) -> list[str]:
    values = data.get(key)
    if not isinstance(values, list):
        return []
    cleaned = [" ".join(str(v).split()) for v in values if isinstance(v, str | int | float)]
    return list(dict.fromkeys(v for v in cleaned if v))[:most]


def _parts(turns: list[Turn], llm: LLM, budget: int) -> list[list[Turn]]:
    """The transcript cut between turns into pieces of at most `budget` tokens each."""
    parts: list[list[Turn]] = [[]]
    used = 0
    for turn in turns:
        cost = llm.count_tokens(turn.line()) + 1
        if parts[-1] and used + cost > budget:
            parts.append([])
            used = 0
        parts[-1].append(turn)
        used += cost
    return parts


async def write_note(
    llm: LLM, turns: list[Turn], language: str, known_tags: list[str], fallback_title: str
) -> NoteDraft:
    # Room for the instructions and the answer; the rest of the context is the transcript.
    budget = max(256, llm.context_tokens - MAX_OUTPUT_TOKENS - 400)
    parts = _parts(turns, llm, budget)
    if len(parts) == 1:
        source = "Transcript:\n" + "\n".join(t.line() for t in turns)
    else:  # map: the points of each part; reduce: the note from all of them
        points: dict[str, list[str]] = {"key_points": [], "decisions": [], "action_items": []}
        for number, part in enumerate(parts, 1):
            prompt = (
                f"Part {number} of {len(parts)} of a transcript. List its key points, decisions and action items.\n\n"
                + "\n".join(t.line() for t in part)
            )
            found = await _ask(llm, language, prompt, POINTS_SCHEMA)
            for key in points:
                points[key] += _strings(found, key, 8)
        source = "Notes taken from each part of one conversation:\n" + json.dumps(points, ensure_ascii=False)
    tags_hint = (
        f"The user's existing tags (reuse those that fit): {', '.join(known_tags[:50])}.\n" if known_tags else ""
    )
    prompt = (
        "Write the note of this conversation: a title (at most 8 words), a summary of 2 or 3 sentences, "
        f"its key points grouped under 1 to {MAX_TOPICS} topics (a short name for each topic, and its points), "
        f"decisions and action items (empty lists when there are none), and {MIN_TAGS} to {MAX_TAGS} short topic "
        f"tags.\n{tags_hint}\n{source}"
    )
    data = await _ask(llm, language, prompt, NOTE_SCHEMA)
    summary = _summary(data.get("summary"))
    if len(_sentences(summary)) < 2:  # small models often give one sentence: asked once more, for it alone
        again = await _ask(llm, language, SUMMARY_PROMPT + source, SUMMARY_SCHEMA)
        if len(_sentences(better := _summary(again.get("summary")))) > len(_sentences(summary)):
            summary = better
    return NoteDraft(
        title=_title(data.get("title"), fallback_title),
        summary=summary,
        content=_markdown(data, language),
        tags=_tags(_strings(data, "tags", 10), known_tags),
    )


def _title(value: object, fallback: str) -> str:
    title = " ".join(str(value or "").split()).strip(" .\"'")
    return (title or fallback)[:200]


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s]


def _summary(value: object) -> str:
    """At most three sentences, the last one ended: a small model sometimes runs on, or stops mid-sentence."""
    summary = " ".join(_sentences(" ".join(str(value or "").split()))[:3])
    return summary + "." if summary and summary[-1] not in ".!?…" else summary


def _key_points(data: dict[str, Any]) -> str:
    """The key points as Markdown, a `### topic` over each group (a model that ignored the schema and gave a flat
    `key_points` list gets a flat list)."""
    topics = data.get("topics")
    groups = []
    for entry in topics if isinstance(topics, list) else []:
        if isinstance(entry, dict) and (points := _strings(entry, "points", MAX_POINTS_PER_TOPIC)):
            name = " ".join(str(entry.get("topic") or "").split()).strip(" .:#")[:60]
            groups.append((name, "\n".join(f"- {p}" for p in points)))
    if not groups:
        return "\n".join(f"- {p}" for p in _strings(data, "key_points", 8))
    if len(groups) == 1:
        return groups[0][1]  # one topic is no grouping: its name would only repeat the title
    return "\n\n".join(f"### {name}\n\n{points}" if name else points for name, points in groups[:MAX_TOPICS])


def _markdown(data: dict[str, Any], language: str) -> str:
    points, decisions, actions = HEADINGS.get(language, HEADINGS["en"])
    sections = [
        (points, _key_points(data)),
        (decisions, "\n".join(f"- {d}" for d in _strings(data, "decisions", 5))),
        (actions, "\n".join(f"- [ ] {a}" for a in _strings(data, "action_items", 5))),
    ]
    return "\n\n".join(f"## {heading}\n\n{body}" for heading, body in sections if body)


def _tags(proposed: list[str], known: list[str]) -> list[str]:
    """The model's tags, tidied, spelled as the user's existing tag where one matches; at most five."""
    by_key = {tag.casefold(): tag for tag in known}
    tags: list[str] = []
    for tag in proposed:
        tag = " ".join(tag.strip().lstrip("#").split())[:30].strip()
        if not tag:
            continue
        tag = by_key.get(tag.casefold(), tag.lower())
        if tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    return tags[:MAX_TAGS]
