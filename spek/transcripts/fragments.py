"""The part of a transcript an export covers: all of it, a time range, chosen segments, or both.

A time range keeps the words whose middle lies inside it (a segment without word timings is
kept whole when it overlaps the range) and clips times to the range. Rebasing subtracts the
range's start, or without a range the first chosen segment's start, from every time, so the
export lines up with audio cut at that point.
"""

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace

from spek.errors import BadUserInput
from spek.ids import parse_id
from spek.transcripts.document import DocumentSegment, TranscriptDocument


@dataclass(frozen=True)
class Fragment:
    start: float | None = None  # seconds; None: from the beginning
    end: float | None = None  # seconds; None: to the end
    segment_ids: Collection[uuid.UUID | str] | None = None  # None: every segment
    rebase: bool = False

    @property
    def whole(self) -> bool:
        return self.start is None and self.end is None and self.segment_ids is None


@dataclass(frozen=True)
class Selection:
    document: TranscriptDocument
    segments: list[DocumentSegment]  # chosen, clipped and (when rebased) shifted, in time order
    fragment: Fragment
    offset: float  # seconds subtracted from every time


def select(document: TranscriptDocument, fragment: Fragment) -> Selection:
    chosen = list(document.segments)
    if fragment.segment_ids is not None:
        ids = {parse_id(str(i), "segmentIds") for i in fragment.segment_ids}
        unknown = ids - {segment.id for segment in chosen}
        if unknown:
            raise BadUserInput(f"These segments are not in this transcript: {', '.join(sorted(map(str, unknown)))}.")
        chosen = [segment for segment in chosen if segment.id in ids]
    if fragment.start is not None or fragment.end is not None:
        low = fragment.start if fragment.start is not None else 0.0
        high = fragment.end if fragment.end is not None else float("inf")
        if low < 0 or high <= low:
            raise BadUserInput("The time range needs 0 <= start < end (in seconds).")
        chosen = [clipped for segment in chosen if (clipped := _clip(segment, low, high)) is not None]
    if not fragment.whole and not chosen:
        raise BadUserInput("The fragment selects no speech: choose segments, or a time range in which someone speaks.")
    offset = 0.0
    if fragment.rebase and chosen:
        offset = fragment.start if fragment.start is not None else chosen[0].start
        chosen = [_shifted(segment, offset) for segment in chosen]
    return Selection(document, chosen, fragment, offset)


def _clip(segment: DocumentSegment, low: float, high: float) -> DocumentSegment | None:
    if segment.end <= low or segment.start >= high:
        return None
    if low <= segment.start and segment.end <= high:
        return segment
    if not segment.words:
        return replace(segment, start=max(segment.start, low), end=min(segment.end, high))
    kept = [word for word in segment.words if low <= (word.start + word.end) / 2 < high]
    if not kept:
        return None
    return replace(
        segment,
        start=max(segment.start, low),
        end=min(segment.end, high),
        text=segment.text if len(kept) == len(segment.words) else " ".join(word.text for word in kept),
        words=tuple(replace(word, start=max(word.start, low), end=min(word.end, high)) for word in kept),
    )


def _shifted(segment: DocumentSegment, offset: float) -> DocumentSegment:
    def at(seconds: float) -> float:
        return round(max(0.0, seconds - offset), 3)

    return replace(
        segment,
        start=at(segment.start),
        end=at(segment.end),
        words=tuple(replace(word, start=at(word.start), end=at(word.end)) for word in segment.words),
    )
