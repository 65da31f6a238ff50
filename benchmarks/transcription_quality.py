"""Transcription and diarization quality and speed, through the real API and worker.

    .venv/bin/python -m benchmarks.transcription_quality [--qualities FAST BALANCED BEST]

Builds its own evaluation set with espeak-ng: dialogues in English and Russian with known text and
speaker turns (pauses, some overlapping speech, some background noise). Each file is uploaded to a
fresh `spek up`, one at a time, with the language left to detection. Prints per quality setting:
WER (jiwer, normalized text) per language, DER (pyannote.metrics, collar 0 and 0.25 s), language-ID
accuracy, and processing time (upload start to COMPLETED) ÷ audio duration, next to the targets.
"""

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

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

BRIDGE_SECONDS = 0.6
TARGETS = {"en_wer": 0.12, "der_025": 0.10, "speed": 0.25}

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


ENGLISH, OTHER = EnglishTextNormalizer(), BasicTextNormalizer()


def normalize(text: str, language: str) -> str:
    """Whisper's own evaluation normalizers: case, punctuation, and for English numbers and spellings."""
    return (ENGLISH if language == "en" else OTHER)(text.replace("ё", "е")).strip()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qualities", nargs="+", default=["FAST", "BALANCED", "BEST"])
    args = parser.parse_args()

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
                f"targets (BALANCED): EN WER ≤ {TARGETS['en_wer']}, DER c.25 ≤ {TARGETS['der_025']}, time/audio ≤ {TARGETS['speed']}, first event ≤ 1 s (slowest upload of the run)"
            )


if __name__ == "__main__":
    main()
