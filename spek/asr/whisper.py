"""Transcription with faster-whisper: audio samples in, timed segments and words out."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spek.asr.models import resolve_model
from spek.media import SAMPLE_RATE

# Decoding per quality setting. Every setting: word timestamps, VAD so silence is not "transcribed",
# and no conditioning on previous text, which is what lets Whisper loop on music or silence.
COMMON_OPTIONS: dict[str, Any] = {
    "word_timestamps": True,
    "vad_filter": True,
    "condition_on_previous_text": False,
    "compression_ratio_threshold": 2.4,
    "no_speech_threshold": 0.6,
    # When the first 30 s leave the language unsure (< 0.5), look at up to 4 windows.
    "language_detection_segments": 4,
    "language_detection_threshold": 0.5,
}
# Chosen with benchmarks/transcription_quality.py: greedy decoding drops hard speech as "no speech"
# (its log-probability falls under -1), a beam keeps it at a modest cost in time.
QUALITY_OPTIONS: dict[str, dict[str, Any]] = {
    "FAST": {"beam_size": 1, "best_of": 1, "temperature": 0.0},
    "BALANCED": {"beam_size": 3, "best_of": 3},
    "BEST": {"beam_size": 5, "best_of": 5, "patience": 1.5},
}


@dataclass
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass
class TranscribedSegment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcription:
    language: str
    language_probability: float
    duration_seconds: float
    model: str
    segments: list[TranscribedSegment]


class WhisperTranscriber:
    def __init__(self, model: str, cache_dir: Path, device: str = "auto", compute_type: str = "auto", cpu_threads: int = 0) -> None:
        from faster_whisper import WhisperModel

        self.model_name = model
        if compute_type == "auto":
            compute_type = "float16" if _cuda_available() and device in ("auto", "cuda") else "int8"
        self._model = WhisperModel(
            resolve_model(model, cache_dir),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            local_files_only=True,
        )

    def transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        quality: str,
        on_progress: Callable[[float], None] = lambda fraction: None,
    ) -> Transcription:
        """Blocking. on_progress gets the fraction of the audio done, as segments come out."""
        duration = len(audio) / SAMPLE_RATE
        segments_iter, info = self._model.transcribe(audio, language=language, **COMMON_OPTIONS, **QUALITY_OPTIONS[quality])
        segments: list[TranscribedSegment] = []
        for segment in segments_iter:
            words = [Word(w.start, w.end, w.word.strip(), w.probability) for w in segment.words or [] if w.word.strip()]
            if segment.text.strip():
                segments.append(TranscribedSegment(segment.start, segment.end, segment.text.strip(), words))
            if duration > 0:
                on_progress(min(1.0, segment.end / duration))
        return Transcription(info.language, info.language_probability, duration, self.model_name, segments)


def _cuda_available() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001  (no CUDA runtime at all)
        return False
