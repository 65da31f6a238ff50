"""Job functions for recordings: thin wrappers over the pipeline in `spek.recordings`."""

import uuid
from typing import Any

from jobs.lease import run_leased
from jobs.models import embedder, load_once
from spek.asr.whisper import WhisperTranscriber
from spek.diarization import Diarizer, create_diarizer
from spek.diarization.speech import SpeechFinder
from spek.recordings.pipeline import PipelineTools
from spek.recordings.pipeline import transcribe_recording as run_pipeline
from spek.settings import Settings


def _transcriber(ctx: dict[str, Any]) -> WhisperTranscriber:
    settings: Settings = ctx["settings"]
    return load_once(
        ctx,
        "transcriber",
        lambda: WhisperTranscriber(
            settings.whisper_model,
            settings.data_dir / "models",
            settings.whisper_device,
            settings.whisper_compute_type,
            settings.whisper_cpu_threads,
        ),
    )


def _diarizer(ctx: dict[str, Any]) -> Diarizer:
    settings: Settings = ctx["settings"]
    return load_once(
        ctx, "diarizer", lambda: create_diarizer(settings.diarizer, settings.pyannote_pipeline, settings.hf_token)
    )


async def transcribe_recording(ctx: dict[str, Any], job_id: str) -> None:
    settings: Settings = ctx["settings"]
    tools = PipelineTools(
        ctx["sessionmaker"],
        ctx["redis"],
        ctx["storage"],
        lambda: _transcriber(ctx),
        lambda: _diarizer(ctx),
        lambda: load_once(ctx, "speech finder", SpeechFinder),
        lambda: embedder(ctx),
        ctx["stopping"],
        settings.job_max_attempts,
        settings.job_retry_backoff_seconds,
        make_notes=settings.notes_enabled,
        scratch_dir=settings.data_dir / "tmp",
    )
    await run_leased(ctx, run_pipeline(tools, uuid.UUID(job_id)))
