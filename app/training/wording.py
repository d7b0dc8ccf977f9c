"""Words and sentences of SQuAD text, as the made-up training and held-out questions need them:
sentences, content words, names, numbers and opposites."""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
WORD = re.compile(r"\w+")
# Words too common to say what a question is about (a question's own words and articles of English).
STOP_WORDS = frozenset(
    " ".join(
        (
            "a an and are as at be by did do does for from had has have how in is it its of on or that the",
            "their they this to was were what when where which who whom whose why with",
        )
    ).split()
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a paragraph (a full stop, ! or ? and a capital or digit)."""
    spans, start = [], 0
    for boundary in SENTENCE_END.finditer(text):
        spans.append((start, boundary.start()))
        start = boundary.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if b > a]


# Words whose opposite turns a question into one that its paragraph no longer answers, when the
# paragraph never uses the opposite (SQuAD 2.0's "antonym" questions).
ANTONYMS = dict(
    pair
    for a, b in (
        ("first", "last"),
        ("largest", "smallest"),
        ("most", "least"),
        ("before", "after"),
        ("earliest", "latest"),
        ("highest", "lowest"),
        ("north", "south"),
        ("east", "west"),
        ("increase", "decrease"),
        ("increased", "decreased"),
        ("more", "less"),
        ("older", "younger"),
        ("oldest", "youngest"),
        ("longest", "shortest"),
        ("best", "worst"),
        ("maximum", "minimum"),
        ("early", "late"),
        ("larger", "smaller"),
        ("higher", "lower"),
        ("won", "lost"),
        ("major", "minor"),
        ("rich", "poor"),
        ("strong", "weak"),
        ("inside", "outside"),
        ("positive", "negative"),
        ("northern", "southern"),
        ("eastern", "western"),
        ("begin", "end"),
        ("began", "ended"),
        ("start", "finish"),
        ("allowed", "forbidden"),
        ("success", "failure"),
        ("public", "private"),
    )
    for pair in ((a, b), (b, a))
)
NAME = re.compile(r"(?<=\w )[A-Z][a-z]+(?: [A-Z][a-z]+)*")  # capitalised words inside a sentence
NUMBER = re.compile(r"(?<![\d.,])\d+(?![\d.,]*\d)")
