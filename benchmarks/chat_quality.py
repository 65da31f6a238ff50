"""Chat: time to first token, speed and answer quality per local model, through the real API and chat worker.

    .venv/bin/python -m benchmarks.chat_quality [--models qwen2.5-0.5b smollm2-135m] [--load-clients 20]
        [--data-dir DIR] [--cache DIR] [--details FILE]

Material: the corpus of benchmarks/search_quality.py (Python documentation pages and Russian prose, uploaded
as documents and embedded with the default embedding model; --data-dir keeps it for the next run, shared
with that benchmark's --data-dir). For each model (SPEK_LLM_MODEL, a fresh `spek serve`, worker and chat
worker) it asks every question of benchmarks/chat_questions.json with `sendMessage` and follows
`messageTokens` over a WebSocket, then asks the first questions again while --load-clients threads send
`me` queries as fast as they can. It prints, per model and per condition: time to first token (from the
mutation's answer to the first text delta, of the answers the model wrote), tokens per second after it (the answer's characters / 4),
the share of answerable questions answered correctly with a correct citation, and the share of
unanswerable ones answered "not in your material". Targets (SPEC): first token ≤ 1.5 s.
"""

import argparse
import json
import os
import platform
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

from benchmarks.search_quality import Client, Stack, english_documents, ingested, running_stack, russian_documents
from benchmarks.search_quality import data_dir as stack_dir
from spek.chat.answer import NOTHING_FOUND
from tests.support import subscribe

QUESTIONS_FILE = Path(__file__).with_name("chat_questions.json")
SEND = "mutation($q: String!) { sendMessage(content: $q) { id } }"
TOKENS = (
    "subscription($id: ID!) { messageTokens(messageId: $id) { seq delta done content error citations { parentId } } }"
)
TARGET_FIRST_TOKEN_S = 1.5
EMBEDDING_MODEL = "minilm"


@dataclass
class Answer:
    question: dict
    content: str
    error: str | None
    cited_docs: list[str]
    first_token_s: float | None
    tokens_per_s: float | None

    @property
    def from_spek(self) -> bool:
        return self.content in NOTHING_FOUND.values()


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)

    def first_tokens(self) -> list[float]:
        """Of the answers the model wrote (not Spek's own "nothing found")."""
        return [a.first_token_s for a in self.answers if a.first_token_s is not None and not a.from_spek]

    def speeds(self) -> list[float]:
        return [a.tokens_per_s for a in self.answers if a.tokens_per_s is not None]


def ask(stack: Stack, client: Client, question: dict, keys: dict[str, str]) -> Answer:
    message = client.graphql(SEND, {"q": question["question"]})["sendMessage"]
    answered = time.perf_counter()
    first: list[float] = []
    done_at: list[float] = []

    def on_event(data: dict) -> None:
        event = data["messageTokens"]
        if event["delta"] and not first:
            first.append(time.perf_counter())
        if event["done"]:
            done_at.append(time.perf_counter())

    token = client.http.headers["Authorization"].removeprefix("Bearer ")
    events, errors = subscribe(stack, token, TOKENS, {"id": message["id"]}, on_event)
    if errors:
        raise RuntimeError(f"messageTokens failed: {errors}")
    done = events[-1]["messageTokens"]
    content = done["content"] or ""
    speed = None
    if first and done_at and done_at[0] - first[0] > 0.2:
        speed = len(content) / 4 / (done_at[0] - first[0])
    return Answer(
        question,
        content,
        done["error"],
        [keys.get(c["parentId"], "?") for c in done["citations"] or []],
        first[0] - answered if first else None,
        speed,
    )


def correct(answer: Answer) -> bool:
    text = answer.content.casefold()
    said = any(word.casefold() in text for word in answer.question["expect"])
    cited = any(doc == d or doc.startswith(d + "-") for doc in answer.cited_docs for d in answer.question["docs"])
    return said and cited


def says_not_found(answer: Answer, markers: list[str]) -> bool:
    text = answer.content.casefold()
    return not answer.error and any(marker in text for marker in markers)


def progress(answer: Answer, spec: dict) -> Answer:
    """Print one line per answer as it comes (a run takes a while)."""
    if answer.question["id"].startswith("a"):
        verdict = "correct" if correct(answer) else "wrong"
    else:
        verdict = "not found" if says_not_found(answer, spec["not_found_markers"]) else "answered anyway"
    first = f"{answer.first_token_s:.1f} s" if answer.first_token_s is not None else "-"
    text = " ".join(answer.content.split())[:90]
    print(f"  {answer.question['id']} first token {first}, {verdict}, cites {answer.cited_docs}: {text}", flush=True)
    return answer


