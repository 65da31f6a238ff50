"""Transcription and diarization quality and speed, on real speech first, espeak-ng voices second.

    .venv/bin/python -m benchmarks.transcription_quality [--qualities FAST BALANCED BEST] [--only ami_ en_]
    .venv/bin/python -m benchmarks.transcription_quality --set espeak

Real set (the default): ~30 files of human speech with references (a phone call, French radio with
music, spontaneous talk, AMI meeting excerpts, a 4-speaker TV debate, read English, a speech, 5 minutes
of Russian prose, a spliced EN/RU/FR file), built by ../shared/speech-devset/fetch.sh into
~/.cache/spek-bench/speech-devset (never into the repository: some of it may not be shipped). Each
file goes through the steps the worker runs (spek.recordings.pipeline: decode into Samples →
normalize loudness → VAD → Whisper → CAM++ diarization → speakers onto words), in this process, with
the language left to detection (Russian once more with it forced). Prints per file and per group:
WER (jiwer, Whisper's normalizers; CER for Russian too), DER at collar 0 and 0.25 with overlap scored
(pyannote.metrics), speaker count found / in the reference, language-ID accuracy, the share of
reference speech time that no segment covers (segments widened by 0.25 s, the DER collar), time ÷
audio duration (and each stage's share) and peak RSS while the file ran; then the targets.

Synthetic set (--set espeak): espeak-ng dialogues in English and Russian, each uploaded to a fresh
`spek up` (the API and the worker), as before the real set existed.
"""

import argparse
import contextlib
import json
import os
import platform
import subprocess
import tempfile
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jiwer
import numpy as np
from pyannote.core import Annotation
from pyannote.core import Segment as Span
from pyannote.metrics.diarization import DiarizationErrorRate
from websockets.sync.client import connect
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from benchmarks.stack import running_spek
from spek.media import SAMPLE_RATE
from tests.audio import SUPPORT_CALL, dialogue, write_wav

DEVSET_CACHE = Path.home() / ".cache" / "spek-bench" / "speech-devset"
FETCH_SCRIPT = Path(__file__).resolve().parents[2] / "shared" / "speech-devset" / "fetch.sh"
# Targets at BALANCED on the real set (issue 12).
REAL_TARGETS = {
    "en_conv_wer": 0.12,  # English conversational files with transcripts
    "ru_wer_forced": 0.15,
    "der_025": 0.10,  # the 2–4-speaker files
    "count_exact": 0.80,
    "dropped": 0.02,
    "speed": 0.20,
}
# (group, file-id prefixes): every file falls in the first group whose prefix it has.
GROUPS = [
    ("conversation-en", ("en_callfriend", "en_mfa")),
    ("meetings-en", ("ami_",)),
    ("debate-en", ("en_voxconverse",)),
    ("read-en", ("en_librivox", "en_jfk")),
    ("radio-fr", ("fr_",)),
    ("read-ru", ("ru_",)),
    ("mixed", ("mixed_",)),
]
# Reference turns include the short pauses inside them: a speaker's consecutive segments are joined
# across pauses shorter than this before DER is scored.
BRIDGE_SECONDS = 0.6
DROP_TOLERANCE = 0.25  # seconds around each segment still counted as covered (the DER collar)
GRID = 100  # dropped-speech grid: 10 ms


@dataclass
class RealFile:
    id: str
    group: str
    wav: Path
    language: str | None  # expected; None for the spliced mixed-language file
    duration: float
    text: str | None = None
    reference: Annotation | None = None
    languages: list[tuple[float, float, str]] | None = None  # (start, end, language): files that change language

    @property
    def speakers(self) -> int | None:
        return len(self.reference.labels()) if self.reference is not None else None


def fetch_devset(directory: Path, script: Path) -> None:
    if (directory / "MANIFEST.sha256").exists():
        return
    if not script.exists():
        raise SystemExit(f"No development set in {directory} and no {script} to build it (pass --fetch-script).")
    print(f"building the real-speech set into {directory} with {script} (about a minute)…", flush=True)
    subprocess.run(["bash", str(script), str(directory)], check=True)


