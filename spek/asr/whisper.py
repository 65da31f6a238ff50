"""Transcription with faster-whisper: speech regions in, timed segments and words out, chunk by chunk.

The speech of each chunk (AudioOptions.chunk_seconds at most) is read, joined and transcribed on its
own, so what sits in memory (samples, log-mel features) is bounded by the chunk size, not the file.
"""

import enum
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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
# found the speech already. A decoding that looks like a loop (compression ratio over 2.4) or like
# guessing (log-probability under -1) is tried again at higher temperatures; faster-whisper's own
# no-speech skip is off: inside that retry loop it gives up on a window as soon as one hot decoding
# looks like silence, and drops 30 s of speech with it (a sentence said four times in a row looks like
# a loop at first). The same rule is applied afterwards to the decoding kept (`_speech_in`).
COMMON_OPTIONS: dict[str, Any] = {
    "word_timestamps": True,
    "vad_filter": False,
    "condition_on_previous_text": False,
    "compression_ratio_threshold": 2.4,  # LOOP_RATIO
    "log_prob_threshold": -1.0,
    "no_speech_threshold": None,
}
# Whisper's no-speech rule, applied to each window's kept decoding: no speech is likely and the text
# was a guess.
NO_SPEECH_PROBABILITY = 0.6
# When the first 30 s of speech leave the language unsure (< 0.5), look at up to 4 windows of it.
LANGUAGE_DETECTION_WINDOWS = 4
LANGUAGE_DETECTION_THRESHOLD = 0.5
WINDOW_SECONDS = 30
# Files that change language (the language not forced): regions of REGION_LANGUAGE_MIN_SECONDS or longer are
# probed on their own (each probe is one encoder pass, ~0.65 s for base on 2 cores). When the file's first
# window left the language unsure (under LANGUAGE_SURE), LANGUAGE_PROBES spread over the file; when sure, one
# per PROBE_EVERY_SECONDS of the speech after that window (none for a short file), LANGUAGE_PROBES at most.
# When a probe finds another language, sure to REGION_LANGUAGE_CONFIDENCE, every region gets its own and each
# run of regions in one language is decoded in it. A region too short or unsure to tell keeps the one before.
LANGUAGE_PROBES = 6
LANGUAGE_SURE = 0.9
PROBE_EVERY_SECONDS = 300.0
REGION_LANGUAGE_MIN_SECONDS = 2.0
REGION_LANGUAGE_CONFIDENCE = 0.7
# The VAD stage's tight regions (0.25 s padding) joined and padded into faster-whisper's own default
# view of speech: pauses under 2 s do not split, 0.4 s of padding.
JOIN_PAUSES_UNDER = 1.5
PAD_SECONDS = 0.15
# Loops Whisper falls into on music or noise (see _speech_in): text that compresses better than this
# (Whisper's own measure) repeats itself; text shorter than LOOP_MIN_CHARACTERS never counts as that;
# a phrase of fewer words than LOOP_MIN_WORDS said LOOP_MIN_REPEATS times in one window is a loop.
# Speech (the VAD stage's) that no word came out for, UNHEARD_SECONDS or more of it, is decoded again
# SECOND_LOOK_SECONDS of speech at a time.
LOOP_RATIO = 2.4
LOOP_MIN_CHARACTERS = 20
LOOP_MIN_WORDS = 4
LOOP_MIN_REPEATS = 3
SECOND_LOOK_SECONDS = 10.0
UNHEARD_SECONDS = 1.0
RANDOM_SEED = 0
WORD_MARGIN_SECONDS = 0.5


class Quality(enum.StrEnum):
    """How hard Whisper searches: a trade of time for accuracy."""

    FAST = "FAST"
    BALANCED = "BALANCED"
    BEST = "BEST"


