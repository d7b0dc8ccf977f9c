"""Evaluate the engine on SQuAD: the official metrics and BertQaSpec's three output files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reading_assistant.core.engine import Prediction, ProgressCallback, QAEngine
from reading_assistant.core.options import DEFAULT_TOP_K
from reading_assistant.evaluation.squad import SquadDataset, SquadQuestion, score_question, squad_metrics

N_BEST = 20


@dataclass(frozen=True)
class EvaluationRun:
    questions: list[SquadQuestion]
    predictions: list[Prediction]


def run_engine(
    engine: QAEngine, dataset: SquadDataset, limit: int = 0, on_progress: ProgressCallback | None = None
) -> EvaluationRun:
    """Answer every question of the data set (or the first ``limit``), paragraph = document."""
    pairs = dataset.questions()
    if limit:
        pairs = pairs[:limit]
    options = engine.options_with(top_k=N_BEST)
    predictions = engine.ask_many([(p.context, q.question) for p, q in pairs], options, on_progress)
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


def metrics(run: EvaluationRun, unanswerable_aware: bool) -> dict[str, float]:
    """Official metrics; for v2.0 data the empty answer is predicted when the null odds win."""
    pairs = list(zip(run.questions, run.predictions, strict=True))
    span = {q.id: best_span(p) for q, p in pairs}
    final = {q.id: final_answer(p, unanswerable_aware) for q, p in pairs}
    null_odds = {q.id: p.null_odds for q, p in pairs}
    result = squad_metrics(final, run.questions, null_odds if unanswerable_aware else None, span)
    confidences = np.array([p.answers[0].score if p.answers else 0.0 for p in run.predictions])
    correct = np.array([score_question(span[q.id], q)[0] for q in run.questions])
    result["top1_ece"] = expected_calibration_error(confidences, correct)
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
    """predictions.json, nbest_predictions.json and null_odds.json, as BertQaSpec.evaluate writes."""
    folder.mkdir(parents=True, exist_ok=True)
    predictions, nbest, null_odds = {}, {}, {}
    for question, prediction in zip(run.questions, run.predictions, strict=True):
        predictions[question.id] = final_answer(prediction, unanswerable_aware)
        nbest[question.id] = [
            {"text": a.text, "probability": a.score, "start_char": a.start, "end_char": a.end, "logit": a.logit}
            for a in prediction.answers
        ]
        null_odds[question.id] = prediction.null_odds if np.isfinite(prediction.null_odds) else 1e9
    for name, content in (
        ("predictions.json", predictions),
        ("nbest_predictions.json", nbest),
        ("null_odds.json", null_odds),
    ):
        (folder / name).write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
