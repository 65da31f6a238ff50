"""Who spoke when. Backends turn 16 kHz mono audio into speaker turns; ML only, no HTTP or SQL."""

from dataclasses import dataclass
from typing import Protocol

from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion

# The most speakers a recording may be told to have, or a backend will find.
MAX_SPEAKERS = 10


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class SpeakerCount:
    """What the user told us about the number of speakers (all optional)."""

    exact: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    def bounds(self, limit: int) -> tuple[int, int]:
        if self.exact:
            return self.exact, self.exact
        low = max(1, self.minimum or 1)
        return low, max(low, min(limit, self.maximum or limit))


class Diarizer(Protocol):
    name: str

    def diarize(self, audio: Audio, speakers: SpeakerCount, speech: list[SpeechRegion] | None = None) -> list[Turn]:
        """`speech`: where the VAD stage found speech (a backend may find it itself when not given)."""


class DiarizerUnavailable(RuntimeError):
    """The configured backend cannot run here (missing package, model or token); says what to do."""


def create_diarizer(backend: str, pyannote_pipeline: str, hf_token: str | None) -> Diarizer:
    if backend == "campp":
        from spek.diarization.campp import CamPlusPlusDiarizer

        return CamPlusPlusDiarizer()
    if backend == "pyannote":
        from spek.diarization.pyannote_backend import PyannoteDiarizer

        return PyannoteDiarizer(pyannote_pipeline, hf_token)
    raise DiarizerUnavailable(f"SPEK_DIARIZER must be 'campp' or 'pyannote', not {backend!r}.")
