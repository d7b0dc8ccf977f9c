"""From window logits to answers: character spans with confidences that include 'no answer'."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .windows import WindowPlan

WORD = re.compile(r"\w+")
# A blank line: the end of a paragraph, a heading or a footnote. No answer runs across one (SQuAD's
# answers lie within one paragraph, so the model never learnt where such a span should end).
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
# Between two cells of a table's row, as the PDF loader writes them (and Markdown tables have them).
TABLE_CELL = " | "
MAX_ROW_CHARS = 10_000  # how far from a span its rows' cells are looked for
# Left out when telling two answers apart, as SQuAD's comparison leaves them out.
ARTICLES = frozenset({"a", "an", "the"})
# Words that say nothing alone: a span of only these ("in", "of the") is never an answer a reader can use.
FUNCTION_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "nor",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "upon",
        "as",
        "than",
    }
)


# Words whose full stop is part of them, not the end of a sentence ("Smith Jr.", "Acme Inc.").
ABBREVIATIONS = frozenset(
    {
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "sr",
        "st",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "etc",
        "vs",
        "bros",
        "dept",
        "univ",
        "gov",
        "gen",
        "col",
        "lt",
        "sgt",
        "rev",
        "ave",
    }
)
BRACKETS = {"(": ")", "[": "]", "\u201c": "\u201d"}  # and curly double quotes
PATH_OPENERS = frozenset({*BRACKETS, '"', "'"})  # what may stand before a path's root "/"
# What joins two runs of letters or digits into one word a reader reads whole: a file name's or a
# version's dot, a path's slashes, an address's colon, @ and query, an identifier's underscore, a
# number's separators (a comma only between digits). Dashes and apostrophes are not joiners.
JOINERS = frozenset("._/\\:@+~#%=?&,")
JOINER_RUNS = frozenset({"://", "::", ":\\", "\\\\"})
MAX_WORD_CHARS = 100
ADDRESS_JOINERS = ("@", "/", "\\", "_")  # in a word that holds one of these, dashes join too


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offsets: text == document[start:end]
    end: int
    score: float  # probability in [0, 1]
    logit: float
    document: str = ""  # the id of the Document it was read from ("" for bare text)


def crosses_a_break(text: str, span: str, chars: tuple[int, int]) -> bool:
    """Whether a span runs across a blank line, a table's cell separator, or from one row of a table
    to the next (a line break between lines that have cells): an answer lies within one paragraph
    or one cell."""
    if TABLE_CELL in span:
        return True
    if "\n" not in span:
        return False
    if BLANK_LINE.search(span):
        return True
    # The rows' cells are looked for near the span only: a line of a million characters around it
    # would be searched again for every candidate span.
    low, high = max(0, chars[0] - MAX_ROW_CHARS), min(len(text), chars[1] + MAX_ROW_CHARS)
    line_end = text.find("\n", chars[1], high)
    return text.find(TABLE_CELL, text.rfind("\n", low, chars[0]) + 1 or low, high if line_end < 0 else line_end) >= 0


@dataclass
class SpanCollector:
    """Gathers the best spans of each window as its logits arrive; memory stays bounded.

    A span is only proposed by the window where its start token has the most context, so
    overlapping windows do not count one span twice; spans of equal characters are merged. No span
    starts or ends in ``excluded`` (sorted, disjoint character spans: a table of contents, an index).
    """

    max_answer_len: int = 30
    n_best: int = 20
    spans: dict[tuple[int, int], float] = field(default_factory=dict)  # (start, end) -> logit
    null_logit: float = float("inf")
    windows_read: int = 0
    excluded: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        bounds = np.asarray(self.excluded, dtype=np.int64).reshape(-1, 2)
        self._excluded_starts, self._excluded_ends = bounds[:, 0], bounds[:, 1]

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
        allowed = plan.max_context(index)
        if len(self._excluded_starts):
            token = int(plan.starts[index])
            offsets = plan.document.offsets[token : token + length]
            outside = ~(self._in_excluded(offsets[:, 0]) | self._in_excluded(np.maximum(offsets[:, 1] - 1, 0)))
            allowed = allowed & outside
            doc_end = np.where(outside, doc_end, -np.inf)
        allowed_start = np.where(allowed, doc_start, -np.inf)
        k = min(self.n_best, length)
        starts = np.argpartition(-allowed_start, k - 1)[:k]
        ends = np.argpartition(-doc_end, k - 1)[:k]
        starts = starts[np.isfinite(allowed_start[starts])]
        ends = ends[np.isfinite(doc_end[ends])]
        s, e = np.meshgrid(starts, ends, indexing="ij")
        valid = (e >= s) & (e - s < self.max_answer_len)
        scores = doc_start[s] + doc_end[e] + prior
        text = plan.document.text
        longest = self.max_answer_len * MAX_WORD_CHARS
        for si, ei, score in zip(s[valid], e[valid], scores[valid], strict=True):
            chars = plan.char_span(index, first + int(si), first + int(ei))
            if chars[1] - chars[0] > longest:
                continue  # an unknown token over a run of thousands of characters without a space: no answer
            chars = _trimmed(text, *chars)
            if chars is None:
                continue
            chars = _whole_words(text, *chars)
            span = text[chars[0] : chars[1]]
            if not any(c.isalnum() for c in span) or FUNCTION_WORDS.issuperset(WORD.findall(span.casefold())):
                continue  # a comma, a full stop or "in" alone is no answer
            if crosses_a_break(text, span, chars):
                continue
            self.merge(chars, float(score))
        self._prune()

    def merge(self, chars: tuple[int, int], score: float) -> None:
        """Count a span's score: one already seen at these characters adds up with it (log-sum)."""
        old = self.spans.get(chars)
        self.spans[chars] = score if old is None else float(np.logaddexp(old, score))

    def _in_excluded(self, offsets: np.ndarray) -> np.ndarray:
        """Which character offsets lie inside an excluded span."""
        after = np.searchsorted(self._excluded_ends, offsets, side="right")
        inside = np.zeros(len(offsets), dtype=bool)
        within = after < len(self._excluded_starts)
        inside[within] = self._excluded_starts[after[within]] <= offsets[within]
        return inside

    @property
    def pool(self) -> int:
        """Spans the answers are chosen from: room for many variants of the best passage's span
        and still the candidates of other passages."""
        return max(self.n_best, 1) * 10

    def _prune(self) -> None:
        if len(self.spans) > self.pool * 2:
            best = sorted(self.spans.items(), key=lambda item: item[1], reverse=True)[: self.pool]
            self.spans = dict(best)

    def result(
        self,
        text: str,
        top_k: int,
        temperature: float = 1.0,
        null_threshold: float = 0.0,
        null_scale: float = 1.0,
        document: str = "",
    ) -> tuple[list[Answer], float, float]:
        """(distinct answers, probability of no answer, null odds).

        Two calibrated parts: the probability that the document holds no answer, a logistic curve
        of the null odds (the no-answer logit minus the best span's logit) that passes one half at
        ``null_threshold``, where the app starts to say so; and, for the rest, the distinct answers.
        A softmax at the model's own scale over the pool of best spans gives each span its share;
        each span that overlaps a better one, or says the same words elsewhere, is merged into it,
        its share counted for the one shown, so no two answers share a character or read alike and
        lower entries are other answers from other passages. One ``temperature`` over the merged
        answers then calibrates them. The probabilities sum to at most 1 and the answers are listed
        by them, best first; each names ``document``, the id of the Document they were read from.

        Merging before the temperature matters: a flat softmax over single spans (the temperature
        calibration asks for) lets a long answer's many overlapping variants add up past a better
        one, so a lower percentage was listed above a higher one for about 5% of questions.
        """
        if not self.spans:
            return [], 1.0, float("inf")
        ranked = sorted(self.spans.items(), key=lambda item: item[1], reverse=True)[: self.pool]
        null_odds = self.null_logit - ranked[0][1]
        no_answer = float(no_answer_probability(null_odds, null_threshold, null_scale))
        merged = _merged(ranked, text)
        calibrated = np.array([weight for _, weight in merged]) / temperature
        probabilities = np.exp(calibrated - calibrated.max())
        probabilities *= (1.0 - no_answer) / probabilities.sum()
        logit_of = dict(ranked)
        answers = []
        for ((start, end), _), probability in zip(merged[:top_k], probabilities, strict=False):
            # Shown without loose punctuation (a full stop, a lone bracket or quote); variants were merged by words.
            shown_start, shown_end = _without_loose_punctuation(text, start, end) or (start, end)
            answers.append(
                Answer(
                    text[shown_start:shown_end],
                    shown_start,
                    shown_end,
                    float(probability),
                    logit_of[(start, end)],
                    document,
                )
            )
        return answers, no_answer, null_odds