def read_rttm(path: Path) -> Annotation:
    annotation = Annotation(uri=path.stem)
    for i, line in enumerate(path.read_text().splitlines()):
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start, length = float(fields[3]), float(fields[4])
            annotation[Span(start, start + length), f"r{i}"] = fields[7]
    return annotation


def read_languages(wav: Path) -> list[tuple[float, float, str]] | None:
    """The reference's (start, end, language) turns, for a file whose `.segments.tsv` names several languages."""
    table = wav.with_suffix(".segments.tsv")
    if not table.exists():
        return None
    rows = [line.split("\t") for line in table.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    turns = [(float(row[0]), float(row[1]), row[3]) for row in rows if len(row) >= 4]
    return turns if len({language for _, _, language in turns}) > 1 else None


def load_devset(directory: Path, only: list[str] | None) -> list[RealFile]:
    import av

    files = []
    for wav in sorted(directory.glob("*.wav")):
        if wav.name.endswith(".2ch.wav") or (only and not any(wav.stem.startswith(o) for o in only)):
            continue
        group = next(name for name, prefixes in GROUPS if wav.stem.startswith(prefixes))
        language = None if group == "mixed" else "en" if wav.stem.startswith("ami_") else wav.stem[:2]
        with av.open(str(wav)) as container:
            stream = container.streams.audio[0]
            duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
        text = wav.with_suffix(".txt").read_text(encoding="utf-8").strip() if wav.with_suffix(".txt").exists() else None
        reference = read_rttm(wav.with_suffix(".rttm")) if wav.with_suffix(".rttm").exists() else None
        files.append(RealFile(wav.stem, group, wav, language, duration, text, reference, read_languages(wav)))
    return files


@dataclass
class FileResult:
    id: str
    group: str
    quality: str
    forced: bool
    duration: float
    seconds: float
    stages: dict[str, float]
    peak_rss_mb: float
    language: str
    expected_language: str | None
    hypothesis_text: str
    reference_text: str | None
    speakers_found: int
    speakers_reference: int | None
    der0: dict[str, float] | None = None
    der25: dict[str, float] | None = None
    turns_der25: dict[str, float] | None = None
    reference_speech: float = 0.0
    dropped_speech: float = 0.0
    # Overlapped speech (two or more speakers at once), seconds: in the reference, in the diarizer's
    # turns, and in both.
    overlap_reference: float = 0.0
    overlap_found: float = 0.0
    overlap_right: float = 0.0
    segments: list[tuple[float, float, str | None, str]] = field(default_factory=list)
    segment_language: float | None = None  # files that change language: share of speech in the right language


def _peak_rss_reset() -> None:
    """Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) to the current one."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


class InProcessPipeline:
    """The worker's speech steps (spek.recordings.pipeline), without the database, queue and storage."""

    def __init__(self, model: str, cache_dir: Path, scratch_dir: Path) -> None:
        from spek.asr.whisper import WhisperTranscriber
        from spek.diarization import create_diarizer
        from spek.diarization.speech import SpeechFinder
        from spek.settings import Settings

        settings = Settings()
        self.transcriber = WhisperTranscriber(
            model, cache_dir, settings.whisper_device, settings.whisper_compute_type, settings.whisper_cpu_threads
        )
        self.diarizer = create_diarizer(settings.diarizer, settings.pyannote_pipeline, settings.hf_token)
        self.speech_finder = SpeechFinder()
        self.scratch_dir = scratch_dir

    def run(self, path: Path, quality: str, language: str | None) -> tuple[Any, list, list, dict[str, float]]:
        from spek.asr.whisper import Quality
        from spek.audio.loudness import normalize
        from spek.audio.samples import Samples
        from spek.diarization import SpeakerCount
        from spek.diarization.assign import assign_speakers

        stages: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            stages[stage] = now - clock
            clock = now

        with Samples(self.scratch_dir) as audio:
            audio.decode(path)
            lap("decode")
            normalize(audio)
            lap("normalize")
            speech = self.speech_finder.find(audio)
            lap("vad")
            transcription = self.transcriber.transcribe(audio, language, Quality(quality), speech=speech)
            lap("asr")
            turns = self.diarizer.diarize(audio, SpeakerCount(), speech)
            lap("diarize")
            segments = assign_speakers(transcription.segments, turns)
            lap("assign")
        return transcription, turns, segments, stages


ENGLISH, OTHER = EnglishTextNormalizer(), BasicTextNormalizer()


def normalize(text: str, language: str | None) -> str:
    """Whisper's own evaluation normalizers: case, punctuation, and for English numbers and spellings."""
    return (ENGLISH if language == "en" else OTHER)(text.replace("ё", "е").replace("Ё", "Е")).strip()


def _der(reference: Annotation, spans: list[tuple[float, float, str]], collar: float) -> dict[str, float]:
    hypothesis = Annotation()
    for i, (start, end, speaker) in enumerate(spans):
        if end > start:
            hypothesis[Span(start, end), f"h{i}"] = speaker
    return dict(DiarizationErrorRate(collar=collar, skip_overlap=False)(reference, hypothesis, detailed=True))


def _bridged(segments: list[tuple[float, float, str | None, str]]) -> list[tuple[float, float, str]]:
    """A speaker's consecutive segments joined across pauses under BRIDGE_SECONDS (as reference turns are)."""
    spans: list[list] = []
    for start, end, speaker, _ in segments:
        label = speaker or "none"
        if spans and spans[-1][2] == label and start - spans[-1][1] < BRIDGE_SECONDS:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end, label])
    return [(s, e, label) for s, e, label in spans]


