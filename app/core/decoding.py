"""From window logits to answers: character spans with confidences that include 'no answer'."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reading_assistant.core.windows import WindowPlan


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offsets: text == document[start:end]
    end: int
    score: float  # probability in [0, 1]
    logit: float


@dataclass
class SpanCollector:
    """Gathers the best spans of each window as its logits arrive; memory stays bounded.

    A span is only proposed by the window where its start token has the most context, so
    overlapping windows do not count one span twice; spans of equal characters are merged.
    """

    max_answer_len: int = 30
    n_best: int = 20
    spans: dict[tuple[int, int], float] = field(default_factory=dict)  # (start, end) -> logit
    null_logit: float = float("inf")
    windows_read: int = 0

    def add(
        self, plan: WindowPlan, index: int, start_logits: np.ndarray, end_logits: np.ndarray, prior: float = 0.0
    ) -> None:
        """Take one window's logits (1-D, over its positions) into account; ``prior`` is added to
        the logit of every span of this window (its relevance to the question), not to 'no answer'."""
        self.windows_read += 1
        null = plan.null_index
        self.null_logit = min(self.null_logit, float(start_logits[null] + end_logits[null]))
        first = plan.doc_offset
        length = int(plan.lengths[index])
        doc_start = start_logits[first : first + length]
        doc_end = end_logits[first : first + length]
        allowed_start = np.where(plan.max_context(index), doc_start, -np.inf)
        k = min(self.n_best, length)
        starts = np.argpartition(-allowed_start, k - 1)[:k]
        ends = np.argpartition(-doc_end, k - 1)[:k]
        starts = starts[np.isfinite(allowed_start[starts])]
        s, e = np.meshgrid(starts, ends, indexing="ij")
        valid = (e >= s) & (e - s < self.max_answer_len)
        scores = doc_start[s] + doc_end[e] + prior
        text = plan.document.text
        for si, ei, score in zip(s[valid], e[valid], scores[valid], strict=True):
            chars = _trimmed(text, *plan.char_span(index, first + int(si), first + int(ei)))
            if chars is None:
                continue
            old = self.spans.get(chars)
            self.spans[chars] = float(score) if old is None else float(np.logaddexp(old, score))
        self._prune()

    def _prune(self) -> None:
        keep = max(self.n_best, 1) * 4
        if len(self.spans) > keep * 2:
            best = sorted(self.spans.items(), key=lambda item: item[1], reverse=True)[:keep]
            self.spans = dict(best)

    def result(self, text: str, top_k: int, temperature: float = 1.0) -> tuple[list[Answer], float, float]:
        """(answers best first, probability of no answer, null odds).

        The probabilities are one softmax over the n best spans and the no-answer score, so they
        sum to at most 1. Null odds are the no-answer logit minus the best span's logit.
        """
        if not self.spans:
            return [], 1.0, float("inf")
        ranked = sorted(self.spans.items(), key=lambda item: item[1], reverse=True)[: self.n_best]
        logits = np.array([logit for _, logit in ranked] + [self.null_logit]) / temperature
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        answers = [
            Answer(text[start:end], start, end, float(p), logit)
            for ((start, end), logit), p in zip(ranked[:top_k], probabilities, strict=False)
        ]
        return answers, float(probabilities[-1]), self.null_logit - ranked[0][1]


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without white space at its edges (byte-level BPE and SentencePiece tokens carry
    the space before a word); None if nothing is left, as for a zero-width token."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