def no_answer_probability(null_odds: float | np.ndarray, threshold: float, scale: float) -> np.ndarray:
    """The no-answer probability shown for these null odds: sigmoid((null odds - threshold) / scale),
    without overflow for large odds (a window of padding has huge ones)."""
    return np.exp(-np.logaddexp(0.0, -(np.asarray(null_odds, dtype=float) - threshold) / scale))


def _merged(ranked: list[tuple[tuple[int, int], float]], text: str) -> list[tuple[tuple[int, int], float]]:
    """Distinct answers, best first, from (span, logit) pairs best first: each span overlapping a
    better one, or reading like one (the same words, whatever the case and punctuation), is folded
    into it.

    The best span of a cluster keeps its characters; the cluster's weight is the log-sum-exp of its
    spans' logits (their softmax shares added up). Ranking the first answer by its cluster too, not
    as the single best span, cost one of 1,500 held-out train questions its exact answer and left no
    percentage listed above a higher one. Linear in the clusters for each span.
    """
    kept: list[list] = []
    by_words: dict[str, list] = {}
    for span, logit in ranked:
        words = _words(text[span[0] : span[1]])
        home = by_words.get(words) or next((k for k in kept if span[0] < k[0][1] and k[0][0] < span[1]), None)
        if home is None:
            kept.append([span, logit])
            by_words[words] = kept[-1]
        else:
            home[1] = float(np.logaddexp(home[1], logit))
    return [(span, weight) for span, weight in sorted(kept, key=lambda k: k[1], reverse=True)]


