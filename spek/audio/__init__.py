"""The audio side of transcription, in steps that each hold a bounded amount of audio in memory:
decoded samples in a scratch file → loudness normalization → speech regions (VAD) → chunks.
"""
