"""Speech detection: Silero VAD (the copy inside faster-whisper) over the file block by block.

One pass per job. The regions it finds are tight (short pauses split them, little padding), which is
what diarization wants; transcription widens and joins them (`widen`) the way faster-whisper would.
"""

from dataclasses import dataclass

from spek.audio.options import DEFAULTS, AudioOptions
from spek.audio.samples import Audio, blocks
from spek.media import SAMPLE_RATE


@dataclass(frozen=True)
class SpeechRegion:
    start: float  # seconds from the start of the file
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def detect_speech(audio: Audio, options: AudioOptions = DEFAULTS) -> list[SpeechRegion]:
    """Speech regions in file time, in order, none longer than options.chunk_seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(
        threshold=options.vad_threshold,
        min_silence_duration_ms=int(options.vad_min_silence_seconds * 1000),
        speech_pad_ms=int(options.vad_pad_seconds * 1000),
        max_speech_duration_s=options.chunk_seconds,
    )
    regions: list[SpeechRegion] = []
    for offset, samples in blocks(audio, int(options.block_seconds * SAMPLE_RATE)):
        found = [
            SpeechRegion((offset + s["start"]) / SAMPLE_RATE, (offset + s["end"]) / SAMPLE_RATE)
            for s in get_speech_timestamps(samples, vad)
        ]
        # Speech that runs over a block boundary comes out as two regions: join them again.
        boundary = offset / SAMPLE_RATE
        if (
            regions
            and found
            and found[0].start - regions[-1].end < options.vad_min_silence_seconds
            and regions[-1].end >= boundary - options.vad_pad_seconds
            and found[0].end - regions[-1].start <= options.chunk_seconds
        ):
            found[0] = SpeechRegion(regions.pop().start, found[0].end)
        regions += found
    return regions


def widen(
    regions: list[SpeechRegion], min_silence: float, pad: float, duration: float, max_length: float
) -> list[SpeechRegion]:
    """Join regions whose pause is shorter than min_silence (while the result stays within
    max_length), then pad each side by up to `pad`, within the file and without overlapping.
    """
    joined: list[SpeechRegion] = []
    for region in regions:
        if (
            joined
            and region.start - joined[-1].end < min_silence
            and region.end - joined[-1].start <= max_length - 2 * pad
        ):
            joined[-1] = SpeechRegion(joined[-1].start, region.end)
        else:
            joined.append(region)
    if joined and duration - joined[-1].end < min_silence:
        # Speech still open when the file ends runs to its end, as in faster-whisper's own VAD.
        joined[-1] = SpeechRegion(joined[-1].start, duration)
    padded: list[SpeechRegion] = []
    for i, region in enumerate(joined):
        # A pause shorter than two pads is split in the middle.
        limit = (region.end + joined[i + 1].start) / 2 if i + 1 < len(joined) else duration
        start = max(region.start - pad, padded[-1].end if padded else 0.0)
        padded.append(SpeechRegion(start, min(region.end + pad, limit)))
    return padded


def united(first: list[SpeechRegion], second: list[SpeechRegion], max_length: float) -> list[SpeechRegion]:
    """Where either list has speech: regions in order, apart, none longer than max_length (a longer
    stretch is cut into pieces of max_length)."""
    merged: list[list[float]] = []
    for region in sorted([*first, *second], key=lambda r: r.start):
        if merged and region.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], region.end)
        else:
            merged.append([region.start, region.end])
    pieces: list[SpeechRegion] = []
    for start, end in merged:
        while end - start > max_length:
            pieces.append(SpeechRegion(start, start + max_length))
            start += max_length
        pieces.append(SpeechRegion(start, end))
    return pieces