def _words(answer: str) -> str:
    """What an answer says, for telling two answers apart: its words, case-folded, without articles
    ("the city council" is "city council"), as SQuAD's own comparison reads them."""
    words = WORD.findall(answer.casefold())
    return " ".join(w for w in words if w not in ARTICLES) or " ".join(words) or answer


def _word_character(c: str) -> bool:
    """A letter or digit of a script that separates words with spaces (not CJK, where every
    character can be a word)."""
    return c.isalnum() and not ("\u2e80" <= c <= "\ua4cf" or "\uac00" <= c <= "\ud7af" or "\uf900" <= c <= "\ufaff")


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to whole words as a reader sees them: a sub-word token ("lowe" of "Marlowe")
    is never an answer, nor a part of a file name, path, URL, e-mail address, dotted or underscored
    identifier, version or number ("name" of "name.bz2", "py" of "misc/some_module.py", "500" of
    "52,500"). A dash or an apostrophe still parts words, as SQuAD's answers often stop there, except
    inside an address or a path ("help-desk@example.org", "x86_64-linux-gnu"). The span only grows,
    by at most ``MAX_WORD_CHARS`` a side (a megabyte without a space stays cheap)."""
    address = _widened(text, start, end, JOINERS | {"-"})
    if any(joiner in text[address[0] : address[1]] for joiner in ADDRESS_JOINERS):
        return address
    return _widened(text, start, end, JOINERS)


def _widened(text: str, start: int, end: int, joiners: frozenset[str]) -> tuple[int, int]:
    low, high = max(0, start - MAX_WORD_CHARS), min(len(text), end + MAX_WORD_CHARS)
    while start > low and (before := _joined_before(text, start, low, joiners)) != start:
        start = before
    while end < high and (after := _joined_after(text, end, high, joiners)) != end:
        end = after
    return start, end


def _joined_before(text: str, start: int, low: int, joiners: frozenset[str]) -> int:
    """Where the word that ``start`` is inside of begins, one step back: over a word character
    before it, or over joiners with a word character before them; ``start`` when neither."""
    if not _in_word(text[start]):
        return start
    if _in_word(text[start - 1]):
        return start - 1
    first = start
    while first > low and text[first - 1] in joiners:
        first -= 1
    if first in (start, low) or not _in_word(text[first - 1]) or not _joins(text[first:start]):
        return start
    if "," in text[first:start] and not (text[first - 1].isdigit() and text[start].isdigit()):
        return start  # a comma joins the digits of a number only
    return first - 1


def _joined_after(text: str, end: int, high: int, joiners: frozenset[str]) -> int:
    """The mirror of ``_joined_before``: one step forward from ``end``."""
    if not _in_word(text[end - 1]):
        return end
    if _in_word(text[end]):
        return end + 1
    last = end
    while last < high and text[last] in joiners:
        last += 1
    if last in (end, high) or not _in_word(text[last]) or not _joins(text[end:last]):
        return end
    if "," in text[end:last] and not (text[end - 1].isdigit() and text[last].isdigit()):
        return end
    return last + 1


def _joins(joiners: str) -> bool:
    """Whether this run between two words joins them: one joiner, or a URL's or a path's pair
    ("://", "::", ":\\"); "1873.:33" (a sentence's end, then a page reference) is two words."""
    return len(joiners) == 1 or joiners in JOINER_RUNS


def _in_word(c: str) -> bool:
    return _word_character(c) or c == "_"


def _without_loose_punctuation(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without the punctuation that ends its sentence or clause ("in 1867." -> "in 1867",
    "Warsaw," -> "Warsaw") or a bracket or double quote it does not pair; an abbreviation keeps its full
    stop ("the U.S.", "Jr."), and a bracket or quote opened inside it and closed right after it is
    closed ("Group (freedesktop.org" -> "Group (freedesktop.org)"), and a path keeps its root "/".
    None if nothing is left."""
    while end > start:
        if _loose_end(text, start, end):
            end -= 1
        elif _unpaired(text, start, end, text[start]):
            start += 1
        else:
            break
        span = _trimmed(text, start, end)
        if span is None:
            return None
        start, end = span
    if end <= start:
        return None
    if text[start - 1 : start] == "/" and (start == 1 or text[start - 2].isspace() or text[start - 2] in PATH_OPENERS):
        start -= 1  # a path's root: "/usr/share/module", never "usr/share/module"
    after = text[end : end + 1]
    if (after == '"' or after in BRACKETS.values()) and not _unpaired(text, start, end + 1, after):
        end += 1
    return start, end


def _loose_end(text: str, start: int, end: int) -> bool:
    """Whether the span's last character is punctuation that belongs to its sentence, not to it."""
    last = text[end - 1]
    if last in ",;:":
        return True
    if last == ".":
        return not _abbreviation(text[start : end - 1])
    return _unpaired(text, start, end, last)


def _unpaired(text: str, start: int, end: int, mark: str) -> bool:
    """Whether ``mark``, a bracket or a double quote, has no partner within the span."""
    if mark == '"':
        return text.count('"', start, end) % 2 == 1
    partner = BRACKETS.get(mark) or next((o for o, c in BRACKETS.items() if c == mark), None)
    return partner is not None and text.count(mark, start, end) > text.count(partner, start, end)


def _abbreviation(before_stop: str) -> bool:
    """Whether a full stop after ``before_stop`` ends an abbreviation rather than a sentence."""
    word = before_stop.rsplit(None, 1)[-1] if before_stop.strip() else ""
    return "." in word or (len(word) == 1 and word.isalpha()) or word.casefold() in ABBREVIATIONS


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without white space at its edges (byte-level BPE and SentencePiece tokens carry
    the space before a word); None if nothing is left, as for a zero-width token."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None
