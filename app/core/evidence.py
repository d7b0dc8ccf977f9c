"""The sentence around an answer, shown as its evidence."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (and their CJK forms) followed by space, or at a blank line.
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n\s*\n")


def evidence_sentence(text: str, start: int, end: int, limit: int = 300) -> tuple[int, int]:
    """Character span of the sentence(s) holding ``text[start:end]``, at most about ``limit`` long."""
    window_start = max(0, start - limit)
    window_end = min(len(text), end + limit)
    left = window_start
    for match in _SENTENCE_END.finditer(text, window_start, start):
        left = match.end()
    right = window_end
    match = _SENTENCE_END.search(text, end, window_end)
    if match:
        right = match.start()
    # Keep long "sentences" (tables, lists) readable around the answer, cut at word boundaries.
    if left < start - limit // 2:
        cut = text.find(" ", start - limit // 2, start)
        left = cut + 1 if cut >= 0 else start - limit // 2
    if right > end + limit // 2:
        cut = text.rfind(" ", end, end + limit // 2)
        right = cut if cut >= 0 else end + limit // 2
    while left < start and text[left].isspace():
        left += 1
    while right > end and text[right - 1].isspace():
        right -= 1
    return left, right