def _grid_size(reference: Annotation, duration: float) -> int:
    """GRID cells over the file, or over its reference where that runs on past the audio."""
    return int(max(duration, reference.get_timeline().extent().end if reference else 0) * GRID) + 1


def _dropped(reference: Annotation, segments: list[tuple[float, float, str | None, str]], duration: float):
    """(reference speech seconds, of which in no segment widened by DROP_TOLERANCE)."""
    size = _grid_size(reference, duration)
    spoken, covered = np.zeros(size, bool), np.zeros(size, bool)
    for span in reference.get_timeline():
        spoken[int(span.start * GRID) : int(span.end * GRID)] = True
    for start, end, _, _ in segments:
        covered[max(0, int((start - DROP_TOLERANCE) * GRID)) : int((end + DROP_TOLERANCE) * GRID)] = True
    return spoken.sum() / GRID, (spoken & ~covered).sum() / GRID


def _overlap(reference: Annotation, turns: list[tuple[float, float]], duration: float) -> tuple[float, float, float]:
    """(overlapped reference seconds, overlapped seconds in the turns, overlapped in both)."""
    size = _grid_size(reference, duration)
    speakers, found = np.zeros(size, int), np.zeros(size, int)
    for span, _, _ in reference.itertracks(yield_label=True):
        speakers[int(span.start * GRID) : int(span.end * GRID)] += 1
    for start, end in turns:
        found[int(start * GRID) : int(end * GRID)] += 1
    return (speakers >= 2).sum() / GRID, (found >= 2).sum() / GRID, ((speakers >= 2) & (found >= 2)).sum() / GRID


def score_file(pipeline: InProcessPipeline, file: RealFile, quality: str, language: str | None) -> FileResult:
    _peak_rss_reset()
    started = time.perf_counter()
    transcription, turns, segments, stages = pipeline.run(file.wav, quality, language)
    seconds = time.perf_counter() - started
    plain = [(s.start, s.end, s.speaker, s.text) for s in segments]
    result = FileResult(
        file.id,
        file.group,
        quality,
        language is not None,
        file.duration,
        seconds,
        stages,
        _peak_rss_mb(),
        transcription.language,
        file.language,
        " ".join(s.text for s in transcription.segments),
        file.text,
        len({s.speaker for s in segments if s.speaker is not None}),
        file.speakers,
        segments=plain,
    )
    if file.reference is not None:
        result.der0 = _der(file.reference, _bridged(plain), 0.0)
        result.der25 = _der(file.reference, _bridged(plain), 0.25)
        result.turns_der25 = _der(file.reference, [(t.start, t.end, str(t.speaker)) for t in turns], 0.25)
        result.reference_speech, result.dropped_speech = _dropped(file.reference, plain, file.duration)
        result.overlap_reference, result.overlap_found, result.overlap_right = _overlap(
            file.reference, [(t.start, t.end) for t in turns], file.duration
        )
    if file.languages is not None:
        result.segment_language = _language_match(file.languages, [(s.start, s.end, s.language) for s in segments])
    return result


