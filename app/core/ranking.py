"""Which windows to read first: BM25 between the question and each window, from token ids.

The document's tokens are indexed once (token id -> sorted positions); a window's term counts are
then two binary searches per question term, so ranking 1,500 windows takes milliseconds and no
window has to be built. A document the library has embedded may add its meaning: the cosine
between the question and its passages (``window_meaning``, ``hybrid_order``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .stopping import StopCheck, check_stop, checked
from .windows import TokenizedText, WindowPlan

K1 = 1.2
B = 0.75
# How much a window's relevance counts in the score of its spans, in logit units: a span from a
# window sharing no term with the question needs a logit this much higher than one from the best
# window. Without it a long book's distant chapters outvote the right one with confident
# distractors (measured on the bench's book questions; see the model card).
RELEVANCE_WEIGHT = 5.0
# How much the heading of a window's section counts, in the same logit units: a span under a heading
# that holds none of the question's terms needs a logit this much higher than one under the heading
# that holds the most. Both weights were fitted on held-out train questions asked of long documents
# (``python -m reading_assistant.training.ranking_fit``: the best F1, then the lowest log loss of what
# is shown first; see the model card).
SECTION_WEIGHT = 4.0
# Tokens a term index sorts between two stop checks (a few milliseconds).
INDEX_CHUNK = 1 << 18


class TermIndex:
    """Positions of every token id in a document.

    A counting sort a chunk of tokens at a time, with a stop check before each: one sort of a 50 MB
    book's twelve million tokens holds the interpreter for a second.
    """

    def __init__(self, document: TokenizedText, should_stop: StopCheck | None = None) -> None:
        ids = document.ids
        span = int(ids.max()) + 1 if len(ids) else 0
        counts = np.zeros(span, dtype=np.int64)
        for start in range(0, len(ids), INDEX_CHUNK):
            check_stop(should_stop)
            counts += np.bincount(ids[start : start + INDEX_CHUNK], minlength=span)
        # Each id's positions, in document order, fill its own run of ``_positions``.
        self._first = np.cumsum(counts) - counts
        self._counts = counts
        self._positions = np.empty(len(ids), dtype=np.int64)
        for start in range(0, len(ids), INDEX_CHUNK):
            # New memory is given page by page as it is first written: here, a chunk at a time,
            # rather than all at once by the first chunk's writes all over it.
            check_stop(should_stop)
            self._positions[start : start + INDEX_CHUNK] = 0
        filled = self._first.copy()
        for start in range(0, len(ids), INDEX_CHUNK):
            check_stop(should_stop)
            chunk = ids[start : start + INDEX_CHUNK]
            order = np.argsort(chunk, kind="stable")
            sorted_ids = chunk[order]
            rank = np.arange(len(chunk)) - np.searchsorted(sorted_ids, sorted_ids, side="left")
            self._positions[filled[sorted_ids] + rank] = order + start
            filled += np.bincount(chunk, minlength=span)

    def positions(self, token_id: int) -> np.ndarray:
        """Sorted positions of ``token_id``."""
        if not 0 <= token_id < len(self._counts):
            return np.zeros(0, dtype=np.int64)
        first = int(self._first[token_id])
        return self._positions[first : first + int(self._counts[token_id])]


def term_weights(index: TermIndex, plan: WindowPlan) -> Iterator[tuple[int, np.ndarray, float]]:
    """(token id, its count in each window, its BM25 idf over the windows) for each distinct term of
    the question that the document holds."""
    starts = plan.starts
    ends = plan.starts + plan.lengths
    for token_id in np.unique(plan.question_ids):
        positions = index.positions(int(token_id))
        if positions.size == 0:
            continue
        frequency = np.searchsorted(positions, ends) - np.searchsorted(positions, starts)
        holding = int(np.count_nonzero(frequency))
        yield int(token_id), frequency, float(np.log((len(starts) - holding + 0.5) / (holding + 0.5) + 1.0))


def bm25_scores(index: TermIndex, plan: WindowPlan) -> np.ndarray:
    """One BM25 score per window of ``plan`` for the plan's question."""
    lengths = plan.lengths.astype(np.float64)
    scores = np.zeros(len(lengths))
    norm = K1 * (1 - B + B * lengths / lengths.mean())
    for _, frequency, idf in term_weights(index, plan):
        scores += idf * frequency * (K1 + 1) / (frequency + norm)
    return scores


