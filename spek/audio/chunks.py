"""Speech regions grouped into chunks for transcription: each chunk's speech is read, joined and
transcribed on its own, so the audio and Whisper's features in memory are bounded by chunk size.
"""

import math
from dataclasses import dataclass

from spek.audio.vad import SpeechRegion


@dataclass(frozen=True)
class Chunk:
    regions: list[SpeechRegion]

    @property
    def speech_seconds(self) -> float:
        return sum(r.duration for r in self.regions)

    def speech_before(self, t: float) -> float:
        """Seconds of this chunk's speech that come before file time t."""
        return sum(min(r.end, t) - r.start for r in self.regions if r.start < t)


def _pieces(region: SpeechRegion, max_seconds: float) -> list[SpeechRegion]:
    """A region longer than a chunk, cut into equal pieces: only when VAD found no pause at all."""
    count = max(1, math.ceil(region.duration / max_seconds))
    step = region.duration / count
    return [
        SpeechRegion(region.start + i * step, region.start + (i + 1) * step if i + 1 < count else region.end)
        for i in range(count)
    ]


def plan_chunks(regions: list[SpeechRegion], max_seconds: float) -> list[Chunk]:
    """Consecutive regions into chunks of at most max_seconds of speech; cuts fall between regions."""
    chunks: list[list[SpeechRegion]] = []
    length = 0.0
    for region in regions:
        for piece in _pieces(region, max_seconds):
            if not chunks or length + piece.duration > max_seconds:
                chunks.append([])
                length = 0.0
            chunks[-1].append(piece)
            length += piece.duration
    return [Chunk(c) for c in chunks]
