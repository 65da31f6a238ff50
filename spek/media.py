"""Reading audio files: what is really inside (container, codec, duration), and decoding to 16 kHz mono."""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

SAMPLE_RATE = 16_000
# Containers PyAV reports, mapped to the names people know; codec decides for ambiguous ones.
ACCEPTED_CONTAINERS = {"wav", "mp3", "flac", "ogg", "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "w64"}


@dataclass(frozen=True)
class MediaInfo:
    format: str
    duration_seconds: float | None
    sample_rate: int | None
    channels: int | None


class NotAudio(ValueError):
    pass


def _format_name(container: str, codec: str, has_video: bool, brand: str) -> str:
    if container == "mov,mp4,m4a,3gp,3g2,mj2":
        if brand.strip() == "qt":
            return "mov"
        return "mp4" if has_video else "m4a"
    if container == "matroska,webm":
        return "webm"
    if container == "ogg":
        return "opus" if codec == "opus" else "ogg"
    return container


def probe(path: Path) -> MediaInfo:
    """Open the file as FFmpeg sees it; NotAudio unless it holds a decodable audio track."""
    try:
        with av.open(str(path), mode="r") as container:
            audio = next(iter(container.streams.audio), None)
            container_name = container.format.name
            if audio is None:
                raise NotAudio("the file has no audio track")
            if container_name not in ACCEPTED_CONTAINERS:
                raise NotAudio(f"{container_name} files are not accepted")
            # Decode one frame: a right header over garbage data must not pass.
            if next(container.decode(audio), None) is None:
                raise NotAudio("the audio track holds no decodable sound")
            duration = None
            if audio.duration is not None and audio.time_base is not None:
                duration = float(audio.duration * audio.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            has_video = any(s.type == "video" for s in container.streams)
            return MediaInfo(
                format=_format_name(
                    container_name, audio.codec_context.name, has_video, container.metadata.get("major_brand", "")
                ),
                duration_seconds=duration,
                sample_rate=audio.codec_context.sample_rate or None,
                channels=audio.codec_context.channels or None,
            )
    except av.FFmpegError as e:
        raise NotAudio(f"it could not be decoded ({e.strerror or type(e).__name__})") from None


def decode_frames(source: Path | BinaryIO | io.RawIOBase) -> Iterator[np.ndarray]:
    """The audio track as float32 samples in -1..1, 16 kHz mono, one decoded frame at a time."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(source, mode="r") as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for resampled in resampler.resample(frame):
                yield resampled.to_ndarray().reshape(-1)
        for resampled in resampler.resample(None):
            yield resampled.to_ndarray().reshape(-1)


def decode_mono_16k(source: Path | BinaryIO | io.RawIOBase) -> np.ndarray:
    """The whole audio track in memory: for short files (the worker streams into spek.audio.Samples)."""
    pieces = list(decode_frames(source))
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
