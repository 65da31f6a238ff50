"""Speech is never dropped: a sentence said over and over, a very quiet and a very loud recording,
speech over music and a recording over an hour long all come out whole, through the worker's steps
(decode → normalize → VAD → Whisper).
Loops Whisper falls into on music or noise are still dropped (see also test_audio.py)."""

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from spek.asr import whisper
from spek.asr.whisper import Transcription, WhisperTranscriber
from spek.audio.loudness import normalize
from spek.audio.samples import Samples
from spek.diarization.speech import SpeechFinder
from spek.media import SAMPLE_RATE, decode_mono_16k
from tests.audio import dialogue, speak, write_wav
from tests.test_audio import chords

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank every single morning, and then it runs back home through the tall grass."
LINES = [
    ("en-us", "Good morning, thank you all for coming to the planning meeting."),
    ("en+f3", "Morning. I have the numbers from last quarter ready to share with everyone."),
    ("en-us", "Great, please go ahead whenever you are ready."),
    ("en+f3", "Sales grew a lot this year, mostly from the new subscription plan."),
]


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    return WhisperTranscriber("base", tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def meeting(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    path, turns = dialogue(LINES, tmp_path_factory.mktemp("meeting") / "meeting.wav", pause=0.8)
    return decode_mono_16k(path), [(s, e, text) for (s, e, _), (_, text) in zip(turns, LINES)]


def bare(text: str) -> list[str]:
    return re.sub(r"[^\w\s']", " ", text.lower()).split()


@cache  # one model for the module, loaded by the first test that needs it
def speech_finder() -> SpeechFinder:
    return SpeechFinder()


def run_pipeline(samples: np.ndarray, directory: Path, transcriber: WhisperTranscriber, quality: str) -> Transcription:
    """The worker's steps from the decoded file on: Samples on disk, loudness, speech, Whisper."""
    path = write_wav(directory / "input.wav", samples)
    with Samples(directory) as audio:
        audio.decode(path)
        normalize(audio)
        speech = speech_finder().find(audio)
        return transcriber.transcribe(audio, "en", quality, speech=speech)


def assert_every_turn_transcribed(result: Transcription, turns: list[tuple[float, float, str]]) -> None:
    """Each turn's words come out, within its time: at least 60 % of them (a word may be misheard)."""
    words = [w for s in result.segments for w in s.words]
    for start, end, text in turns:
        heard = {b for w in words if start - 0.5 <= (w.start + w.end) / 2 <= end + 0.5 for b in bare(w.text)}
        said = bare(text)
        found = sum(word in heard for word in said)
        assert found >= 0.6 * len(said), (start, end, text, sorted(heard), [s.text for s in result.segments])


@pytest.mark.parametrize("quality", ["FAST", "BALANCED", "BEST"])
def test_a_sentence_said_six_times_is_transcribed_six_times(
    tmp_path: Path, transcriber: WhisperTranscriber, quality: str
) -> None:
    """One sentence over a minute: in one 30 s window it looks like a loop to Whisper's guard, which
    dropped whole windows of it (only the last 11 s of such a recording came back)."""
    one = decode_mono_16k(speak(SENTENCE, tmp_path / "one.wav"))
    pause = np.zeros(int(1.5 * SAMPLE_RATE), np.float32)
    audio = np.concatenate([np.concatenate([one, pause]) for _ in range(6)])
    step = (len(one) + len(pause)) / SAMPLE_RATE
    turns = [(i * step, i * step + len(one) / SAMPLE_RATE, SENTENCE) for i in range(6)]
    assert len(audio) / SAMPLE_RATE > 55

    result = run_pipeline(audio, tmp_path, transcriber, quality)

    assert_every_turn_transcribed(result, turns)
    # And no copy twice (the second look at unheard speech must not repeat what was heard).
    assert len(bare(" ".join(s.text for s in result.segments))) <= 6 * len(bare(SENTENCE)) * 1.1


@pytest.mark.parametrize(("level", "clip"), [(0.003, False), (12.0, True)], ids=["quiet", "loud"])
def test_a_very_quiet_or_very_loud_recording_keeps_all_its_speech(
    tmp_path: Path, transcriber: WhisperTranscriber, meeting, level: float, clip: bool
) -> None:
    """-50 dB below full scale, or driven into clipping: loudness normalization and VAD keep every turn."""
    audio, turns = meeting
    scaled = audio * np.float32(level)
    if clip:
        scaled = np.clip(scaled, -1, 1)
        assert np.mean(np.abs(scaled) >= 0.99) > 0.01  # really clipped
    else:
        assert np.abs(scaled).max() < 0.01
    result = run_pipeline(scaled, tmp_path, transcriber, "FAST")
    assert_every_turn_transcribed(result, turns)


def test_speech_over_a_music_bed_keeps_all_its_speech(tmp_path: Path, transcriber: WhisperTranscriber, meeting) -> None:
    """Piano chords under the whole dialogue, 10 dB below the speech."""
    audio, turns = meeting
    music = chords(len(audio) / SAMPLE_RATE + 1)[: len(audio)]
    speech_power = np.mean(audio[np.abs(audio) > 0.01] ** 2)
    music *= np.float32(np.sqrt(speech_power / np.mean(music**2) / 10))
    result = run_pipeline(audio + music, tmp_path, transcriber, "FAST")
    assert_every_turn_transcribed(result, turns)


def test_an_hour_long_recording_keeps_its_speech_at_the_start_middle_and_end(
    tmp_path: Path, transcriber: WhisperTranscriber, meeting
) -> None:
    """65 minutes of room tone with the meeting at its start, after 32 minutes and in its last minute:
    read in blocks from disk, every turn comes out at its own time."""
    audio, turns = meeting
    length = 65 * 60 * SAMPLE_RATE
    recording = (np.random.default_rng(3).standard_normal(length) * 0.002).astype(np.float32)
    placed = []
    for offset in (0.0, 32 * 60.0, 65 * 60.0 - len(audio) / SAMPLE_RATE - 1):
        at = int(offset * SAMPLE_RATE)
        recording[at : at + len(audio)] += audio
        placed += [(offset + start, offset + end, text) for start, end, text in turns]
    result = run_pipeline(recording, tmp_path, transcriber, "FAST")
    assert_every_turn_transcribed(result, placed)
    assert result.segments[-1].end > 64 * 60


@dataclass
class FakeSegment:
    """What faster-whisper yields, as far as the loop and no-speech checks look."""

    text: str
    start: float = 0.0
    end: float = 1.0
    compression_ratio: float = 1.5
    no_speech_prob: float = 0.1
    avg_logprob: float = -0.3
    words: list = field(default_factory=list)


def test_loops_are_told_from_speech_said_again() -> None:
    sentence = " The quick brown fox jumps over the lazy dog near the river bank."
    # A whole sentence said four times in one window: every copy is speech.
    said_again = [FakeSegment(sentence, compression_ratio=4.0) for _ in range(4)]
    assert whisper._speech_in(said_again) == said_again
    # A short phrase over and over, and text that repeats itself within one segment: loops.
    looped = [FakeSegment(" Thank you.", compression_ratio=5.8) for _ in range(5)]
    assert whisper._speech_in(looped) == []
    assert whisper._speech_in([FakeSegment(" 1.5G x 3.5G x 3.5G x 3.5G x 3.5G x 3.5G x 3.5G x")]) == []
    assert whisper._speech_in([FakeSegment(" ... ... ..."), FakeSegment(" -")]) == []
    # A short phrase said twice, or said often in a window that does not look like a loop: speech.
    twice = [FakeSegment(" Yes."), FakeSegment(sentence), FakeSegment(" Yes.")]
    assert whisper._speech_in(twice) == twice
    # Whisper's own no-speech rule, on the decoding that was kept: likely no speech and a guess.
    assert whisper._speech_in([FakeSegment(sentence, no_speech_prob=0.9, avg_logprob=-1.5)]) == []
    sure = [FakeSegment(sentence, no_speech_prob=0.9, avg_logprob=-0.2)]
    assert whisper._speech_in(sure) == sure
