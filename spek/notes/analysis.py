"""What a note says about its transcript without an LLM: key phrases (YAKE) and each speaker's tone.

Tone: VADER's lexicon for English (compound score of each segment, averaged by length); for other
languages, each segment's embedding against embedded example sentences of positive and negative tone
(nothing on PyPI ships an offline sentiment model for Russian). Blocking: callers use a thread.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from spek.embeddings import Embedder

KEY_PHRASES = 8
NEUTRAL_BAND = 0.05  # |score| below this is "neutral", as VADER's authors advise
# Example sentences of each tone, in the languages Spek is used in most; embedded once per model.
POSITIVE = [
    "That is great news, thank you so much!",
    "I am really happy with how this went.",
    "Excellent, this works perfectly.",
    "Отлично, большое спасибо!",
    "Я очень доволен результатом.",
    "Прекрасная работа, всё получилось.",
]
NEGATIVE = [
    "This is terrible, nothing works.",
    "I am very disappointed and angry about this.",
    "Unfortunately it failed again, what a mess.",
    "Это ужасно, ничего не работает.",
    "Я очень разочарован и зол.",
    "К сожалению, опять всё сломалось.",
]
# Embedding similarities differ little between tones: the difference is scaled into -1..1.
PROTOTYPE_SCALE = 4.0


@dataclass(frozen=True)
class Spoken:
    speaker: str | None
    text: str
    seconds: float


@dataclass(frozen=True)
class SpeakerTone:
    speaker: str
    label: str  # "positive" | "neutral" | "negative"
    score: float  # -1..1


def key_phrases(text: str, language: str) -> list[str]:
    import yake

    extractor = yake.KeywordExtractor(lan=language or "en", n=3, dedupLim=0.7, top=KEY_PHRASES)
    return [phrase for phrase, _ in extractor.extract_keywords(text)]


def speaker_tones(
    spoken: Iterable[Spoken], speakers: list[str], language: str, embedder: Embedder
) -> list[SpeakerTone]:
    """One entry per transcript speaker label, in the transcript's order of labels."""
    segments = [s for s in spoken if s.speaker and s.text.strip()]
    scores = _vader(segments) if language == "en" else _prototypes(segments, embedder)
    tones = []
    for speaker in speakers:
        mine = [(score, s.seconds) for score, s in zip(scores, segments) if s.speaker == speaker]
        weight = sum(seconds for _, seconds in mine)
        score = sum(score * seconds for score, seconds in mine) / weight if weight else 0.0
        score = round(float(np.clip(score, -1.0, 1.0)), 3)
        label = "positive" if score >= NEUTRAL_BAND else "negative" if score <= -NEUTRAL_BAND else "neutral"
        tones.append(SpeakerTone(speaker, label, score))
    return tones


def _vader(segments: list[Spoken]) -> list[float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [analyzer.polarity_scores(s.text)["compound"] for s in segments]


def _prototypes(segments: list[Spoken], embedder: Embedder) -> list[float]:
    if not segments:
        return []
    examples = embedder.embed_documents(POSITIVE + NEGATIVE)
    positive, negative = examples[: len(POSITIVE)].mean(axis=0), examples[len(POSITIVE) :].mean(axis=0)
    vectors = embedder.embed_documents([s.text for s in segments])
    return [float(PROTOTYPE_SCALE * (v @ positive - v @ negative)) for v in vectors]
