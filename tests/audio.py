"""Test audio: speech from espeak-ng, re-encoded with PyAV into every accepted format."""

import subprocess
from pathlib import Path

import av
import numpy as np


def speak(text: str, path: Path, voice: str = "en-us") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
    return path


def reencode(source: Path, target: Path, container: str, codec: str, rate: int | None = None, video: bool = False) -> Path:
    """Write the source's audio into another container/codec (optionally with a video track)."""
    with av.open(str(source)) as src:
        stream = src.streams.audio[0]
        samples = np.concatenate([f.to_ndarray().reshape(-1).astype(np.float32) / (32768 if f.format.name == "s16" else 1) for f in src.decode(stream)])
        in_rate = stream.codec_context.sample_rate
    out_rate = rate or in_rate
    with av.open(str(target), "w", format=container) as out:
        if video:
            picture = out.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        audio = out.add_stream(codec, rate=out_rate)
        audio.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = in_rate
        resampler = av.AudioResampler(format=audio.codec_context.codec.audio_formats[0].name, layout="mono", rate=out_rate)
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in audio.encode(resampled):
                out.mux(packet)
        if video:
            for i in range(int(len(samples) / in_rate * 10)):
                image = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), dtype=np.uint8), format="rgb24")
                image.pts = i
                for packet in picture.encode(image):
                    out.mux(packet)
            for packet in picture.encode(None):
                out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    return target
