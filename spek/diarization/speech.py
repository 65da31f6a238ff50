"""Where speech is: Silero VAD's regions, and what the speaker segmentation model hears besides.

Silero misses speech that the segmentation model, trained on meetings and calls, hears: a hoarse voice
on another microphone, far-field and quiet speech. Whisper transcribes it when it is given it, so the
pipeline's one speech pass unites the two (`AudioOptions.segmentation_onset`).
"""

from spek.audio.options import DEFAULTS, AudioOptions
from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion, detect_speech, united
from spek.diarization.segmentation import SpeakerSegmentation


class SpeechFinder:
    def __init__(self) -> None:
        self._segmentation = SpeakerSegmentation()

    def find(self, audio: Audio, options: AudioOptions = DEFAULTS) -> list[SpeechRegion]:
        """Speech regions in file time, in order, none longer than options.chunk_seconds."""
        heard = self._segmentation.speech(audio, options.segmentation_onset, options.vad_pad_seconds)
        return united(detect_speech(audio, options), heard, options.chunk_seconds)