# Chosen with benchmarks/transcription_quality.py: greedy decoding drops hard speech as "no speech"
# (its log-probability falls under -1), a beam keeps it at a modest cost in time. BALANCED retries a
# doubtful window at three temperatures, not faster-whisper's six: on the real set the same WER and
# dropped speech, and the meetings and calls that kept falling back took half the time (a 30 s
# four-speaker meeting 0.95 -> 0.46 x its length; all files 0.211 -> 0.149, on a machine whose speed
# drifts between runs). BEST decodes as BALANCED does, each window given the text before it (as OpenAI's
# Whisper does by default): names and spellings carry on, Russian read prose 0.152 -> 0.141 WER, read
# English 0.082 -> 0.069, all files 0.124 -> 0.121, at 0.178 x audio against 0.146; it costs the two
# conversational English files 0.118 -> 0.148 (7 of their 230 words). A beam of 5, patience 1.5 and six
# temperatures, BEST before, gave 0.128 on all files (0.133 with the text before).
_BALANCED: dict[str, Any] = {"beam_size": 3, "best_of": 3, "temperature": [0.0, 0.4, 0.8]}
QUALITY_OPTIONS: dict[Quality, dict[str, Any]] = {
    Quality.FAST: {"beam_size": 1, "best_of": 1, "temperature": 0.0},
    Quality.BALANCED: _BALANCED,
    Quality.BEST: {**_BALANCED, "condition_on_previous_text": True},
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
    language: str | None = None  # what it was decoded as


@dataclass
class LanguageRun:
    """Consecutive speech regions in one language."""

    language: str
    regions: list[SpeechRegion]


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
        if language is None:
            language, probability = self._detect_language(
                audio, widen(speech, JOIN_PAUSES_UNDER, PAD_SECONDS, duration, chunk_seconds)
            )
            runs = self._language_runs(audio, speech, language, sure=probability >= LANGUAGE_SURE)
            if len(runs) > 1:
                language, probability = _main_language(runs)
        else:
            probability, runs = 1.0, [LanguageRun(language, speech)]
        chunks = [
            (run.language, chunk)
            for run in runs
            for chunk in plan_chunks(
                widen(run.regions, JOIN_PAUSES_UNDER, PAD_SECONDS, duration, chunk_seconds), chunk_seconds
            )
        ]
        total = sum(c.speech_seconds for _, c in chunks)
        done = 0.0
        segments: list[TranscribedSegment] = []
        reached = [0.0]  # the fraction reported last

        def tick() -> None:
            on_progress(reached[0])  # between segments too: a cancelled job stops at the next one

        for chunk_language, chunk in chunks:
            for segment in self._transcribe_chunk(audio, chunk, chunk_language, quality, speech, tick):
                segment.language = chunk_language
                segments.append(segment)
                reached[0] = max(reached[0], min(1.0, (done + chunk.speech_before(segment.end)) / total))
                on_progress(reached[0])
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

    def _language_runs(self, audio: Audio, regions: list[SpeechRegion], language: str, sure: bool) -> list[LanguageRun]:
        """The VAD stage's regions (before widening, which would join a change of language across a short
        pause) in runs of one language: all in the file's `language` unless a probe finds another. `sure`: the
        file's first window of speech was surely `language`."""
        if not self._model.model.is_multilingual:
            return [LanguageRun(language, regions)]
        candidates = [i for i, r in enumerate(regions) if r.end - r.start >= REGION_LANGUAGE_MIN_SECONDS]
        count = LANGUAGE_PROBES
        if sure:  # only the speech after the window the file's language was told from
            heard, first_window_end = 0.0, regions[-1].end if regions else 0.0
            for region in regions:
                heard += region.end - region.start
                if heard >= WINDOW_SECONDS:
                    first_window_end = region.end
                    break
            candidates = [i for i in candidates if regions[i].start >= first_window_end]
            rest = sum(regions[i].end - regions[i].start for i in candidates)
            count = min(LANGUAGE_PROBES, math.ceil(rest / PROBE_EVERY_SECONDS))
        if count == 0:
            return [LanguageRun(language, regions)]
        step = max(1, len(candidates) // count)
        probes = candidates[::step][:count]
        found = {i: self._region_language(audio, regions[i]) for i in probes}
        if all(found[i] in (None, language) for i in probes):
            return [LanguageRun(language, regions)]
        runs: list[LanguageRun] = []
        current = language
        for i, region in enumerate(regions):
            if i not in found and region.end - region.start >= REGION_LANGUAGE_MIN_SECONDS:
                found[i] = self._region_language(audio, region)
            current = found.get(i) or current
            if runs and runs[-1].language == current:
                runs[-1].regions.append(region)
            else:
                runs.append(LanguageRun(current, [region]))
        return runs

    def _region_language(self, audio: Audio, region: SpeechRegion) -> str | None:
        """The language of one region's first 30 s, when Whisper is sure of it."""
        start = int(region.start * SAMPLE_RATE)
        end = min(int(region.end * SAMPLE_RATE), start + WINDOW_SECONDS * SAMPLE_RATE)
        language, probability, _ = self._model.detect_language(
            np.asarray(audio[start:end], dtype=np.float32), language_detection_segments=1
        )
        return language if probability >= REGION_LANGUAGE_CONFIDENCE else None

    def _transcribe_chunk(
        self,
        audio: Audio,
        chunk: Chunk,
        language: str,
        quality: Quality,
        speech: list[SpeechRegion],
        tick: Callable[[], None],
    ) -> Iterator[TranscribedSegment]:
        """The chunk's speech decoded; then any of the VAD stage's `speech` that no word came out for
        is decoded again on its own, a few seconds at a time (a second look). Whisper skips speech in
        a window now and then: a sentence said again, a window its no-speech or loop checks give up
        on. Decoded alone, what is really said comes out; a loop on music or noise loops again and is
        dropped again. Segments come out in time order, window by window.
        """
        heard_until = chunk.regions[0].start
        for window in self._decode(audio, chunk.regions, language, quality, tick):
            kept = _speech_in(window)
            until = max([window[-1].end, *(s.end for s in kept)])
            yield from self._with_second_look(audio, kept, speech, heard_until, until, language, quality, tick)
            heard_until = until
        end = chunk.regions[-1].end
        yield from self._with_second_look(audio, [], speech, heard_until, end, language, quality, tick)

    def _with_second_look(
        self,
        audio: Audio,
        kept: list[Any],
        speech: list[SpeechRegion],
        start: float,
        end: float,
        language: str,
        quality: Quality,
        tick: Callable[[], None],
    ) -> Iterator[TranscribedSegment]:
        """`kept` and what a second look finds in the speech between start and end that no word covers."""
        unheard = _unheard(speech, [w for s in kept for w in s.words or []], start, end)
        found = [
            segment
            for piece in plan_chunks(unheard, SECOND_LOOK_SECONDS)
            for again in self._decode(audio, piece.regions, language, quality, tick)
            for segment in _speech_in(again)
        ]
        for segment in sorted(kept + found, key=lambda s: s.start):
            words = [
                Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                for w in segment.words or []
                if w.word.strip()
            ]
            yield TranscribedSegment(float(segment.start), float(segment.end), segment.text.strip(), words)

    def _decode(
        self, audio: Audio, regions: list[SpeechRegion], language: str, quality: Quality, tick: Callable[[], None]
    ) -> Iterator[list]:
        """The regions' speech joined and decoded; faster-whisper's segments in file time, window by window
        (`tick` called as each segment is decoded)."""
        import ctranslate2
        from faster_whisper.transcribe import restore_speech_timestamps

        stamps = [{"start": int(r.start * SAMPLE_RATE), "end": int(r.end * SAMPLE_RATE)} for r in regions]
        stamps = [s for s in stamps if s["end"] > s["start"]]
        if not stamps:
            return
        joined = np.concatenate([np.asarray(audio[s["start"] : s["end"]], dtype=np.float32) for s in stamps])
        # The temperature fallback samples: seeded, the same audio gives the same text every time.
        ctranslate2.set_random_seed(RANDOM_SEED)
        options = {**COMMON_OPTIONS, **QUALITY_OPTIONS[quality]}
        raw, _ = self._model.transcribe(joined, language=language, **options)
        # Times within the joined speech back to file time (the stamps are in file samples).
        yield from _windows(restore_speech_timestamps(_ticking(raw, tick), stamps, SAMPLE_RATE))


def _main_language(runs: list[LanguageRun]) -> tuple[str, float]:
    """The language spoken longest, and its share of the speech (how sure the file is of being in it)."""
    spoken: dict[str, float] = {}
    for run in runs:
        spoken[run.language] = spoken.get(run.language, 0.0) + sum(r.duration for r in run.regions)
    language, seconds = max(spoken.items(), key=lambda item: item[1])
    return language, seconds / max(sum(spoken.values()), 1e-9)


def _ticking(segments: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    for segment in segments:
        tick()
        yield segment


def _windows(segments: Iterable[Any]) -> Iterator[list[Any]]:
    """faster-whisper's segments grouped by the 30 s window they were decoded in (their `seek`)."""
    window: list[Any] = []
    for segment in segments:
        if window and segment.seek != window[0].seek:
            yield window
            window = []
        window.append(segment)
    if window:
        yield window


def _unheard(speech: list[SpeechRegion], words: list[Any], start: float, end: float) -> list[SpeechRegion]:
    """Stretches of speech between start and end, UNHEARD_SECONDS or longer, that no word covers
    (each word widened by WORD_MARGIN_SECONDS: word times are approximate)."""
    steps = int((end - start) * 100) + 1
    if steps <= 1:
        return []
    spoken = np.zeros(steps, bool)
    for region in speech:
        if region.end > start and region.start < end:
            spoken[max(0, int((region.start - start) * 100)) : int((region.end - start) * 100)] = True
    for word in words:
        first = max(0, int((word.start - WORD_MARGIN_SECONDS - start) * 100))
        spoken[first : max(first, int((word.end + WORD_MARGIN_SECONDS - start) * 100))] = False
    edges = np.flatnonzero(np.diff(np.concatenate([[0], spoken.astype(np.int8), [0]])))
    return [
        SpeechRegion(start + a / 100, start + b / 100)
        for a, b in zip(edges[::2], edges[1::2])
        if (b - a) / 100 >= UNHEARD_SECONDS
    ]


def _compression_ratio(text: str) -> float:
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _bare(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _speech_in(window: list[Any]) -> list[Any]:
    """The segments of one window that are speech: not text guessed where no speech is likely, nor a
    loop Whisper fell into on music or noise.

    faster-whisper gives every segment of a window the window's compression ratio, so one person
    saying a sentence four times in 30 s looks like a loop: judging by it dropped all four. A loop is
    told apart by its unit: a segment that repeats itself within its own text (compresses like one),
    or, in a window that compresses like one, a short phrase ("Thank you.", "5.5") that comes back
    again and again. A sentence said again in full keeps each of its copies.
    """
    threshold = LOOP_RATIO
    window = [s for s in window if s.text.strip()]
    if not window or (
        window[0].no_speech_prob > NO_SPEECH_PROBABILITY
        and window[0].avg_logprob < COMMON_OPTIONS["log_prob_threshold"]
    ):
        return []
    repetitive = _compression_ratio(" ".join(s.text for s in window)) > threshold
    counts = Counter(_bare(s.text) for s in window)
    kept = []
    for segment in window:
        text = _bare(segment.text)
        if not text:
            continue  # punctuation only ("...", "-"): nothing was said
        if len(text) > LOOP_MIN_CHARACTERS and _compression_ratio(text) > threshold:
            continue  # one phrase over and over inside the segment
        if repetitive and counts[text] >= LOOP_MIN_REPEATS and len(text.split()) < LOOP_MIN_WORDS:
            continue  # a short phrase over and over across the window
        kept.append(segment)
    return kept


def _cuda_available() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # noqa: BLE001  (no CUDA runtime at all)
        return False
