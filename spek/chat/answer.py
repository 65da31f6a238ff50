"""What the model is asked, and what is kept of its answer: numbered sources in, checked citations out.
Pure functions: no SQL, no Redis."""

import re
import uuid
from dataclasses import asdict
from typing import Any

from spek.llm import ChatMessage
from spek.search.models import SearchKind
from spek.search.service import SearchHit

# The question's script decides the language of what Spek itself says; the model is asked to answer in
# the question's language whatever it is.
NOTHING_FOUND = {
    "en": "I couldn't find anything about this in your notes, documents or recordings.",
    "ru": "В ваших заметках, документах и записях об этом ничего не нашлось.",
}
SYSTEM = """You answer questions using only the numbered sources below, which come from the user's own \
notes, documents and recordings. Cite the sources you use with their numbers in square brackets, like [1] \
or [2][3], right after the sentence they support. If the sources do not contain the answer, say that \
you could not find it in the user's material; never make up facts. Answer briefly, in {language}."""
SOURCE_CHARACTERS = 1200  # of each source's text in the prompt, at most
# Of all sources together: a CPU reads a prompt at ~100-200 tokens/s, so the local model gets less to read
# before its first word; a remote one more.
LOCAL_SOURCES_CHARACTERS = 2400
REMOTE_SOURCES_CHARACTERS = 7200
HISTORY_TURNS = 4  # earlier messages of the conversation given to the model
_CITATION = re.compile(r"\[(\d{1,2})\]")
_WORD = re.compile(r"\w{4,}")
# Attribution, for an answer that cites nothing: a source is drawn on when it shares at least this many
# of the answer's words (of four letters or more), and not far fewer than the best source.
MIN_SHARED_WORDS = 3
SHARED_WORDS_OF_BEST = 0.6
MAX_ATTRIBUTED = 3


def sources_budget(provider: str) -> int:
    return LOCAL_SOURCES_CHARACTERS if provider == "local" else REMOTE_SOURCES_CHARACTERS


def language_of(text: str) -> str:
    """ "ru" for a question mostly in Cyrillic letters, else "en"."""
    letters = [c for c in text if c.isalpha()]
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in letters)
    return "ru" if letters and cyrillic * 2 >= len(letters) else "en"


def source_label(hit: SearchHit) -> str:
    """How a source is introduced to the model: its kind, title and where in it."""
    where = ""
    if hit.kind is SearchKind.TRANSCRIPT and hit.start is not None:
        where = f", at {int(hit.start) // 60}:{int(hit.start) % 60:02d}"
    elif hit.page is not None:
        where = f", page {hit.page}"
    kind = {SearchKind.TRANSCRIPT: "recording", SearchKind.DOCUMENT: "document"}.get(hit.kind, hit.kind.value.lower())
    return f"{kind} “{hit.title}”{where}"


def prompt(
    question: str, history: list[ChatMessage], sources: list[tuple[SearchHit, str]], budget: int
) -> tuple[list[ChatMessage], list[tuple[SearchHit, str]]]:
    """The messages for the model (instructions with the numbered sources, recent turns, the question), and
    the sources that fit `budget` characters, best first: only those can be cited."""
    language = "Russian" if language_of(question) == "ru" else "the language of the question"
    shown: list[tuple[SearchHit, str]] = []
    for hit, text in sources:
        room = min(SOURCE_CHARACTERS, budget - sum(len(t) for _, t in shown))
        if room < SOURCE_CHARACTERS // 4 and shown:
            break
        shown.append((hit, text[:room]))
    numbered = "\n\n".join(f"[{n}] {source_label(hit)}:\n{text}" for n, (hit, text) in enumerate(shown, 1))
    system = SYSTEM.format(language=language) + "\n\nSources:\n\n" + numbered
    return [ChatMessage("system", system), *history[-HISTORY_TURNS:], ChatMessage("user", question)], shown


def attributed(content: str, sources: list[tuple[SearchHit, str]]) -> list[SearchHit]:
    """For an answer that cites no source (small models often do not): the sources it draws on, judged by
    the words it shares with each. Best first."""
    words = _words(content)
    shared = sorted(((len(words & _words(text)), n) for n, (_, text) in enumerate(sources)), reverse=True)
    if not shared or shared[0][0] < MIN_SHARED_WORDS:
        return []
    floor = max(MIN_SHARED_WORDS, shared[0][0] * SHARED_WORDS_OF_BEST)
    return [sources[n][0] for count, n in shared[:MAX_ATTRIBUTED] if count >= floor]


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text) if not word.isdigit()}


def checked_citations(content: str, sources: list[SearchHit]) -> tuple[str, list[SearchHit]]:
    """The answer with its citation numbers checked against the sources: numbers that point nowhere are
    dropped, the rest renumbered 1, 2, 3… in the order first cited, so that [n] is the n-th citation; and
    those citations."""
    cited: list[SearchHit] = []

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(sources):
            return ""
        if sources[n - 1] not in cited:
            cited.append(sources[n - 1])
        return f"[{cited.index(sources[n - 1]) + 1}]"

    text = _CITATION.sub(renumber, content)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", text).strip(), cited


def stored(hit: SearchHit) -> dict[str, Any]:
    """A citation as kept with its message (JSON)."""
    data = asdict(hit)
    data.update(kind=hit.kind.value, id=str(hit.id), parent_id=str(hit.parent_id) if hit.parent_id else None)
    return data


def restored(data: dict[str, Any]) -> SearchHit:
    parent = data.get("parent_id")
    return SearchHit(
        **{
            **data,
            "kind": SearchKind(data["kind"]),
            "id": uuid.UUID(data["id"]),
            "parent_id": parent and uuid.UUID(parent),
        }
    )