def heading_scores(
    index: TermIndex,
    plan: WindowPlan,
    heading_ids: Sequence[np.ndarray],
    window_headings: np.ndarray,
    should_stop: StopCheck | None = None,
) -> np.ndarray:
    """One score per window in [0, 1]: the share of the question's term weight (BM25 idf) that the
    heading of the window's section holds. ``heading_ids`` are each heading's token ids;
    ``window_headings`` the heading index of each window (-1: before the first heading)."""
    scores = np.zeros(len(plan.starts))
    if not len(heading_ids):
        return scores
    weights = {token_id: idf for token_id, _, idf in term_weights(index, plan)}
    total = sum(weights.values())
    if total <= 0.0:
        return scores
    matched = np.array(
        [sum(weights.get(int(t), 0.0) for t in np.unique(ids)) / total for ids in checked(heading_ids, should_stop)]
    )
    has_heading = window_headings >= 0
    scores[has_heading] = matched[window_headings[has_heading]]
    return scores


def reading_order(scores: np.ndarray) -> list[int]:
    """Windows best first by their BM25 ``scores``; equal scores keep document order."""
    return np.argsort(-scores, kind="stable").tolist()


def relevance_priors(
    scores: np.ndarray,
    weight: float = RELEVANCE_WEIGHT,
    headings: np.ndarray | None = None,
    section_weight: float = SECTION_WEIGHT,
) -> np.ndarray:
    """What each window adds to its spans' logits: 0 for the best-matching window, falling in
    proportion to its BM25 score down to ``-weight`` for a window with none of the question's terms;
    with ``headings`` (``heading_scores``), ``section_weight`` times how far its section's heading
    falls short of the best heading's."""
    best = float(scores.max(initial=0.0))
    priors = np.zeros_like(scores, dtype=np.float64) if best <= 0.0 else weight * (scores / best - 1.0)
    if headings is not None and len(headings):
        priors += section_weight * (headings - headings.max())
    return priors


def window_meaning(windows: np.ndarray, passages: Sequence[tuple[int, int, float]]) -> np.ndarray:
    """One score per window: the best cosine between the question and the passages that overlap
    it. ``windows`` holds each window's (start, end) characters, in document order; ``passages``
    are (start, end, cosine) in the same text. A window no passage overlaps (a contents list, which
    the library leaves out) gets the lowest score of the others; with none overlapped, all are 0."""
    best = np.full(len(windows), -np.inf)
    if len(windows) and len(passages):
        # Windows start and end in document order: those a passage overlaps are one run of them,
        # from ``first`` to ``last`` (a book's tens of thousands of passages at once, not one by one).
        starts, ends = windows[:, 0], windows[:, 1]
        spans = np.asarray(passages, dtype=np.float64).reshape(-1, 3)
        first = np.searchsorted(ends, spans[:, 0], side="right")
        counts = np.maximum(np.searchsorted(starts, spans[:, 1], side="left") - first, 0)
        runs_begin = np.repeat(np.cumsum(counts) - counts, counts)
        overlapped = np.repeat(first, counts) + np.arange(int(counts.sum())) - runs_begin
        np.maximum.at(best, overlapped, np.repeat(spans[:, 2], counts))
    found = np.isfinite(best)
    best[~found] = best[found].min() if found.any() else 0.0
    return best


def hybrid_order(relevance: np.ndarray, meaning: np.ndarray) -> list[int]:
    """Windows best first by their BM25 score plus their meaning (``window_meaning``), each
    standardised over the document's windows (the sum of z-scores); equal sums keep BM25's order.

    Chosen over reciprocal rank fusion (k=60) on half of the bench's book questions and measured on
    the other half (``python -m reading_assistant.evaluation.hybrid_bench``): F1 after the first 8
    windows +2.8 over BM25 alone, the answer's window among the first 8 for 96.7% of questions
    rather than 93.0%.
    """
    bm25_rank = np.empty(len(relevance), dtype=np.int64)
    bm25_rank[reading_order(relevance)] = np.arange(len(relevance))
    fused = _standardised(relevance) + _standardised(meaning)
    return np.lexsort((bm25_rank, -fused)).tolist()


def _standardised(scores: np.ndarray) -> np.ndarray:
    """``scores`` less their mean, over their standard deviation (all 0 when they are all equal)."""
    spread = float(scores.std())
    return (scores - scores.mean()) / spread if spread > 0 else np.zeros(len(scores))
