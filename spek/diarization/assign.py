"""Speakers onto words (by overlap), then segments cut where the speaker changes, a sentence ends or
the speech pauses for more than two seconds; each segment also names who else spoke during it."""

from bisect import bisect_left
from dataclasses import dataclass, field

from spek.asr.whisper import TranscribedSegment, Word
from spek.diarization import Turn

SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")
MAX_SEGMENT_SECONDS = 30.0
MAX_PAUSE_SECONDS = 2.0
# Another voice over a segment's speaker for at least this long is named in the segment's overlapping.
MIN_OVERLAP_SECONDS = 0.3


@dataclass
class SpeakerSegment:
    start: float
    end: float
    speaker: str | None
    words: list[Word] = field(default_factory=list)
    language: str | None = None  # the language its words were decoded in
    overlapping: list[str] = field(default_factory=list)  # other speakers' labels heard at the same time

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def speaker_label(index: int) -> str:
    return f"SPEAKER_{index:02d}"


def _speaker_of(word: Word, turns: list[Turn], previous: int | None) -> int | None:
    """The turn overlapping the word most; if none does, the nearest turn (VAD trims word edges)."""
    best, best_overlap = None, 0.0
    for turn in turns:
        overlap = min(word.end, turn.end) - max(word.start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn.speaker, overlap
    if best is not None or not turns:
        return best if best is not None else previous
    middle = (word.start + word.end) / 2
    return min(turns, key=lambda t: min(abs(t.start - middle), abs(t.end - middle))).speaker


def assign_speakers(segments: list[TranscribedSegment], turns: list[Turn]) -> list[SpeakerSegment]:
    """Segments with one speaker each, split at speaker changes and at sentence ends."""
    result: list[SpeakerSegment] = []
    previous: int | None = None
    for segment in segments:
        if not segment.words:  # no word timings: keep the segment whole, speaker by overlap
            speaker = _speaker_of(Word(segment.start, segment.end, segment.text, 1.0), turns, previous)
            result.append(
                SpeakerSegment(
                    segment.start,
                    segment.end,
                    _label(speaker),
                    [Word(segment.start, segment.end, segment.text, 1.0)],
                    segment.language,
                )
            )
            continue
        current: SpeakerSegment | None = None
        for word in segment.words:
            speaker = _speaker_of(word, turns, previous)
            previous = speaker
            label = _label(speaker)
            ends_sentence = current is not None and current.words[-1].text.endswith(SENTENCE_ENDS)
            too_long = current is not None and word.end - current.start > MAX_SEGMENT_SECONDS
            # Whisper decodes speech regions joined: one of its segments can run on across seconds of
            # silence between them, which is no one speaking.
            after_pause = current is not None and word.start - current.end > MAX_PAUSE_SECONDS
            if current is None or current.speaker != label or ends_sentence or too_long or after_pause:
                current = SpeakerSegment(word.start, word.end, label, language=segment.language)
                result.append(current)
            current.words.append(word)
            current.end = word.end
    # A second look's segment (spek.asr.whisper) can lie inside the span of a longer one whose words
    # skipped it; cut at the pause, that one's later piece comes after it in time.
    result.sort(key=lambda s: s.start)
    _name_overlapping(result, turns)
    return result


def _overlaps(turns: list[Turn]) -> list[tuple[float, float, str, str]]:
    """Stretches where two speakers' turns overlap, by start: (start, end, speaker, other speaker)."""
    ordered = sorted(turns, key=lambda t: t.start)
    found = []
    for i, turn in enumerate(ordered):
        for later in ordered[i + 1 :]:
            if later.start >= turn.end:
                break
            if later.speaker != turn.speaker:
                found.append(
                    (later.start, min(turn.end, later.end), speaker_label(turn.speaker), speaker_label(later.speaker))
                )
    return sorted(found)


def _name_overlapping(segments: list[SpeakerSegment], turns: list[Turn]) -> None:
    """Each segment's `overlapping`: the speakers heard over its own for MIN_OVERLAP_SECONDS or more."""
    overlaps = _overlaps(turns)
    longest = max((end - start for start, end, _, _ in overlaps), default=0.0)
    starts = [start for start, _, _, _ in overlaps]
    for segment in segments:
        heard: dict[str, float] = {}
        # Only stretches starting after (segment start - the longest stretch) can reach into it.
        for start, end, one, other in overlaps[bisect_left(starts, segment.start - longest) :]:
            if start >= segment.end:
                break
            shared = min(end, segment.end) - max(start, segment.start)
            if shared > 0 and segment.speaker in (one, other):
                someone = other if one == segment.speaker else one
                heard[someone] = heard.get(someone, 0.0) + shared
        segment.overlapping = sorted(label for label, seconds in heard.items() if seconds >= MIN_OVERLAP_SECONDS)


def _label(speaker: int | None) -> str | None:
    return speaker_label(speaker) if speaker is not None else None