def _language_match(reference: list[tuple[float, float, str]], found: list[tuple[float, float, str | None]]) -> float:
    """Of the reference speech that some segment covers, the share covered by a segment in its language."""
    right = covered = 0.0
    for start, end, language in reference:
        for s_start, s_end, s_language in found:
            overlap = max(0.0, min(end, s_end) - max(start, s_start))
            covered += overlap
            right += overlap if s_language == language else 0.0
    return right / covered if covered else 0.0


def _rate(details: list[dict[str, float]]) -> float | None:
    if not details:
        return None
    total = sum(d["total"] for d in details)
    errors = sum(d["confusion"] + d["false alarm"] + d["missed detection"] for d in details)
    return errors / total if total else 0.0


def _normalized(results: list[FileResult]) -> tuple[list[str], list[str]] | None:
    """(references, hypotheses) of the files with a reference text, normalized; None when none has one."""
    scored = [r for r in results if r.reference_text is not None]
    if not scored:
        return None
    references = [normalize(r.reference_text or "", r.expected_language) for r in scored]
    return references, [normalize(r.hypothesis_text, r.expected_language) for r in scored]


def _wer(results: list[FileResult], measure=jiwer.wer) -> float | None:
    texts = _normalized(results)
    return None if texts is None else float(measure(*texts))


def _deleted_words(results: list[FileResult]) -> float | None:
    """The share of reference words the transcript has nothing for (WER's deletions): dropped speech
    counted in words, blind to the pauses inside a reference's utterances."""
    texts = _normalized(results)
    if texts is None:
        return None
    aligned = jiwer.process_words(*texts)
    return aligned.deletions / max(1, aligned.hits + aligned.substitutions + aligned.deletions)


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _fmt(value: float | None, width: int, digits: int = 3) -> str:
    return f"{'—':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def summarize(results: list[FileResult], label: str) -> dict[str, Any]:
    diarized = [r for r in results if r.der25 is not None]
    counted = [r for r in results if r.speakers_reference is not None]
    identified = [r for r in results if r.expected_language is not None]
    audio = sum(r.duration for r in results)
    speech = sum(r.reference_speech for r in results)
    return {
        "label": label,
        "files": len(results),
        "audio": audio,
        "wer": _wer(results),
        "cer": _wer(results, jiwer.cer) if any(r.expected_language == "ru" for r in results) else None,
        "der0": _rate([r.der0 for r in diarized if r.der0]),
        "der25": _rate([r.der25 for r in diarized if r.der25]),
        "turns_der25": _rate([r.turns_der25 for r in diarized if r.turns_der25]),
        "count_exact": sum(r.speakers_found == r.speakers_reference for r in counted) / len(counted)
        if counted
        else None,
        "count_error": sum(abs(r.speakers_found - (r.speakers_reference or 0)) for r in counted) / len(counted)
        if counted
        else None,
        "lid": sum(r.language == r.expected_language for r in identified) / len(identified) if identified else None,
        "dropped": sum(r.dropped_speech for r in results) / speech if speech else None,
        "deleted_words": _deleted_words(results),
        "overlap_recall": _share(sum(r.overlap_right for r in results), sum(r.overlap_reference for r in results)),
        "overlap_precision": _share(sum(r.overlap_right for r in results), sum(r.overlap_found for r in results)),
        "speed": sum(r.seconds for r in results) / audio if audio else None,
        "peak_rss_mb": max((r.peak_rss_mb for r in results), default=0.0),
        "stages": {s: sum(r.stages.get(s, 0.0) for r in results) / audio for s in results[0].stages} if results else {},
    }


