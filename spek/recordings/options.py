"""How a recording is processed: what the uploader chose, with the defaults every edge shares."""

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from spek.asr.languages import WHISPER_LANGUAGES
from spek.asr.whisper import Quality
from spek.diarization import MAX_SPEAKERS
from spek.errors import BadUserInput


@dataclass
class RecordingOptions:
    title: str | None = None
    notebook_id: uuid.UUID | None = None
    language: str | None = None  # ISO 639-1; None: detect
    quality: Quality = Quality.BALANCED
    diarize: bool = True
    num_speakers: int | None = None  # the exact count, when known
    min_speakers: int | None = None
    max_speakers: int | None = None

    def validate(self) -> None:
        if self.language is not None and self.language.lower() not in WHISPER_LANGUAGES:
            raise BadUserInput(
                f'language {self.language!r} is not an ISO 639-1 code Whisper knows (e.g. "en", "ru"); '
                "leave it out to detect."
            )
        if self.quality not in tuple(Quality):
            raise BadUserInput(f"quality must be one of {', '.join(Quality)}.")
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= MAX_SPEAKERS:
                raise BadUserInput(f"{name} must be between 1 and {MAX_SPEAKERS}.")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise BadUserInput("minSpeakers must not be more than maxSpeakers.")

    def as_json(self) -> dict[str, Any]:
        """As kept on the Recording row (for retries)."""
        data = asdict(self)
        data["notebook_id"] = str(self.notebook_id) if self.notebook_id else None
        data["quality"] = str(self.quality)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RecordingOptions":
        notebook_id = data.get("notebook_id")
        return cls(
            **{
                **data,
                "notebook_id": uuid.UUID(notebook_id) if notebook_id else None,
                "quality": Quality(data.get("quality", "BALANCED")),
            }
        )


DEFAULTS = RecordingOptions()
