"""Test audio: speech from espeak-ng, re-encoded with PyAV into every accepted format."""

import subprocess
from pathlib import Path

import av
import numpy as np


def speak(text: str, path: Path, voice: str = "en-us") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
    return path


def reencode(
    source: Path, target: Path, container: str, codec: str, rate: int | None = None, video: bool = False
) -> Path:
    """Write the source's audio into another container/codec (optionally with a video track)."""
    with av.open(str(source)) as src:
        stream = src.streams.audio[0]
        samples = np.concatenate(
            [
                f.to_ndarray().reshape(-1).astype(np.float32) / (32768 if f.format.name == "s16" else 1)
                for f in src.decode(stream)
            ]
        )
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
        resampler = av.AudioResampler(
            format=audio.codec_context.codec.audio_formats[0].name, layout="mono", rate=out_rate
        )
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


def dialogue(
    lines: list[tuple[str, str]], path: Path, pause: float = 0.4
) -> tuple[Path, list[tuple[float, float, str]]]:
    """Lines spoken by espeak-ng voices one after another; returns the WAV and (start, end, voice) turns."""
    from spek.media import SAMPLE_RATE, decode_mono_16k

    pieces, turns, t = [], [], 0.0
    for i, (voice, text) in enumerate(lines):
        part = speak(text, path.with_name(f"{path.stem}-{i}.wav"), voice)
        samples = decode_mono_16k(part)
        part.unlink()
        turns.append((t, t + len(samples) / SAMPLE_RATE, voice))
        pieces += [samples, np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32)]
        t += len(samples) / SAMPLE_RATE + pause
    return write_wav(path, np.concatenate(pieces)), turns


def talking_over(path: Path, seconds: float = 2.0) -> tuple[Path, tuple[float, float], float]:
    """The support call's two voices as monologues, the second starting `seconds` before the first
    has finished; returns the WAV, where both speak, and its length."""
    from spek.media import SAMPLE_RATE, decode_mono_16k

    first, second = (
        np.concatenate(
            [
                decode_mono_16k(speak(text, path.with_name(f"{path.stem}-{i}.wav"), v))
                for i, (v, text) in enumerate(SUPPORT_CALL)
                if v == voice
            ]
        )
        for voice in ("en-us", "en+f2")
    )
    second_starts = len(first) - int(seconds * SAMPLE_RATE)
    mix = np.zeros(second_starts + len(second), dtype=np.float32)
    mix[: len(first)] += first
    mix[second_starts:] += second
    overlap = (second_starts / SAMPLE_RATE, len(first) / SAMPLE_RATE)
    return write_wav(path, mix / np.abs(mix).max()), overlap, len(mix) / SAMPLE_RATE


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16 kHz mono float samples in -1..1 as a 16-bit WAV file."""
    from spek.media import SAMPLE_RATE

    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=SAMPLE_RATE)
        stream.layout = "mono"
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


SUPPORT_CALL = [
    ("en-us", "Hi, is this the support line?"),
    ("en+f2", "Yes it is, how can I help you today?"),
    ("en-us", "My internet has been down since this morning."),
    ("en+f2", "I am sorry to hear that. Can you tell me your account number?"),
    ("en-us", "Sure, it is four five seven one two."),
    ("en+f2", "Thank you. I can see an outage in your area."),
    ("en-us", "How long will it take?"),
    ("en+f2", "About two hours."),
]
