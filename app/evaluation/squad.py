"""SQuAD v1.1 / v2.0 data and the official exact-match and F1 metrics."""

from __future__ import annotations

import collections
import gzip
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError


@dataclass(frozen=True)
class GoldAnswer:
    text: str
    start: int


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[GoldAnswer, ...]
    is_impossible: bool


@dataclass(frozen=True)
class SquadParagraph:
    context: str
    questions: tuple[SquadQuestion, ...]


@dataclass(frozen=True)
class SquadArticle:
    title: str
    paragraphs: tuple[SquadParagraph, ...]


@dataclass(frozen=True)
class SquadDataset:
    version: str
    articles: tuple[SquadArticle, ...]

    @property
    def has_unanswerable(self) -> bool:
        return any(q.is_impossible for a in self.articles for p in a.paragraphs for q in p.questions)

    def questions(self) -> list[tuple[SquadParagraph, SquadQuestion]]:
        return [(p, q) for a in self.articles for p in a.paragraphs for q in p.questions]


def load_squad(path: Path) -> SquadDataset:
    """Read a SQuAD JSON file, plain or gzip-compressed."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as error:
        raise InputError(f"no such data set: {path}") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path} is not a readable SQuAD JSON file ({error})") from error
    try:
        articles = tuple(
            SquadArticle(
                title=article.get("title", ""),
                paragraphs=tuple(
                    SquadParagraph(
                        context=paragraph["context"],
                        questions=tuple(
                            SquadQuestion(
                                id=qa["id"],
                                question=qa["question"],
                                answers=tuple(GoldAnswer(a["text"], a["answer_start"]) for a in qa["answers"]),
                                is_impossible=bool(qa.get("is_impossible", False)),
                            )
                            for qa in paragraph["qas"]
                        ),
                    )
                    for paragraph in article["paragraphs"]
                ),
            )
            for article in raw["data"]
        )
    except (KeyError, TypeError) as error:
        raise InputError(f"{path} does not have the SQuAD layout (missing {error})") from error
    return SquadDataset(version=str(raw.get("version", "")), articles=articles)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, articles and extra white space (the official normalisation)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction).split()
    truth = normalize_answer(gold).split()
    if not predicted or not truth:
        # SQuAD 2.0: an empty prediction is right exactly when the gold is empty.
        return float(predicted == truth)
    common = collections.Counter(predicted) & collections.Counter(truth)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(predicted)
    recall = same / len(truth)
    return 2 * precision * recall / (precision + recall)


def gold_texts(question: SquadQuestion) -> list[str]:
    """The gold answers to score against; an unanswerable question has the empty answer."""
    texts = [a.text for a in question.answers if normalize_answer(a.text)]
    return texts or [""]


def score_question(prediction: str, question: SquadQuestion) -> tuple[float, float]:
    """(exact match, F1) of one prediction: the best over the gold answers."""
    golds = gold_texts(question)
    return max(exact_match(prediction, g) for g in golds), max(f1_score(prediction, g) for g in golds)


def squad_metrics(
    predictions: dict[str, str],
    questions: list[SquadQuestion],
    null_odds: dict[str, float] | None = None,
    span_predictions: dict[str, str] | None = None,
) -> dict[str, float]:
    """The official SQuAD metrics, in percent; for v2.0 data with ``null_odds`` and
    ``span_predictions`` (the best non-empty span of each question) also the best-threshold ones.

    ``null_odds[id]`` is the no-answer score minus the best span's score: above the threshold,
    the prediction becomes the empty answer.
    """
    exact = {}
    f1 = {}
    for q in questions:
        exact[q.id], f1[q.id] = score_question(predictions.get(q.id, ""), q)
    total = len(questions)
    result: dict[str, float] = {
        "exact_match": 100.0 * sum(exact.values()) / max(total, 1),
        "f1": 100.0 * sum(f1.values()) / max(total, 1),
        "total": total,
    }
    has_answer = [q for q in questions if not q.is_impossible]
    no_answer = [q for q in questions if q.is_impossible]
    if no_answer:
        for name, group in (("HasAns", has_answer), ("NoAns", no_answer)):
            result[f"{name}_exact"] = 100.0 * sum(exact[q.id] for q in group) / max(len(group), 1)
            result[f"{name}_f1"] = 100.0 * sum(f1[q.id] for q in group) / max(len(group), 1)
            result[f"{name}_total"] = len(group)
    if null_odds is not None and span_predictions is not None and no_answer:
        span_scores = {q.id: score_question(span_predictions.get(q.id, ""), q) for q in questions}
        best_exact, _ = _best_threshold({k: v[0] for k, v in span_scores.items()}, null_odds, questions)
        best_f1, threshold = _best_threshold({k: v[1] for k, v in span_scores.items()}, null_odds, questions)
        result.update(best_exact=best_exact, best_f1=best_f1, best_f1_thresh=threshold)
    return result


def _best_threshold(
    scores: dict[str, float], null_odds: dict[str, float], questions: list[SquadQuestion]
) -> tuple[float, float]:
    """The official sweep: answer the questions whose null odds are at most the threshold.

    ``scores`` are those of the best non-empty span; an unanswerable question that gets one loses 1.
    """
    impossible = {q.id for q in questions if q.is_impossible}
    current = float(len(impossible))  # nothing answered: every unanswerable one is right
    best, best_threshold = current, 0.0
    for qid in sorted(null_odds, key=lambda k: null_odds[k]):
        if qid not in scores:
            continue
        current += -1.0 if qid in impossible else scores[qid]
        if current > best:
            best, best_threshold = current, null_odds[qid]
    return 100.0 * best / max(len(questions), 1), best_threshold