HEADER = f"{'':<26} {'files':>5} {'audio s':>7} {'WER':>6} {'CER':>6} {'DER c0':>6} {'DER c.25':>8} {'(turns)':>7} {'spk exact':>9} {'spk err':>7} {'LID':>5} {'dropped':>7} {'del wds':>7} {'ovl rec':>7} {'ovl prec':>8} {'time/aud':>8} {'RSS MB':>6}"


def summary_line(s: dict[str, Any]) -> str:
    return (
        f"{s['label']:<26} {s['files']:>5} {s['audio']:>7.0f} {_fmt(s['wer'], 6)} {_fmt(s['cer'], 6)} {_fmt(s['der0'], 6)} "
        f"{_fmt(s['der25'], 8)} {_fmt(s['turns_der25'], 7)} {_fmt(s['count_exact'], 9, 2)} {_fmt(s['count_error'], 7, 2)} "
        f"{_fmt(s['lid'], 5, 2)} {_fmt(s['dropped'], 7)} {_fmt(s['deleted_words'], 7)} {_fmt(s['overlap_recall'], 7)} {_fmt(s['overlap_precision'], 8)} "
        f"{_fmt(s['speed'], 8)} {s['peak_rss_mb']:>6.0f}"
    )


def file_line(r: FileResult) -> str:
    wer = _wer([r])
    return (
        f"  {r.id + (' (forced)' if r.forced else ''):<38} {r.duration:>5.0f}s WER {_fmt(wer, 5, 2)} "
        f"DER c0 {_fmt(r.der0 and r.der0['diarization error rate'], 5, 2)} c.25 {_fmt(r.der25 and r.der25['diarization error rate'], 5, 2)} "
        f"(turns {_fmt(r.turns_der25 and r.turns_der25['diarization error rate'], 5, 2)}) "
        f"spk {r.speakers_found}/{r.speakers_reference if r.speakers_reference is not None else '—'} "
        f"lang {r.language}{'' if r.expected_language in (None, r.language) else '≠' + r.expected_language} "
        f"dropped {r.dropped_speech:>4.1f}/{r.reference_speech:>5.1f}s "
        f"overlap {r.overlap_right:>4.1f}/{r.overlap_reference:>4.1f}s (found {r.overlap_found:.1f}) time {r.seconds / r.duration:.3f} RSS {r.peak_rss_mb:.0f} MB"
        + ("" if r.segment_language is None else f" segment language right {r.segment_language:.2f}")
    )


def real_main(args: argparse.Namespace) -> None:
    warnings.filterwarnings("ignore", message="'uem' was approximated")
    fetch_devset(args.devset, args.fetch_script)
    files = load_devset(args.devset, args.only)
    cache = Path.home() / ".cache" / "spek-bench" / "models"
    with tempfile.TemporaryDirectory() as scratch:
        pipeline = InProcessPipeline(args.model, cache, Path(scratch))
        pipeline.run(files[0].wav, "FAST", "en")  # load every model once, outside the measurements
        total_audio = sum(f.duration for f in files)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"real set: {len(files)} files, {total_audio:.0f} s; model {args.model}, language detected "
            f"(and forced for Russian); diarizer {pipeline.diarizer.name}"
        )
        everything: dict[str, Any] = {}
        for quality in args.qualities:
            results = []
            for file in files:
                results.append(score_file(pipeline, file, quality, None))
                if args.verbose:
                    print(file_line(results[-1]), flush=True)
            forced = [score_file(pipeline, f, quality, "ru") for f in files if f.language == "ru"]
            if args.verbose:
                for r in forced:
                    print(file_line(r), flush=True)
            print(f"\n{quality}\n{HEADER}")
            summaries = [summarize([r for r in results if r.group == name], name) for name, _ in GROUPS]
            summaries = [s for s in summaries if s["files"]]
            few = [r for r in results if r.speakers_reference is not None and 2 <= r.speakers_reference <= 4]
            summaries.append(summarize(few, "2–4 speakers (diar.)"))
            if forced:
                summaries.append(summarize(forced, "read-ru, language forced"))
            summaries.append(summarize(results, "all (language detected)"))
            for s in summaries:
                print(summary_line(s))
            whole = summaries[-1]
            print("  time per stage ÷ audio: " + ", ".join(f"{k} {v:.3f}" for k, v in whole["stages"].items()))
            targets = {
                f"EN conversational WER ≤ {REAL_TARGETS['en_conv_wer']}": (
                    summarize([r for r in results if r.group == "conversation-en"], "")["wer"],
                    REAL_TARGETS["en_conv_wer"],
                ),
                f"RU WER forced ≤ {REAL_TARGETS['ru_wer_forced']}": (
                    summarize(forced, "")["wer"] if forced else None,
                    REAL_TARGETS["ru_wer_forced"],
                ),
                f"DER c.25 (2–4 spk) ≤ {REAL_TARGETS['der_025']}": (
                    summaries[-3 if forced else -2]["der25"],
                    REAL_TARGETS["der_025"],
                ),
                f"speaker count exact (2–4 spk) ≥ {REAL_TARGETS['count_exact']}": (
                    summaries[-3 if forced else -2]["count_exact"],
                    -REAL_TARGETS["count_exact"],
                ),
                f"dropped speech ≤ {REAL_TARGETS['dropped']}": (whole["dropped"], REAL_TARGETS["dropped"]),
                f"time/audio ≤ {REAL_TARGETS['speed']}": (whole["speed"], REAL_TARGETS["speed"]),
            }
            marks = []
            for name, (value, bound) in targets.items():
                met = value is not None and (value >= -bound if bound < 0 else value <= bound)
                marks.append(f"{name}: {_fmt(value, 0)} {'✓' if met else '✗'}")
            print(f"  targets{' (they apply at BALANCED)' if quality != 'BALANCED' else ''}: " + "; ".join(marks))
            if not args.verbose:
                for r in results + forced:
                    print(file_line(r))
            everything[quality] = {"summaries": summaries, "files": [asdict(r) for r in results + forced]}
        if args.json:
            args.json.write_text(json.dumps(everything, indent=1, ensure_ascii=False))


