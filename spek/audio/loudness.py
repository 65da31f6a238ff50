"""Loudness normalization: measure integrated loudness (ITU-R BS.1770-4, as EBU R128 uses it) over
the file block by block, then apply one gain towards a target, capped so that nothing clips.
"""

import math
from dataclasses import dataclass

import numpy as np
from pyloudnorm.iirfilter import IIRfilter
from scipy.signal import lfilter

from spek.audio.options import DEFAULTS, AudioOptions
from spek.audio.samples import Audio, Samples, blocks
from spek.media import SAMPLE_RATE

STEP = SAMPLE_RATE // 10  # gating blocks are 400 ms long and start every 100 ms
STEPS_PER_BLOCK = 4
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0


@dataclass(frozen=True)
class Loudness:
    lufs: float  # integrated (gated) loudness; -inf when nothing passes the gates (silence)
    peak: float  # largest absolute sample value


def _k_weighting() -> list[IIRfilter]:
    # BS.1770's two stages: a +4 dB high shelf (the head's acoustic effect) and a 38 Hz high pass.
    return [
        IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, SAMPLE_RATE, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, SAMPLE_RATE, "high_pass"),
    ]


def _block_loudness(mean_squares: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(mean_squares)


def measure(audio: Audio, options: AudioOptions = DEFAULTS) -> Loudness:
    """Integrated loudness and peak, holding one block of audio (and 10 floats per second) at a time."""
    filters = _k_weighting()
    states = [np.zeros(max(len(f.a), len(f.b)) - 1) for f in filters]
    block = max(STEP, int(options.block_seconds * SAMPLE_RATE) // STEP * STEP)
    step_energy: list[np.ndarray] = []  # sum of squared K-weighted samples per 100 ms step
    peak = 0.0
    for _, samples in blocks(audio, block):
        peak = max(peak, float(np.abs(samples).max()))
        weighted = samples.astype(np.float64)
        for i, f in enumerate(filters):
            weighted, states[i] = lfilter(f.b, f.a, weighted, zi=states[i])
            weighted *= f.passband_gain
        whole = len(weighted) // STEP * STEP  # a trailing part step only happens at the file's end
        step_energy.append(np.square(weighted[:whole]).reshape(-1, STEP).sum(axis=1))
    energy = np.concatenate(step_energy) if step_energy else np.zeros(0)
    if len(energy) < STEPS_PER_BLOCK:
        return Loudness(-math.inf, peak)
    # Mean square of each 400 ms gating block: four consecutive steps.
    sums = np.convolve(energy, np.ones(STEPS_PER_BLOCK), "valid") / (STEP * STEPS_PER_BLOCK)
    loudness = _block_loudness(sums)
    gated = sums[loudness >= ABSOLUTE_GATE_LUFS]
    if len(gated) == 0:
        return Loudness(-math.inf, peak)
    relative_gate = float(_block_loudness(gated.mean())) + RELATIVE_GATE_LU
    gated = sums[(loudness > relative_gate) & (loudness > ABSOLUTE_GATE_LUFS)]
    return Loudness(float(_block_loudness(gated.mean())) if len(gated) else -math.inf, peak)


def normalizing_gain(loudness: Loudness, options: AudioOptions = DEFAULTS) -> float:
    """The one gain that brings the file to the target loudness without any sample passing the ceiling."""
    if not math.isfinite(loudness.lufs) or loudness.peak == 0:
        return 1.0  # silence: nothing to normalize
    gain_db = min(options.target_lufs - loudness.lufs, options.max_gain_db)
    ceiling = 10 ** (options.peak_ceiling_dbfs / 20)
    return min(10 ** (gain_db / 20), ceiling / loudness.peak)


def normalize(samples: Samples, options: AudioOptions = DEFAULTS) -> float:
    """Measure, then set the gain the samples are read with from now on. Returns the gain applied."""
    gain = normalizing_gain(measure(samples, options), options)
    samples.gain *= gain
    return gain
