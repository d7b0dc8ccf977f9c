"""What the window and the command line say around an answer, from one source.

The evidence is the sentence holding an answer (cut near the answer, with "…", when the sentence
is very long); the no-answer summary is the one sentence both say when the model thinks the
document does not answer the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (and their CJK forms) followed by space, or at a blank line.
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n\s*\n")
_SPACE = re.compile(r"\s+")
ELLIPSIS = "…"
NO_ANSWER = "The document does not seem to answer this question"
NOT_IN_LIBRARY = "Not in your library, it seems"


@dataclass(frozen=True)
class Evidence:
    """The words around an answer, white space folded; ``before`` and ``after`` end in "…" where cut."""

    before: str
    answer: str
    after: str


def one_line(text: str) -> str:
    """``text`` with its white space folded to single spaces: an answer in a hard-wrapped file holds
    line breaks, which a list of answers, a Markdown line or the clipboard should not."""
    return _SPACE.sub(" ", text).strip()


def evidence(text: str, start: int, end: int, limit: int = 300) -> Evidence:
    """The sentence(s) holding ``text[start:end]``, at most about ``limit`` characters each side."""
    window_start = max(0, start - limit)
    window_end = min(len(text), end + limit)
    left = window_start
    for match in _SENTENCE_END.finditer(text, window_start, start):
        left = match.end()
    right = window_end
    match = _SENTENCE_END.search(text, end, window_end)
    if match:
        right = match.start()
    cut_left, cut_right = left > 0 and left == window_start, right < len(text) and right == window_end
    # Keep long "sentences" (tables, lists) readable around the answer, cut at word boundaries.
    if left < start - limit // 2:
        cut = text.find(" ", start - limit // 2, start)
        left = cut + 1 if cut >= 0 else start - limit // 2
        cut_left = True
    if right > end + limit // 2:
        cut = text.rfind(" ", end, end + limit // 2)
        right = cut if cut >= 0 else end + limit // 2
        cut_right = True
    while left < start and text[left].isspace():
        left += 1
    while right > end and text[right - 1].isspace():
        right -= 1
    before = _SPACE.sub(" ", text[left:start])
    after = _SPACE.sub(" ", text[end:right])
    return Evidence(
        (ELLIPSIS if cut_left else "") + before,
        one_line(text[start:end]),
        after + (ELLIPSIS if cut_right else ""),
    )


def percent(share: float) -> str:
    """'94%'; 'under 1%' and 'over 99%' rather than a '0%' that reads as nothing or a '100%' that
    reads as certain (a calibrated probability is neither)."""
    shown = f"{100 * share:.0f}"
    if shown == "0":
        return "under 1%"
    if shown == "100" and share < 1.0:
        return "over 99%"
    return f"{shown}%"


def no_answer_summary(no_answer_score: float, library: bool = False) -> str:
    """'The document does not seem to answer this question (97% no answer)'; of a question asked of
    the whole library, 'Not in your library, it seems (97% no answer)'."""
    return f"{NOT_IN_LIBRARY if library else NO_ANSWER} ({percent(no_answer_score)} no answer)"
