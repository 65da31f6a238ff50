"""SRT and WebVTT: cues of at most 2 lines of 42 characters and 7 seconds, cut at word timings.

A cue never spans two segments. Segments without word timings get them spread over the segment
in proportion to word length (as after an edit). The speaker's name leads the first cue after a
change of speaker ("Ada: ..."); WebVTT cues also carry it as a voice tag (`<v Ada>`) on every cue.
"""

from dataclasses import dataclass

from spek.transcripts.document import DocumentWord
from spek.transcripts.fragments import Selection
from spek.transcripts.timecodes import cue_time, milliseconds
from spek.transcripts.words import retime, spread

MAX_LINE = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    speaker: str | None  # the name, when speakers are shown
    lines: list[str]


def cues(selection: Selection, speakers: bool = True) -> list[Cue]:
    found: list[Cue] = []
    previous: str | None = None
    for segment in selection.segments:
        name = selection.document.speaker_name(segment.speaker) if speakers else None
        prefix = _prefix(name) if name and (name != previous or not found) else None
        previous = name
        group: list[DocumentWord] = []
        for word in _pieces(retime(list(segment.words), segment.text, segment.start, segment.end)):
            if group and (_wrap(prefix, [*group, word]) is None or word.end - group[0].start > MAX_CUE_SECONDS):
                found.append(_cue(name, prefix, group))
                prefix, group = None, []
            group.append(word)
        if group:
            found.append(_cue(name, prefix, group))
    return found


def _prefix(name: str) -> str:
    # A long name is shortened so that it and any word still fit in one cue.
    return f"{name}:" if len(name) < MAX_LINE else f"{name[: MAX_LINE - 2]}…:"


def _pieces(words: list[DocumentWord]) -> list[DocumentWord]:
    """Words longer than a line, cut into line-sized pieces (a URL read out, say)."""
    result: list[DocumentWord] = []
    for word in words:
        if len(word.text) <= MAX_LINE:
            result.append(word)
        else:
            chunks = [word.text[i : i + MAX_LINE] for i in range(0, len(word.text), MAX_LINE)]
            result += spread(chunks, word.start, word.end)
    return result


def _wrap(prefix: str | None, words: list[DocumentWord]) -> list[str] | None:
    """The cue's lines, broken where they come out most even; None if they do not fit."""
    tokens = ([prefix] if prefix else []) + [word.text for word in words]
    whole = " ".join(tokens)
    if len(whole) <= MAX_LINE:
        return [whole]
    best: list[str] | None = None
    for cut in range(1, len(tokens)):
        lines = [" ".join(tokens[:cut]), " ".join(tokens[cut:])]
        if all(len(line) <= MAX_LINE for line in lines) and (
            best is None or max(map(len, lines)) < max(map(len, best))
        ):
            best = lines
    return best


def _cue(name: str | None, prefix: str | None, words: list[DocumentWord]) -> Cue:
    start = milliseconds(words[0].start)
    end = min(milliseconds(words[-1].end), start + int(MAX_CUE_SECONDS * 1000))
    return Cue(start, max(end, start + 1), name, _wrap(prefix, words) or [])


def srt(selection: Selection, speakers: bool = True) -> bytes:
    blocks = [
        f"{number}\n{cue_time(cue.start_ms, ',')} --> {cue_time(cue.end_ms, ',')}\n" + "\n".join(cue.lines)
        for number, cue in enumerate(cues(selection, speakers), start=1)
    ]
    return "".join(f"{block}\n\n" for block in blocks).encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt(selection: Selection, speakers: bool = True) -> bytes:
    def text(cue: Cue) -> str:
        voice = f"<v {_escape(cue.speaker)}>" if cue.speaker else ""
        return voice + "\n".join(_escape(line) for line in cue.lines)

    blocks = [
        f"{cue_time(cue.start_ms, '.')} --> {cue_time(cue.end_ms, '.')}\n{text(cue)}"
        for cue in cues(selection, speakers)
    ]
    return ("WEBVTT\n\n" + "".join(f"{block}\n\n" for block in blocks)).encode()
