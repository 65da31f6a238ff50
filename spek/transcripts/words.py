"""Word timings for edited text: what a player needs to highlight the word being spoken.

Words an edit leaves as they were keep their timings. Each run of new or changed words is
spread over the time between its unchanged neighbours (the segment's edges at the ends) in
proportion to the words' lengths in characters. When that gap is too short to say the run in
(a word inserted between two that touch), the run takes in its neighbours on both sides, which
are then re-spread with it, until there is time enough or it covers the whole segment.
"""

from dataclasses import replace
from difflib import SequenceMatcher

from spek.transcripts.document import DocumentWord

# Shortest average time per word a re-spread run may get before it takes in its neighbours.
MIN_SECONDS_PER_WORD = 0.12
# Words a person typed are certain.
TYPED_PROBABILITY = 1.0


def spread(texts: list[str], start: float, end: float) -> list[DocumentWord]:
    """The words one after another over start..end, each for a share of the time by its length."""
    total = sum(len(text) for text in texts)
    words, at = [], start
    for i, text in enumerate(texts):
        until = end if i == len(texts) - 1 else at + (end - start) * len(text) / total
        words.append(DocumentWord(round(at, 3), round(until, 3), text, TYPED_PROBABILITY))
        at = until
    return words


def retime(words: list[DocumentWord], text: str, start: float, end: float) -> list[DocumentWord]:
    """Timed words for `text` in a segment spanning start..end whose words were `words`."""
    tokens = text.split()
    timed: list[DocumentWord | None] = [None] * len(tokens)
    matcher = SequenceMatcher(a=[w.text for w in words], b=tokens, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            timed[block.b + k] = words[block.a + k]

    i = 0
    while i < len(tokens):
        if timed[i] is not None:
            i += 1
            continue
        low = high = i
        while high < len(tokens) and timed[high] is None:
            high += 1
        while True:
            after = timed[low - 1].end if low > 0 else start  # type: ignore[union-attr]
            before = timed[high].start if high < len(tokens) else end  # type: ignore[union-attr]
            if before - after >= MIN_SECONDS_PER_WORD * (high - low) or (low == 0 and high == len(tokens)):
                break
            low, high = max(0, low - 1), min(len(tokens), high + 1)
        # Words taken in from the sides were heard as they are: they keep their probability.
        timed[low:high] = [
            replace(new, probability=old.probability) if old else new
            for new, old in zip(spread(tokens[low:high], after, max(after, before)), timed[low:high])
        ]
        i = high
    return timed  # type: ignore[return-value]
