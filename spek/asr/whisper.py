"""Transcription with faster-whisper: speech regions in, timed segments and words out, chunk by chunk.

The speech of each chunk (AudioOptions.chunk_seconds at most) is read, joined and transcribed on its
own, so what sits in memory (samples, log-mel features) is bounded by the chunk size, not the file.
"""

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spek.asr.models import resolve_model
from spek.audio.chunks import Chunk, plan_chunks
from spek.audio.options import DEFAULTS
from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion, detect_speech, widen
from spek.media import SAMPLE_RATE

# Decoding per quality setting. Every setting: word timestamps, and no conditioning on previous text,
# which is what lets Whisper loop on music or silence. No VAD inside faster-whisper: the VAD stage
# found the speech already.
COMMON_OPTIONS: dict[str, Any] = {
    "word_timestamps": True,
    "vad_filter": False,
    "condition_on_previous_text": False,
    "compression_ratio_threshold": 2.4,
    "no_speech_threshold": 0.6,
}
# When the first 30 s of speech leave the language unsure (< 0.5), look at up to 4 windows of it.
LANGUAGE_DETECTION_WINDOWS = 4
LANGUAGE_DETECTION_THRESHOLD = 0.5
WINDOW_SECONDS = 30
# The VAD stage's tight regions (0.1 s padding) joined and padded into faster-whisper's own default
# view of speech: pauses under 2 s do not split, 0.4 s of padding.
JOIN_PAUSES_UNDER = 1.8
PAD_SECONDS = 0.3


class Quality(enum.StrEnum):
    """How hard Whisper searches: a trade of time for accuracy."""

    FAST = "FAST"
    BALANCED = "BALANCED"
    BEST = "BEST"


# Chosen with benchmarks/transcription_quality.py: greedy decoding drops hard speech as "no speech"
# (its log-probability falls under -1), a beam keeps it at a modest cost in time.
QUALITY_OPTIONS: dict[Quality, dict[str, Any]] = {
    Quality.FAST: {"beam_size": 1, "best_of": 1, "temperature": 0.0},
    Quality.BALANCED: {"beam_size": 3, "best_of": 3},
    Quality.BEST: {"beam_size": 5, "best_of": 5, "patience": 1.5},
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
    def __init__(
        self, model: str, cache_dir: Path, device: str = "auto", compute_type: str = "auto", cpu_threads: int = 0
    ) -> None:
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
        audio: Audio,
        language: str | None,
        quality: Quality,
        on_progress: Callable[[float], None] = lambda fraction: None,
        speech: list[SpeechRegion] | None = None,
        chunk_seconds: float = DEFAULTS.chunk_seconds,
    ) -> Transcription:
        """Blocking. `speech`: the VAD stage's regions (found here when not given). on_progress gets
        the fraction of the speech done, as segments come out; an exception from it stops the work.
        """
        duration = len(audio) / SAMPLE_RATE
        if speech is None:
            speech = detect_speech(audio)
        regions = widen(speech, JOIN_PAUSES_UNDER, PAD_SECONDS, duration, chunk_seconds)
        chunks = plan_chunks(regions, chunk_seconds)
        probability = 1.0
        if language is None:
            language, probability = self._detect_language(audio, regions)
        total = sum(c.speech_seconds for c in chunks)
        done = 0.0
        segments: list[TranscribedSegment] = []
        for chunk in chunks:
            for segment in self._transcribe_chunk(audio, chunk, language, quality):
                segments.append(segment)
                on_progress(min(1.0, (done + chunk.speech_before(segment.end)) / total))
            done += chunk.speech_seconds
        on_progress(1.0)
        return Transcription(language, probability, duration, self.model_name, segments)

    def _detect_language(self, audio: Audio, regions: list[SpeechRegion]) -> tuple[str, float]:
        """On the first windows of speech (the file's start when it has none)."""
        if not self._model.model.is_multilingual:
            return "en", 1.0
        wanted = LANGUAGE_DETECTION_WINDOWS * WINDOW_SECONDS * SAMPLE_RATE
        pieces, have = [], 0
        for region in regions:
            if have >= wanted:
                break
            start = int(region.start * SAMPLE_RATE)
            pieces.append(np.asarray(audio[start : min(int(region.end * SAMPLE_RATE), start + wanted - have)]))
            have += len(pieces[-1])
        sample = np.concatenate(pieces) if pieces else np.asarray(audio[: WINDOW_SECONDS * SAMPLE_RATE])
        language, probability, _ = self._model.detect_language(
            sample.astype(np.float32, copy=False),
            language_detection_segments=LANGUAGE_DETECTION_WINDOWS,
            language_detection_threshold=LANGUAGE_DETECTION_THRESHOLD,
        )
        return language, probability

    def _transcribe_chunk(
        self, audio: Audio, chunk: Chunk, language: str, quality: Quality
    ) -> Iterator[TranscribedSegment]:
        from faster_whisper.transcribe import restore_speech_timestamps

        stamps = [{"start": int(r.start * SAMPLE_RATE), "end": int(r.end * SAMPLE_RATE)} for r in chunk.regions]
        speech = np.concatenate([np.asarray(audio[s["start"] : s["end"]], dtype=np.float32) for s in stamps])
        raw, _ = self._model.transcribe(speech, language=language, **COMMON_OPTIONS, **QUALITY_OPTIONS[quality])
        # Times within the joined speech back to file time (the stamps are in file samples).
        for segment in restore_speech_timestamps(raw, stamps, SAMPLE_RATE):
            if not segment.text.strip() or segment.compression_ratio > COMMON_OPTIONS["compression_ratio_threshold"]:
                # Text that compresses that well is one phrase over and over: a loop on music or
                # noise. Temperature fallback usually avoids it; greedy FAST has no fallback.
                continue
            words = [
                Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                for w in segment.words or []
                if w.word.strip()
            ]
            yield TranscribedSegment(float(segment.start), float(segment.end), segment.text.strip(), words)


def _cuda_available() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001  (no CUDA runtime at all)
        return False
