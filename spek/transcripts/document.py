"""A transcript as exports see it: plain data, speakers resolved to the names people read."""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from spek.transcripts.models import Transcript

# `spek.diarization.assign.speaker_label` numbers speakers from 0 (SPEAKER_00); people count from 1.
_LABEL = re.compile(r"SPEAKER_(\d+)")


class Spoken(Protocol):
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def speaker(self) -> str | None: ...
    @property
    def text(self) -> str: ...


def default_speaker_name(label: str) -> str:
    """ "Speaker 1" for SPEAKER_00: what a speaker is called until someone names them."""
    match = _LABEL.fullmatch(label)
    return f"Speaker {int(match.group(1)) + 1}" if match else label


def transcript_text(segments: Iterable[Spoken]) -> str:
    return " ".join(segment.text for segment in segments)


def talk_times(segments: Iterable[Spoken]) -> dict[str, float]:
    """Seconds each speaker label speaks, rounded to milliseconds."""
    total: dict[str, float] = {}
    for segment in segments:
        if segment.speaker:
            total[segment.speaker] = total.get(segment.speaker, 0.0) + segment.end - segment.start
    return {label: round(seconds, 3) for label, seconds in total.items()}


@dataclass(frozen=True)
class DocumentWord:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class DocumentSpeaker:
    label: str
    name: str | None  # what the user called them; None until renamed

    @property
    def display_name(self) -> str:
        return self.name or default_speaker_name(self.label)


@dataclass(frozen=True)
class DocumentSegment:
    id: uuid.UUID
    index: int
    start: float
    end: float
    speaker: str | None  # the label; None when diarization was off
    text: str
    language: str
    words: tuple[DocumentWord, ...] = ()
    overlapping_speakers: tuple[str, ...] = ()  # labels of the others heard during it


@dataclass(frozen=True)
class TranscriptDocument:
    """Everything an export needs, independent of the database."""

    transcript_id: uuid.UUID
    recording_id: uuid.UUID
    title: str
    filename: str
    recorded_at: datetime  # when the recording was uploaded
    language: str
    language_probability: float
    model: str
    duration_seconds: float
    updated_at: datetime
    speakers: tuple[DocumentSpeaker, ...]
    segments: tuple[DocumentSegment, ...]

    def speaker_name(self, label: str | None) -> str | None:
        """The name to print for a segment's speaker; None when the segment has none."""
        if label is None:
            return None
        return next((s.display_name for s in self.speakers if s.label == label), default_speaker_name(label))


def document_of(transcript: Transcript) -> TranscriptDocument:
    """The transcript as exports read it; `transcript.recording` and `.segments` must be loaded."""
    recording = transcript.recording
    return TranscriptDocument(
        transcript_id=transcript.id,
        recording_id=recording.id,
        title=recording.title,
        filename=recording.filename,
        recorded_at=recording.created_at,
        language=transcript.language,
        language_probability=transcript.language_probability,
        model=transcript.model,
        duration_seconds=transcript.duration_seconds,
        updated_at=transcript.updated_at,
        speakers=tuple(DocumentSpeaker(s["label"], s.get("name")) for s in transcript.speakers),
        segments=tuple(
            DocumentSegment(
                id=s.id,
                index=s.index,
                start=s.start,
                end=s.end,
                speaker=s.speaker,
                text=s.text,
                words=tuple(DocumentWord(**w) for w in s.words),
                language=s.language,
                overlapping_speakers=tuple(s.overlapping_speakers),
            )
            for s in sorted(transcript.segments, key=lambda s: (s.start, s.index))
        ),
    )


@dataclass(frozen=True)
class Turn:
    """Consecutive segments of one speaker, read as one paragraph."""

    speaker: str | None
    start: float
    end: float
    text: str


def turns(segments: Iterable[DocumentSegment]) -> list[Turn]:
    found: list[Turn] = []
    previous: DocumentSegment | None = None
    for segment in segments:
        if previous is not None and segment.speaker == previous.speaker and segment.index == previous.index + 1:
            last = found[-1]
            found[-1] = Turn(last.speaker, last.start, segment.end, f"{last.text} {segment.text}")
        else:
            found.append(Turn(segment.speaker, segment.start, segment.end, segment.text))
        previous = segment
    return found