def hammer(base_url: str, token: str, clients: int, stop: threading.Event) -> list[int]:
    """`clients` threads sending `me` back to back until `stop`; the number each sent."""
    counts = [0] * clients

    def run(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
            while not stop.is_set():
                http.post("/graphql", json={"query": "{ me { id } }"})
                counts[n] += 1

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    return counts


def run_model(model: str, documents: list, spec: dict, args: argparse.Namespace) -> dict[str, Run]:
    settings = {"SPEK_LLM_MODEL": model, "SPEK_LLM_THREADS": str(args.threads)}
    with stack_dir(args, EMBEDDING_MODEL) as directory, running_stack(directory, EMBEDDING_MODEL, **settings) as stack:
        client, keys, _uploaded, _ingest = ingested(stack, directory, documents, args)
        token = client.http.headers["Authorization"].removeprefix("Bearer ")
        ask(stack, client, {"question": "warm-up: what is a list?", "expect": [], "docs": []}, keys)  # loads the model
        idle = Run([progress(ask(stack, client, q, keys), spec) for q in spec["answered"] + spec["absent"]])
        stop = threading.Event()
        counts = hammer(stack.base_url, token, args.load_clients, stop)
        began = time.perf_counter()
        try:
            loaded = Run([progress(ask(stack, client, q, keys), spec) for q in spec["answered"][: args.load_questions]])
        finally:
            stop.set()
        rate = sum(counts) / (time.perf_counter() - began)
        print(f"{model}: under load, {args.load_clients} clients sent {rate:.0f} `me` queries/s", flush=True)
        return {"idle": idle, f"{args.load_clients} `me` clients": loaded}


def summary(name: str, condition: str, run: Run, spec: dict) -> str:
    answered = [a for a in run.answers if "expect" in a.question and a.question.get("id", "").startswith("a")]
    absent = [a for a in run.answers if a.question.get("id", "").startswith("n")]
    first = run.first_tokens()
    speeds = run.speeds()
    cells = [
        f"{np.percentile(first, 50):.2f}" if first else "-",
        f"{np.percentile(first, 95):.2f}" if first else "-",
        f"{np.median(speeds):.1f}" if speeds else "-",
        f"{sum(map(correct, answered))}/{len(answered)}" if answered else "-",
        f"{sum(says_not_found(a, spec['not_found_markers']) for a in absent)}/{len(absent)}" if absent else "-",
        f"{sum(a.error is not None for a in run.answers)}",
    ]
    return f"| {name} | {condition} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["qwen2.5-0.5b", "smollm2-135m"], help="SPEK_LLM_MODEL values")
    parser.add_argument("--threads", type=int, default=1, help="SPEK_LLM_THREADS")
    parser.add_argument("--load-clients", type=int, default=20)
    parser.add_argument("--load-questions", type=int, default=6, help="questions asked again under load")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "spek-benchmarks" / "search",
    )
    parser.add_argument("--data-dir", type=Path, help="keep (and reuse) the stack with the embedded corpus here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the corpus's embedding")
    parser.add_argument("--details", type=Path, help="write every answer here (JSON)")
    args = parser.parse_args()

    spec = json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))
    queries = json.loads(Path(__file__).with_name("search_queries.json").read_text(encoding="utf-8"))
    english, _ = english_documents(args.cache, queries["english_pages"])
    russian, _ = russian_documents(args.cache, queries["russian_sentences"])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
        f"load average {os.getloadavg()[0]:.2f} at start; {len(spec['answered'])} answerable and "
        f"{len(spec['absent'])} unanswerable questions; embeddings {EMBEDDING_MODEL}; LLM threads {args.threads}",
        flush=True,
    )
    rows, details = [], []
    for model in args.models:
        try:
            runs = run_model(model, english + russian, spec, args)
        except Exception as e:  # the stack failed: say which model, keep what was measured
            print(f"{model}: failed: {e!r}", file=sys.stderr)
            continue
        for condition, run in runs.items():
            rows.append(summary(model, condition, run, spec))
            details += [
                {
                    "model": model,
                    "condition": condition,
                    **a.question,
                    "answer": a.content,
                    "error": a.error,
                    "cited": a.cited_docs,
                    "first_token_s": a.first_token_s,
                    "tokens_per_s": a.tokens_per_s,
                }
                for a in run.answers
            ]
        print("\n".join(rows[-len(runs) :]), flush=True)
    print(
        "\n| model | condition | first token p50 s | p95 s | tokens/s | answered correctly, cited | "
        '"not in your material" | errors |'
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"target: first token ≤ {TARGET_FIRST_TOKEN_S} s")
    if args.details:
        args.details.write_text(json.dumps(details, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
