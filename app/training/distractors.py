"""Look-alike distractor sentences, as Jia and Liang's adversarial SQuAD (AddSent) makes them.

A distractor is the question turned into a statement, with its names, numbers or key words
changed so that it no longer says what the question asks, and a fake answer of the gold answer's
kind put where the question's wh-word was: "What city did the Normans conquer in 1066?" becomes
"The Vikings conquer Dublin in 1071." It shares the question's words and not its facts, so a
reader that matches words instead of meaning answers from it. Added to the question's own
paragraph, the question keeps its answer; ``train`` uses such paragraphs as answerable examples,
labelled with the true answer (``--distractor-ratio``).

Two generators, so that what training learns can be measured on a kind it never saw:

- ``"train"``: one change (a name, a number or a key word), fake answers from the training
  questions' own answers, the sentence put at a random sentence boundary of the paragraph;
- ``"heldout"``: every name and number changed and a key word replaced by another question's,
  fake answers from the held-out questions' answers, the sentence put right after the answer's own
  sentence (where a reader looks hardest), with a different statement for wh-words that are not
  the subject ("In Dublin, the Vikings conquer ..." instead of "... conquer in Dublin").

``python -m reading_assistant.training.robustness distractors --run-dir RUN --model DIR`` measures a
model with the held-out generator's distractors. Only SQuAD v1.1 train is read.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..evaluation.squad import normalize_answer
from .wording import ANTONYMS, NAME, NUMBER, STOP_WORDS, WORD, sentence_spans

STYLES = ("train", "heldout")
# How the statement is put together for a wh-word that is not the subject: the fake answer after
# the clause ("... in Dublin"), or in front of it ("In Dublin, ..."). Keyed by the question's first word.
PLACE_WORDS = {"when": "in", "where": "in", "why": "because of", "how": "by"}
AUXILIARIES = frozenset(["did", "does", "do"])
BE_VERBS = frozenset(["is", "was", "are", "were"])
MODALS = frozenset(["has", "had", "have", "can", "could", "will", "would", "should", "may", "might", "must"])
PARTICIPLE_ENDINGS = ("ed", "en", "wn", "lt", "ld", "ne", "de", "ught", "ung", "uck")
PREPOSITIONS = frozenset(["in", "on", "at", "by", "during", "since", "from", "after", "before", "because"])
TIME_NOUNS = frozenset(["year", "years", "month", "day", "date", "time", "century", "decade", "era", "season"])
WH_OBJECT = re.compile(
    r"^(?:(?P<many>how (?:many|much)) (?P<unit>[a-z]+) |(?P<wh>what|which|when|where|why|how|whom)"
    r"(?: (?P<noun>[a-z]+)(?: [a-z]+){0,3}?)? )"
    r"(?P<aux>did|does|do|is|was|are|were|has|had|have|can|could|will|would) (?P<rest>.+)$",
    re.IGNORECASE,
)
DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Distractor:
    """A paragraph with an inserted look-alike sentence, and where the question's answer and the
    inserted sentence now stand in it (character spans)."""

    context: str
    answer: tuple[int, int]
    inserted: tuple[int, int]


def fake_answer(answer: str, pool: Sequence[str], rng: random.Random) -> str | None:
    """An answer of the same kind that is not this one: numbers changed digit for digit, else
    another answer of the pool with the same number of words and the same capitalisation."""
    if DIGITS.search(answer):
        changed = DIGITS.sub(lambda m: _other_number(m.group(), rng), answer)
        return changed if changed != answer else None
    words = answer.split()
    capital = answer[:1].isupper()
    target = normalize_answer(answer)
    for _ in range(30):
        other = rng.choice(pool)
        if (
            len(other.split()) == len(words)
            and other[:1].isupper() == capital
            and not DIGITS.search(other)
            and normalize_answer(other) not in (target, "")
            and target not in normalize_answer(other)
        ):
            return other
    return None


def _other_number(digits: str, rng: random.Random) -> str:
    value = int(digits)
    shift = rng.choice([d for d in range(-9, 10) if d and value + d >= 0])
    return str(value + shift).zfill(len(digits)) if digits.startswith("0") else str(value + shift)


def changed_question(
    question: str, names: Sequence[str], key_words: Sequence[str], rng: random.Random, change_all: bool
) -> str | None:
    """The question with its facts changed: a name for another, a number shifted, a word for its
    opposite, else a key word for another question's. ``change_all`` changes every name and number
    (and one key word besides); else one change is drawn. None when nothing can be changed."""
    changes: list[tuple[int, int, str]] = []
    for match in NAME.finditer(question):
        others = [n for n in rng.sample(names, min(len(names), 8)) if n != match.group()]
        if others:
            changes.append((match.start(), match.end(), others[0]))
    for match in NUMBER.finditer(question):
        changes.append((match.start(), match.end(), _other_number(match.group(), rng)))
    words = [m for m in WORD.finditer(question) if m.start() > 0]
    opposites = [(m.start(), m.end(), ANTONYMS[m.group().lower()]) for m in words if m.group().lower() in ANTONYMS]
    replaceable = [m for m in words if _is_key_word(m.group())]
    keyword = None
    if key_words and replaceable:
        match = rng.choice(replaceable)
        keyword = (match.start(), match.end(), rng.choice(key_words))
    if change_all:
        chosen = changes or ([keyword] if keyword else [])
    else:
        options = changes + opposites or ([keyword] if keyword else [])
        chosen = [rng.choice(options)] if options else []
    if not chosen:
        return None
    for start, end, new in sorted(chosen, reverse=True):
        question = question[:start] + new + question[end:]
    return question


def _is_key_word(word: str) -> bool:
    """A lowercase word that likely names a thing or a quality (verbs' common endings left out)."""
    return word.islower() and len(word) > 3 and word not in STOP_WORDS and not word.endswith(("ed", "ing", "ly"))


def statement(question: str, answer: str, fronted: bool) -> str | None:
    """The question said as a statement with ``answer`` in place of its wh-phrase, or None when its
    form is not one of the common ones. ``fronted`` puts a non-subject answer before the clause."""
    text = question.strip().rstrip("?").strip()
    obj = WH_OBJECT.match(text)
    if obj:
        rest, aux = obj.group("rest"), obj.group("aux").lower()
        # "did", "does" and modals go (the verb after them stands alone); "is", "was", "has" stay.
        verb = f" {aux}" if aux in BE_VERBS or aux in ("has", "had", "have") else ""
        last = rest.rsplit(" ", 1)
        if verb and last[-1].endswith(PARTICIPLE_ENDINGS):
            if len(last) == 1:  # "What type of wood is used?": the wh-phrase was the subject
                return _sentence(f"{answer}{verb} {rest}")
            rest, verb = f"{last[0]} {aux} {last[1]}", ""  # "the game was held in X", not "the game held was"
        if obj.group("many"):
            return _sentence(f"{rest}{verb} {answer} {obj.group('unit')}")
        place = PLACE_WORDS.get(obj.group("wh").lower()) or ("in" if obj.group("noun") in TIME_NOUNS else None)
        if place is None or answer.split()[0].lower() in PREPOSITIONS:
            return _sentence(f"{rest}{verb} {answer}")
        return _sentence(
            f"{place.capitalize()} {answer}, {rest}{verb}" if fronted else f"{rest}{verb} {place} {answer}"
        )
    words = text.split()
    if len(words) < 3:
        return None
    wh = words[0].lower()
    if wh == "how" and words[1].lower() in ("many", "much"):
        return _sentence(f"{answer} {' '.join(words[2:])}")
    if wh not in ("who", "what", "which"):
        return None
    rest = words[1:]
    if (wh == "which" and rest[0].islower() and rest[0] not in BE_VERBS) or (
        wh == "what" and _is_noun_before_verb(rest)
    ):
        rest = rest[1:]  # "Which team won ..." -> "<answer> won ..."
    if rest[0].lower() in AUXILIARIES:
        return None  # an object question of a form WH_OBJECT does not know
    return _sentence(f"{answer} {' '.join(rest)}")


def _is_noun_before_verb(words: Sequence[str]) -> bool:
    """Whether the first word names the thing asked for and the second is the verb ("team won")."""
    if len(words) < 2 or not words[0].islower() or words[0] in BE_VERBS or words[0].endswith("ed"):
        return False
    following = words[1].lower()
    return following in BE_VERBS or following in MODALS or following.endswith(("ed", "s"))


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text[:1].upper() + text[1:] + "."


def distractor_sentence(
    question: str,
    answer: str,
    style: str,
    names: Sequence[str],
    key_words: Sequence[str],
    answers: Sequence[str],
    rng: random.Random,
) -> str | None:
    """A look-alike sentence for ``question`` in one of the ``STYLES``; None when none can be made."""
    changed = changed_question(question, names, key_words, rng, change_all=style == "heldout")
    fake = fake_answer(answer, answers, rng)
    if changed is None or fake is None:
        return None
    said = statement(changed, fake, fronted=style == "heldout")
    if said is None or normalize_answer(answer) in normalize_answer(said):
        return None
    return said


def with_distractor(context: str, answer: tuple[int, int], sentence: str, style: str, rng: random.Random) -> Distractor:
    """``context`` with ``sentence`` inserted between two of its sentences: anywhere (``"train"``)
    or right after the sentence that holds the answer (``"heldout"``)."""
    spans = sentence_spans(context)
    if style == "heldout":
        holding = next((b for a, b in spans if a <= answer[0] < b), spans[-1][1])
        at = holding
    else:
        at = rng.choice([0, *(b for _, b in spans)])
    before = context[:at].rstrip()
    gap_before = " " if before else ""
    gap_after = " " if context[at:].strip() else ""
    start = len(before) + len(gap_before)
    text = before + gap_before + sentence + gap_after + context[at:].lstrip()
    shift = len(text) - len(context)
    moved = answer if answer[1] <= at else (answer[0] + shift, answer[1] + shift)
    return Distractor(text, moved, (start, start + len(sentence)))


def question_key_words(questions: Sequence[str]) -> list[str]:
    """Lowercase content words of these questions, to swap into others."""
    return sorted({w for q in questions for w in WORD.findall(q) if w.islower() and len(w) > 3 and w not in STOP_WORDS})
