"""Which parts of the document a question reads, in the order it reads them, as character spans.

The engine says it (``QAEngine.reading_plan``); a read of ``n`` windows has read the first ``n`` spans.
"""

from __future__ import annotations

import logging

from ..core.errors import ReadingAssistantError

log = logging.getLogger(__name__)

Span = tuple[int, int]


def reading_spans(engine: object, text: str, question: str) -> list[Span] | None:
    """Character spans of the windows in the order the engine reads them; None if it cannot say."""
    plan_of = getattr(engine, "reading_plan", None)  # a stand-in engine in tests may not know
    if not callable(plan_of):
        return None
    try:
        return [(int(start), int(end)) for start, end in plan_of(text, question)]
    except ReadingAssistantError:  # the map is a courtesy: the question's own read reports the problem
        log.debug("no reading plan for this question", exc_info=True)
        return None


def merged(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, sorted by start."""
    result: list[Span] = []
    for start, end in sorted(spans):
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result
