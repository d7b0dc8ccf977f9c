"""Which parts of the document a question read: the engine's plan gives every window's character span
in reading order, and a read of ``n`` windows has read the first ``n`` of them."""

from __future__ import annotations

from ..core.reading import Span


def merged(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, sorted by start."""
    result: list[Span] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result
