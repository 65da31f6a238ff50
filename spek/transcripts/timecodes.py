"""Times as people and subtitle formats write them."""


def clock(seconds: float) -> str:
    """hh:mm:ss, rounded down: a turn that starts at 61.9 s is at 00:01:01."""
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def milliseconds(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def cue_time(ms: int, decimal: str) -> str:
    """hh:mm:ss,mmm (SRT) or hh:mm:ss.mmm (WebVTT)."""
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{decimal}{ms % 1000:03d}"
