"""pyannote.audio's diarization pipeline, for GPU workers (`pip install spek[pyannote]`)."""

import numpy as np

from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion
from spek.diarization import DiarizerUnavailable, SpeakerCount, Turn
from spek.media import SAMPLE_RATE


class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, pipeline: str, token: str | None) -> None:
        try:
            import torch
            from pyannote.audio import Pipeline
        except ImportError:
            raise DiarizerUnavailable(
                "SPEK_DIARIZER=pyannote needs pyannote.audio: pip install 'spek[pyannote]' (it brings torchaudio)."
            ) from None
        try:
            self._pipeline = Pipeline.from_pretrained(pipeline, token=token)
        except Exception as e:  # noqa: BLE001  (gated model, no token, no network: all say the same)
            raise DiarizerUnavailable(
                f"Could not load the pyannote pipeline {pipeline!r}: {e}. Accept its terms on Hugging Face and set "
                "HF_TOKEN, or point SPEK_PYANNOTE_PIPELINE at a local copy."
            ) from None
        if self._pipeline is None:
            raise DiarizerUnavailable(f"The pyannote pipeline {pipeline!r} needs HF_TOKEN (a gated model).")
        if torch.cuda.is_available():
            self._pipeline.to(torch.device("cuda"))
        self._torch = torch

    def diarize(self, audio: Audio, speakers: SpeakerCount, speech: list[SpeechRegion] | None = None) -> list[Turn]:
        # pyannote finds speech with its own segmentation model, and takes the whole waveform at once.
        waveform = self._torch.from_numpy(np.asarray(audio[0 : len(audio)], dtype=np.float32)).unsqueeze(0)
        result = self._pipeline(
            {"waveform": waveform, "sample_rate": SAMPLE_RATE},
            num_speakers=speakers.exact,
            min_speakers=speakers.minimum,
            max_speakers=speakers.maximum,
        )
        annotation = getattr(result, "speaker_diarization", result)
        labels: dict[str, int] = {}
        turns = []
        for segment, _, label in annotation.itertracks(yield_label=True):
            turns.append(Turn(segment.start, segment.end, labels.setdefault(label, len(labels))))
        return turns
