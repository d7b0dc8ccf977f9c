"""Evaluate the engine on SQuAD: the official metrics and BertQaSpec's three output files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.engine import QAEngine
from ..core.options import DEFAULT_TOP_K, MODELS_OWN, Choices
from ..core.reading import Prediction, ProgressCallback
from .squad import SquadDataset, SquadQuestion, score_question, squad_metrics

N_BEST = 20


@dataclass(frozen=True)
class EvaluationRun:
    questions: list[SquadQuestion]
    predictions: list[Prediction]


def run_engine(
    engine: QAEngine,
    dataset: SquadDataset,
    limit: int = 0,
    on_progress: ProgressCallback | None = None,
    choices: Choices = MODELS_OWN,
) -> EvaluationRun:
    """Answer every question of the data set (or the first ``limit``), paragraph = document, with
    ``choices`` (their ``N_BEST`` answers each, for the n-best file)."""
    pairs = dataset.questions()
    if limit:
        pairs = pairs[:limit]
    wanted = Choices(top_k=N_BEST).over(choices)
    predictions = engine.ask_many([(p.context, q.question) for p, q in pairs], wanted, on_progress)
    return EvaluationRun([q for _, q in pairs], predictions)


def expected_calibration_error(confidences: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidences, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(confidences[members].mean() - correct[members].mean())
    return float(error)


def best_span(prediction: Prediction) -> str:
    return prediction.answers[0].text if prediction.answers else ""


def final_answer(prediction: Prediction, unanswerable_aware: bool) -> str:
    """The answer as scored: on v2.0 data, the empty answer when the null odds win."""
    return best_span(prediction) if (prediction.has_answer or not unanswerable_aware) else ""


def first_shown(prediction: Prediction, question: SquadQuestion) -> tuple[float, bool]:
    """(probability shown, right) of what the app says first about the question: see ``shown_first``."""
    top = prediction.answers[0] if prediction.answers else None
    return shown_first(
        not prediction.has_answer,
        prediction.no_answer_score,
        top.text if top else "",
        top.score if top else 0.0,
        question,
    )


def shown_first(
    refused: bool, no_answer: float, top_text: str, top_probability: float, question: SquadQuestion
) -> tuple[float, bool]:
    """(probability shown, right): "not in this document" with the no-answer probability when the
    app refuses (right if the question has no answer), else the top answer with its probability
    (right if it matches a reference exactly)."""
    if refused:
        return no_answer, not question.answers
    if not top_text:
        return 0.0, False
    return top_probability, bool(score_question(top_text, question)[0])


def metrics(run: EvaluationRun, unanswerable_aware: bool) -> dict[str, float]:
    """Official metrics; for v2.0 data the empty answer is predicted when the null odds win."""
    pairs = list(zip(run.questions, run.predictions, strict=True))
    span = {q.id: best_span(p) for q, p in pairs}
    final = {q.id: final_answer(p, unanswerable_aware) for q, p in pairs}
    null_odds = {q.id: p.null_odds for q, p in pairs}
    result = squad_metrics(final, run.questions, null_odds if unanswerable_aware else None, span)
    # What the reader sees first (an answer, or "not in this document"), and the best span alone.
    shown = np.array([first_shown(p, q) for q, p in pairs], dtype=float).reshape(-1, 2)
    result["top1_ece"] = expected_calibration_error(shown[:, 0], shown[:, 1])
    confidences = np.array([p.answers[0].score if p.answers else 0.0 for p in run.predictions])
    correct = np.array([score_question(span[q.id], q)[0] for q in run.questions])
    result["span_top1_ece"] = expected_calibration_error(confidences, correct)
    # Any of the first five distinct answers exactly right, as a reader scanning the list sees it.
    answerable = [(q, p) for q, p in pairs if q.answers]
    result["top5_recall"] = (
        100.0
        * float(np.mean([any(score_question(a.text, q)[0] for a in p.answers[:DEFAULT_TOP_K]) for q, p in answerable]))
        if answerable
        else 0.0
    )
    # How often the app says "not in this document" at the model's own threshold.
    result["no_answer_rate"] = 100.0 * float(np.mean([not p.has_answer for p in run.predictions]))
    return result


def write_outputs(run: EvaluationRun, folder: Path, unanswerable_aware: bool) -> None:
    """predictions.json, nbest_predictions.json and null_odds.json, as BertQaSpec.evaluate writes, and
    first_shown.json: what the app says first about each question (an answer, or "not in this
    document"), the probability it shows and whether that is right, for reliability diagrams."""
    folder.mkdir(parents=True, exist_ok=True)
    predictions, nbest, null_odds, shown = {}, {}, {}, {}
    for question, prediction in zip(run.questions, run.predictions, strict=True):
        predictions[question.id] = final_answer(prediction, unanswerable_aware)
        nbest[question.id] = [
            {"text": a.text, "probability": a.score, "start_char": a.start, "end_char": a.end, "logit": a.logit}
            for a in prediction.answers
        ]
        null_odds[question.id] = prediction.null_odds if np.isfinite(prediction.null_odds) else 1e9
        probability, right = first_shown(prediction, question)
        shown[question.id] = {"no_answer": not prediction.has_answer, "probability": probability, "right": right}
    for name, content in (
        ("predictions.json", predictions),
        ("nbest_predictions.json", nbest),
        ("null_odds.json", null_odds),
        ("first_shown.json", shown),
    ):
        (folder / name).write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
