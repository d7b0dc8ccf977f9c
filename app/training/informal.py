"""Text unlike Wikipedia's: a SQuAD paragraph said as a forum post or a review would say it.

The answer is kept word for word (lower-cased in a forum post), so the question stays answerable.
Two styles, so that what training sees is measured on the other: ``"forum"`` (lower case, "tbh",
"lol", a first line about the writer) for training (``train --informal-ratio``), ``"review"``
(capitals kept, "IMO", "!!!", one sentence a line, a rating) for measuring
(``python -m reading_assistant.training.robustness refusal``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .wording import sentence_spans

STYLES = ("forum", "review")
OPENINGS = {
    "forum": (
        "ok so i looked into this a while back and here's what i found.",
        "not an expert but i've read a lot about this, so here goes.",
        "saw this come up in another thread, so quick summary from what i remember.",
    ),
    "review": (
        "Bought the book on this last month and honestly? Worth every penny!!!",
        "Five stars from me. Here is what I learned reading it:",
        "IMO the best write-up on the subject, and I've read a few.",
    ),
}
CLOSINGS = {
    "forum": ("hope that helps anyone wondering lol", "correct me if i'm wrong tho", "anyway that's my 2 cents"),
    "review": ("Would recommend!!", "Rating: 4/5, docked one star for the cover.", "Definitely buying the sequel :)"),
}
LEAD_INS = {
    "forum": ("so ", "tbh ", "basically ", "fwiw ", "i mean ", "and ", "", "", ""),
    "review": ("IMO ", "Honestly, ", "Fun fact: ", "Also ", "", "", ""),
}
ENDINGS = {"forum": (" lol", "!!", "...", "", ""), "review": ("!!!", " :)", "!", "", "")}
CONTRACTIONS = (
    (" do not ", " don't "),
    (" does not ", " doesn't "),
    (" did not ", " didn't "),
    (" is not ", " isn't "),
    (" was not ", " wasn't "),
    (" it is ", " it's "),
    (" they are ", " they're "),
    (" there is ", " there's "),
)


@dataclass(frozen=True)
class Rewritten:
    text: str
    answer: tuple[int, int]


def informal_text(context: str, answer: tuple[int, int], style: str, rng: random.Random) -> Rewritten:
    """``context`` said as a forum post or a review would say it; the answer's words stay as they are
    (lower-cased in a forum post) and ``answer`` says where they are now."""
    parts: list[str] = [rng.choice(OPENINGS[style])]
    moved = answer
    length = len(parts[0])
    for start, end in sentence_spans(context):
        sentence = context[start:end].rstrip(".")
        holds_answer = start <= answer[0] < end or start < answer[1] <= end
        if not holds_answer:
            sentence = _reworded(sentence, style, rng)
        if style == "forum":
            sentence = sentence.lower()
        lead = rng.choice(LEAD_INS[style])
        if lead and style == "review" and sentence[:1].isupper() and not sentence[:2].isupper():
            sentence = sentence[0].lower() + sentence[1:]  # "Honestly, the castle ..."
        said = f"{lead}{sentence}{rng.choice(ENDINGS[style]) or '.'}"
        gap = "\n" if style == "review" else " "
        if holds_answer:
            # Only the lead-in moves the answer: the sentence itself is unchanged but for its case.
            first = length + len(gap) + len(lead) - start
            moved = (max(answer[0], start) + first, min(answer[1], end) + first)
        parts.append(said)
        length += len(gap) + len(said)
    parts.append(rng.choice(CLOSINGS[style]))
    gap = "\n" if style == "review" else " "
    return Rewritten(gap.join(parts), moved)


def _reworded(sentence: str, style: str, rng: random.Random) -> str:
    for formal, casual in CONTRACTIONS:
        sentence = sentence.replace(formal, casual)
    if style == "forum" and rng.random() < 0.5:
        sentence = sentence.replace(",", "")
    return sentence
