"""Job functions for recordings: thin wrappers over the pipeline in `spek.recordings`."""

import uuid
from typing import Any

from spek.asr.whisper import WhisperTranscriber
from spek.diarization import Diarizer, create_diarizer
from spek.recordings.pipeline import PipelineTools
from spek.recordings.pipeline import transcribe_recording as run_pipeline
from spek.settings import Settings


def _transcriber(ctx: dict[str, Any]) -> WhisperTranscriber:
    """Loaded on first use and kept: loading a model takes longer than a short recording."""
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
    if "diarizer" not in ctx:
        settings: Settings = ctx["settings"]
        ctx["diarizer"] = create_diarizer(settings.diarizer, settings.pyannote_pipeline, settings.hf_token)
    return ctx["diarizer"]


async def transcribe_recording(ctx: dict[str, Any], job_id: str) -> None:
    tools = PipelineTools(ctx["sessionmaker"], ctx["redis"], ctx["storage"], lambda: _transcriber(ctx), lambda: _diarizer(ctx))
    await run_pipeline(tools, uuid.UUID(job_id))
