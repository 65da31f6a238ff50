"""Every knob of the audio steps, in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class AudioOptions:
    # Sweeps over the whole file (loudness, VAD) hold this much audio at once: 1.9 MB of float32.
    # Measured over an hour of audio, the process then grows by some 40 MB at most; with 60 s
    # blocks Silero's allocations fragment the heap to 80 MB, with 300 s to 200 MB.
    block_seconds: float = 30.0
    # Where speech recordings usually sit. On the benchmark's dialogues (BALANCED), as made and 30 dB
    # quieter, English WER was 0.134 / 0.140 at -20, 0.156 / 0.196 at -23 (EBU R128's broadcast
    # level), 0.156 at -18: a few words apart. What matters most is lifting quiet recordings.
    target_lufs: float = -20.0
    # The gain stops where the loudest sample would pass this, so normalizing never clips.
    peak_ceiling_dbfs: float = -1.0
    # A near-silent file raised further is mostly raised noise, which Whisper turns into text.
    max_gain_db: float = 30.0
    # Silero VAD, tuned for speaker turns: short pauses split regions, some padding around speech.
    # On the real-speech set (benchmarks/transcription_quality.py: phone call, radio, meetings, a
    # debate), reference speech outside the regions / regions outside reference speech were 13.4 % /
    # 2.0 % at threshold 0.5 with 0.1 s of padding, 5.9 % / 4.4 % at 0.35 with 0.25 s, 4.5 % / 5.4 % at
    # 0.3 with 0.3 s: far-field meeting speech is quiet, and turn edges are soft. End to end at BALANCED,
    # 0.25 dropped no less speech than 0.35 (7.0 % against 6.8 %: Whisper finds no words in most of what
    # it adds), with DER 0.361 against 0.348 on the 2-4-speaker files and 0.204 against 0.171 x real time.
    vad_threshold: float = 0.35
    vad_min_silence_seconds: float = 0.3
    vad_pad_seconds: float = 0.25
    # Speech the speaker segmentation model hears joins Silero's (spek.diarization.speech) where a
    # frame's most active voice, averaged over the chunks that see it, is above this. On the real set at
    # BALANCED: dropped speech 0.068 -> 0.058 and conversational English WER 0.175 -> 0.118 at 0.5 (0.65:
    # the same dropped speech, WER 0.144).
    segmentation_onset: float = 0.5
    # Transcription reads, joins and transcribes at most this much speech at a time, and no VAD region
    # is longer, so chunks are cut in pauses. Whisper's features for a chunk are computed at once:
    # about 0.8 MB per second of audio at their peak (measured), so some 250 MB for 5 minutes.
    chunk_seconds: float = 300.0


DEFAULTS = AudioOptions()
