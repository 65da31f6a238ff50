"""Job functions for recordings: thin wrappers over the pipeline in `spek.recordings`."""

import threading
import uuid
from typing import Any

from arq.worker import Retry

from jobs.lease import hold_lease
from spek.asr.whisper import WhisperTranscriber
from spek.diarization import Diarizer, create_diarizer
from spek.jobs.retries import RetryLater, WorkerStopping
from spek.recordings.pipeline import PipelineTools
from spek.recordings.pipeline import transcribe_recording as run_pipeline
from spek.settings import Settings

# Jobs load models from their worker threads; one at a time, so each model is loaded once.
_loading = threading.Lock()


def _transcriber(ctx: dict[str, Any]) -> WhisperTranscriber:
    """Loaded on first use and kept: loading a model takes longer than a short recording."""
    with _loading:
        if "transcriber" not in ctx:
            settings: Settings = ctx["settings"]
            ctx["transcriber"] = WhisperTranscriber(
                settings.whisper_model,
                settings.data_dir / "models",
                settings.whisper_device,
                settings.whisper_compute_type,
                settings.whisper_cpu_threads,
            )
        return ctx["transcriber"]


def _diarizer(ctx: dict[str, Any]) -> Diarizer:
    with _loading:
        if "diarizer" not in ctx:
            settings: Settings = ctx["settings"]
            ctx["diarizer"] = create_diarizer(settings.diarizer, settings.pyannote_pipeline, settings.hf_token)
        return ctx["diarizer"]


async def transcribe_recording(ctx: dict[str, Any], job_id: str) -> None:
    settings: Settings = ctx["settings"]
    tools = PipelineTools(
        ctx["sessionmaker"],
        ctx["redis"],
        ctx["storage"],
        lambda: _transcriber(ctx),
        lambda: _diarizer(ctx),
        ctx["stopping"],
        settings.job_max_attempts,
        settings.job_retry_backoff_seconds,
        scratch_dir=settings.data_dir / "tmp",
    )
    try:
        async with hold_lease(ctx["redis"], ctx["job_id"], settings.job_lease_seconds):
            await run_pipeline(tools, uuid.UUID(job_id))
    except RetryLater as e:
        raise Retry(defer=e.delay) from e
    except WorkerStopping:
        raise Retry(defer=0) from None  # stays at the head of the queue for the next worker