# ---- the synthetic set: espeak-ng dialogues, through the API and the worker ----

ESPEAK_TARGETS = {"en_wer": 0.12, "der_025": 0.10, "speed": 0.25}

DIALOGUES: dict[str, tuple[str, list[tuple[str, str]], dict]] = {
    "en-support-call": ("en", SUPPORT_CALL, {}),
    "en-meeting-3": (
        "en",
        [
            ("en-us", "Good morning everyone, thanks for joining the weekly planning meeting."),
            ("en+f3", "Morning. I have the numbers from last quarter ready to share."),
            ("en-us", "Great, please go ahead."),
            ("en+f3", "Revenue grew by twelve percent, mostly from the new subscription plan."),
            ("en-gb+m7", "That is better than we expected. What about costs?"),
            ("en+f3", "Costs stayed flat, although hosting went up a little."),
            ("en-gb+m7", "We should look at the hosting contract before it renews next month."),
            ("en-us", "Agreed. Let us put that on the agenda for Thursday."),
        ],
        {},
    ),
    "en-noisy-overlap": (
        "en",
        [
            ("en-us+m3", "So the train leaves at nine fifteen from platform four."),
            ("en+f4", "Then we should meet at the station at nine."),
            ("en-us+m3", "That works for me. Do you have the tickets?"),
            ("en+f4", "Yes, I bought them online yesterday evening."),
            ("en-us+m3", "Perfect, see you tomorrow then."),
            ("en+f4", "See you tomorrow, have a good night."),
        ],
        {"overlap": 0.3, "snr_db": 20.0},
    ),
    "ru-conversation": (
        "ru",
        [
            ("ru", "Добрый день. Сегодня мы обсудим расписание занятий."),
            ("ru+f3", "Здравствуйте. У меня есть вопрос о лекции в четверг."),
            ("ru", "Конечно, спрашивайте."),
            ("ru+f3", "Будет ли запись лекции доступна после занятия?"),
            ("ru", "Да, запись появится в системе вечером."),
        ],
        {},
    ),
}


@dataclass
class Sample:
    name: str
    language: str
    path: Path
    text: str
    turns: list[tuple[float, float, str]]
    duration: float


