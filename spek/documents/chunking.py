"""A document's blocks cut into overlapping chunks of about `size` characters for embedding and search.

Cuts fall between sentences; a sentence longer than a chunk is cut between words (and a word longer
than a chunk, a URL or a hash, anywhere). A heading change always starts a new chunk, so a chunk
never mixes two sections. Consecutive chunks of a section share whole sentences (or words) of up to
`overlap` characters, so a passage cut by a boundary is still whole in one of them.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from spek.documents.blocks import TextBlock

BLOCK_SEPARATOR = "\n\n"

# A sentence ends with . ! ? … (then closing quotes or brackets) before whitespace, or with a CJK
# full stop, which needs no space; a blank line ends one too (a list item, a title without a period).
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)|[。！？]+[\"'”’»)\]]*|(?=\n[ \t]*\n)")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """index: position in the document, from 0; page and heading: where the chunk starts (a cited
    chunk opens there); start_char/end_char: the half-open range it covers in document_text(blocks).
    """

    index: int
    text: str
    page: int | None
    heading: str | None
    start_char: int
    end_char: int


@dataclass(frozen=True)
class _Unit:
    text: str  # whitespace normalized
    start: int
    end: int
    page: int | None


def document_text(blocks: list[TextBlock]) -> str:
    """The text chunk offsets refer to: the blocks' texts as extracted, one blank line between them."""
    return BLOCK_SEPARATOR.join(block.text for block in blocks)


def chunk(blocks: list[TextBlock], size: int = 1000, overlap: int = 200) -> list[Chunk]:
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"chunk size {size} and overlap {overlap}: need 0 <= overlap < size")
    units: list[tuple[str | None, _Unit]] = []
    offset = 0
    for block in blocks:
        units.extend((block.heading, unit) for unit in _units(block, offset, size))
        offset += len(block.text) + len(BLOCK_SEPARATOR)
    chunks: list[Chunk] = []
    for heading, section in groupby(units, key=lambda pair: pair[0]):
        for packed in _pack([unit for _, unit in section], size, overlap):
            text = " ".join(unit.text for unit in packed)
            chunks.append(Chunk(len(chunks), text, packed[0].page, heading, packed[0].start, packed[-1].end))
    return chunks


def _units(block: TextBlock, offset: int, size: int) -> Iterator[_Unit]:
    """The block's sentences, or the words of a sentence longer than size."""
    for start, end in _sentences(block.text):
        text = " ".join(block.text[start:end].split())
        if len(text) <= size:
            yield _Unit(text, offset + start, offset + end, block.page)
            continue
        for word in _WORD.finditer(block.text, start, end):
            for piece in range(word.start(), word.end(), size):
                stop = min(piece + size, word.end())
                yield _Unit(block.text[piece:stop], offset + piece, offset + stop, block.page)


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """Half-open ranges of the sentences in text, without the whitespace around them."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        yield from _trimmed(text, start, match.end())
        start = match.end()
    yield from _trimmed(text, start, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _pack(units: list[_Unit], size: int, overlap: int) -> list[list[_Unit]]:
    """Units into runs whose joined text is at most size long; each run after the first starts with
    the last units of the one before that fit in overlap characters (and leave room for the next unit).
    """
    runs: list[list[_Unit]] = []
    current: list[_Unit] = []
    for unit in units:
        if current and _length(current) + 1 + len(unit.text) > size:
            runs.append(current)
            current = _tail(current, min(overlap, size - len(unit.text) - 1))
        current.append(unit)
    if current:
        runs.append(current)
    return runs


def _tail(units: list[_Unit], limit: int) -> list[_Unit]:
    """The longest run of last units whose joined text is at most limit long."""
    length, count = -1, 0
    for unit in reversed(units):
        if length + 1 + len(unit.text) > limit:
            break
        length += 1 + len(unit.text)
        count += 1
    return units[len(units) - count :]


def _length(units: list[_Unit]) -> int:
    return sum(len(unit.text) for unit in units) + len(units) - 1
