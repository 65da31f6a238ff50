"""Find a phrase in a transcript, ignoring case, accents and punctuation.

Text and query are cut into words (runs of letters and digits; apostrophes inside a word are
dropped, so "don't" is "dont"), and each word is folded: case-folded, decomposed (NFKD) and
stripped of combining marks, so "Café" is "cafe" and "Ёлка" is "елка". "й" stays "й": in
Russian it is a letter of its own, not an accented "и". A query matches where its words follow
one another in the text, across punctuation and segment boundaries; its last word may be the
start of a word, so results come while typing. Quotes around a query change nothing.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from spek.errors import BadUserInput

_APOSTROPHES = "'’ʼ"
_BREVE = "\u0306"  # и + breve is й written in two characters


@dataclass(frozen=True)
class Token:
    """A folded word, and where it stands in the original text (half-open character range)."""

    text: str
    start: int
    end: int


def _fold(char: str) -> str:
    if char in "йЙ":
        return "й"
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).casefold()


def tokens(text: str) -> list[Token]:
    found: list[Token] = []
    word, start = "", 0
    for i, char in enumerate(text):
        folded = _fold(char)
        if char == _BREVE and word and text[i - 1] in "иИ":
            word = word[:-1] + "й"
        elif folded.isalnum():
            if not word:
                start = i
            word += folded
        elif char in _APOSTROPHES and word and i + 1 < len(text) and _fold(text[i + 1]).isalnum():
            continue
        elif unicodedata.combining(char) and word:
            continue  # an accent written apart from its letter belongs to the word
        elif word:
            found.append(Token(word, start, i))
            word = ""
    if word:
        found.append(Token(word, start, len(text)))
    return found


def normalize(text: str) -> str:
    """The text as search compares it: folded words separated by single spaces."""
    return " ".join(token.text for token in tokens(text))


def query_words(query: str) -> list[str]:
    words = [token.text for token in tokens(query)]
    if not words:
        raise BadUserInput("Type a word to search for: the query has no letters or digits.")
    return words


@dataclass(frozen=True)
class Hit:
    """Where a query matched in one segment: character ranges to highlight, and the words they cover."""

    segment: int  # position in the list searched
    ranges: list[tuple[int, int]]  # half-open, into the segment text
    words: list[int]  # indexes into the segment's words


def _word_spans(text: str, words: Sequence[str]) -> list[tuple[int, int] | None]:
    """Where each timed word stands in the segment text (None for one that is not there)."""
    spans: list[tuple[int, int] | None] = []
    at = 0
    for word in words:
        found = text.find(word, at)
        if found < 0:
            spans.append(None)
        else:
            spans.append((found, found + len(word)))
            at = found + len(word)
    return spans


def _prefix_end(text: str, token: Token, length: int) -> int:
    """The end, in the original text, of the first `length` folded characters of a token."""
    folded, i = 0, token.start
    while i < token.end and folded < length:
        folded += len(_fold(text[i])) if text[i] not in _APOSTROPHES else 0
        i += 1
    while i < token.end and unicodedata.combining(text[i]):
        i += 1
    return i


def search(segments: Sequence[tuple[str, Sequence[str]]], query: str) -> list[Hit]:
    """Hits for the query in segments given as (text, word texts), in the order given."""
    wanted = query_words(query)
    stream = [(position, token) for position, (text, _) in enumerate(segments) for token in tokens(text)]
    ranges: dict[int, list[tuple[int, int]]] = {}
    for first in range(len(stream) - len(wanted) + 1):
        window = stream[first : first + len(wanted)]
        if any(token.text != word for (_, token), word in zip(window[:-1], wanted)):
            continue
        position, last = window[-1]
        if not last.text.startswith(wanted[-1]):
            continue
        # One range per segment the match touches: from its first word there to its last.
        for touched in sorted({p for p, _ in window}):
            inside = [token for p, token in window if p == touched]
            end = _prefix_end(segments[touched][0], last, len(wanted[-1])) if touched == position else inside[-1].end
            ranges.setdefault(touched, []).append((inside[0].start, end))
    hits = []
    for position in sorted(ranges):
        merged = _merge(ranges[position])
        spans = _word_spans(*segments[position])
        words = [i for i, span in enumerate(spans) if span and any(s < span[1] and span[0] < e for s, e in merged)]
        hits.append(Hit(position, merged, words))
    return hits


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping matches ("la la" in "la la la") highlight as one range."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