def build_samples(directory: Path) -> list[Sample]:
    samples = []
    for name, (language, lines, effects) in DIALOGUES.items():
        path, turns = dialogue(
            lines, directory / f"{name}.wav", pause=0.4 - effects.get("overlap", 0.0) if "overlap" in effects else 0.4
        )
        if effects:
            path, turns = _mix(path, turns, effects.get("overlap", 0.0), effects.get("snr_db"))
        duration = turns[-1][1]
        samples.append(Sample(name, language, path, " ".join(text for _, text in lines), turns, duration))
    return samples


def _mix(path: Path, turns: list[tuple[float, float, str]], overlap: float, snr_db: float | None):
    """Pull every other turn `overlap` seconds into the one before it, and add noise at snr_db."""
    from spek.media import decode_mono_16k

    audio = decode_mono_16k(path)
    out = np.zeros(len(audio), dtype=np.float32)
    shifted = []
    shift = 0.0
    for i, (start, end, voice) in enumerate(turns):
        pull = overlap if i % 2 == 1 else 0.0
        shift += pull
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        offset = int((start - shift) * SAMPLE_RATE)
        out[offset : offset + (b - a)] += audio[a:b]
        shifted.append((start - shift, end - shift, voice))
    out = out[: int(shifted[-1][1] * SAMPLE_RATE) + SAMPLE_RATE // 2]
    if snr_db is not None:
        power = np.mean(out[out != 0] ** 2)
        out += np.random.default_rng(0).normal(0, np.sqrt(power / 10 ** (snr_db / 10)), len(out)).astype(np.float32)
    return write_wav(path, out), shifted


class Client:
    UPLOAD = "mutation($file: Upload!, $input: RecordingInput) { uploadRecording(file: $file, input: $input) { id job { id } } }"
    STATE = "query($id: ID!) { recording(id: $id) { status job { status error } transcript { language text segments { start end speaker } } } }"

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=600)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        body = self.http.post(
            "/graphql",
            json={
                "query": 'mutation($e: String!) { register(email: $e, password: "benchmark password") { accessToken } }',
                "variables": {"e": email},
            },
        ).json()
        self.headers = {"Authorization": f"Bearer {body['data']['register']['accessToken']}"}

    def first_event_seconds(self, job_id: str, uploaded: float) -> float:
        """From the upload's answer to the first jobProgress event on a new graphql-transport-ws subscription."""
        query = "subscription($job: ID!) { jobProgress(jobId: $job) { seq } }"
        with connect(
            str(self.http.base_url).rstrip("/").replace("http", "ws", 1) + "/graphql",
            subprotocols=["graphql-transport-ws"],
        ) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": self.headers}))
            ws.recv(timeout=10)
            ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"job": job_id}}})
            )
            ws.recv(timeout=10)
            return time.perf_counter() - uploaded

    def transcribe(self, sample: Sample, quality: str) -> tuple[dict, float, float]:
        started = time.perf_counter()
        response = self.http.post(
            "/graphql",
            data={
                "operations": json.dumps(
                    {"query": self.UPLOAD, "variables": {"file": None, "input": {"quality": quality}}}
                ),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (sample.path.name, sample.path.read_bytes(), "audio/wav")},
            headers={**self.headers, "Apollo-Require-Preflight": "1"},
        ).json()
        recording_id = response["data"]["uploadRecording"]["id"]
        first_event = self.first_event_seconds(response["data"]["uploadRecording"]["job"]["id"], time.perf_counter())
        while True:
            state = self.http.post(
                "/graphql", json={"query": self.STATE, "variables": {"id": recording_id}}, headers=self.headers
            ).json()["data"]["recording"]
            if state["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                elapsed = time.perf_counter() - started
                assert state["status"] == "COMPLETED", state
                return state["transcript"], elapsed, first_event
            time.sleep(0.05)


def der(sample: Sample, transcript: dict, collar: float) -> float:
    reference, hypothesis = Annotation(), Annotation()
    for start, end, voice in sample.turns:
        reference[Span(start, end), f"r{start}"] = voice
    # Reference turns include the pauses inside them (between sentences); bridge the same pauses
    # between a speaker's consecutive segments, or they would count as missed speech.
    spans: list[list] = []
    for segment in transcript["segments"]:
        speaker = segment["speaker"] or "none"
        if spans and spans[-1][2] == speaker and segment["start"] - spans[-1][1] < BRIDGE_SECONDS:
            spans[-1][1] = segment["end"]
        else:
            spans.append([segment["start"], segment["end"], speaker])
    for start, end, speaker in spans:
        hypothesis[Span(start, end), f"h{start}"] = speaker
    return DiarizationErrorRate(collar=collar, skip_overlap=False)(reference, hypothesis)


def espeak_main(args: argparse.Namespace) -> None:

    with tempfile.TemporaryDirectory() as scratch:
        samples = build_samples(Path(scratch))
        with running_spek(Path(scratch) / "data") as base_url:
            client = Client(base_url)
            client.transcribe(samples[0], "FAST")  # load the models once, outside the measurements
            total_audio = sum(s.duration for s in samples)
            print(
                f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
                f"{len(samples)} dialogues, {total_audio:.0f} s of audio; model {os.environ.get('SPEK_WHISPER_MODEL', 'base')}, language detected"
            )
            print(
                f"{'quality':<9} {'EN WER':>7} {'RU WER':>7} {'DER c0':>7} {'DER c.25':>8} {'LID acc':>8} {'time/audio':>10} {'1st event':>9}   per file: WER / DER c.25 / time÷audio"
            )
            for quality in args.qualities:
                refs: dict[str, list[str]] = {"en": [], "ru": []}
                hyps: dict[str, list[str]] = {"en": [], "ru": []}
                ders0, ders25, correct, elapsed_total, details, first_events = [], [], 0, 0.0, [], []
                for sample in samples:
                    transcript, elapsed, first_event = client.transcribe(sample, quality)
                    first_events.append(first_event)
                    refs[sample.language].append(normalize(sample.text, sample.language))
                    hyps[sample.language].append(normalize(transcript["text"], sample.language))
                    d0, d25 = der(sample, transcript, 0.0), der(sample, transcript, 0.25)
                    ders0.append(d0 * sample.duration)
                    ders25.append(d25 * sample.duration)
                    correct += transcript["language"] == sample.language
                    elapsed_total += elapsed
                    details.append(
                        f"{sample.name} {jiwer.wer(refs[sample.language][-1], hyps[sample.language][-1]):.2f}/{d25:.2f}/{elapsed / sample.duration:.2f}"
                    )
                en_wer, ru_wer = jiwer.wer(refs["en"], hyps["en"]), jiwer.wer(refs["ru"], hyps["ru"])
                print(
                    f"{quality:<9} {en_wer:>7.3f} {ru_wer:>7.3f} {sum(ders0) / total_audio:>7.3f} {sum(ders25) / total_audio:>8.3f} "
                    f"{correct / len(samples):>8.2f} {elapsed_total / total_audio:>10.3f} {max(first_events):>9.2f}   {'; '.join(details)}"
                )
            print(
                f"targets (BALANCED): EN WER ≤ {ESPEAK_TARGETS['en_wer']}, DER c.25 ≤ {ESPEAK_TARGETS['der_025']}, time/audio ≤ {ESPEAK_TARGETS['speed']}, first event ≤ 1 s (slowest upload of the run)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--set", choices=["real", "espeak"], default="real", help="real speech (default) or espeak-ng voices"
    )
    parser.add_argument("--qualities", nargs="+", default=["FAST", "BALANCED", "BEST"])
    parser.add_argument("--only", nargs="+", help="real set: only files whose id starts with one of these")
    parser.add_argument("--model", default=os.environ.get("SPEK_WHISPER_MODEL", "base"), help="real set: Whisper model")
    parser.add_argument("--devset", type=Path, default=DEVSET_CACHE, help="real set: where it is (built if missing)")
    parser.add_argument("--fetch-script", type=Path, default=FETCH_SCRIPT, help="real set: the script that builds it")
    parser.add_argument("--json", type=Path, help="real set: write every result here")
    parser.add_argument("--verbose", action="store_true", help="real set: print each file as it is done")
    args = parser.parse_args()
    (real_main if args.set == "real" else espeak_main)(args)


if __name__ == "__main__":
    main()
