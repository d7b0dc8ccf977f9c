"""Fit the softmax temperature on held-out train questions, so a confidence of 70% is right ~70% of the time.

``python -m reading_assistant.training.calibrate --run-dir RUN --model DIR [--questions 3000]`` answers
train-v1.1 questions that training never saw (see ``split_examples``), finds the temperature that
minimises the log loss of the top answer's confidence against its token F1, and stores it in the
model folder's ``reading_assistant.json``. Dev data is never used here.

Why F1 and not exact match: a train question has one reference answer, while a reader (and the
dev sets, with about three references) accepts any of several ways to mark the same answer.
Exact match against one reference counts many right answers as wrong, so a temperature fitted
to it leaves the model under-confident; token F1 gives partial credit for a differently marked
span and is the closer stand-in for "a person would accept this".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from reading_assistant.core.engine import open_engine
from reading_assistant.core.model_folder import CONFIG_NAME
from reading_assistant.core.options import Choices
from reading_assistant.evaluation.evaluate import N_BEST, expected_calibration_error
from reading_assistant.evaluation.squad import exact_match, f1_score, load_squad
from reading_assistant.training.train import TrainConfig, split_examples

TEMPERATURES = np.round(np.arange(0.3, 4.0001, 0.05), 2)


def top_confidence(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Probability of the first span in each row of (span logits..., null logit)."""
    scaled = logits / temperature
    scaled -= np.nanmax(scaled, axis=1, keepdims=True)
    weights = np.nan_to_num(np.exp(scaled))
    return weights[:, 0] / weights.sum(axis=1)


def log_loss(confidence: np.ndarray, target: np.ndarray) -> float:
    confidence = np.clip(confidence, 1e-6, 1 - 1e-6)
    return float(-np.mean(target * np.log(confidence) + (1 - target) * np.log(1 - confidence)))


def calibrate(run_dir: Path, model_dir: Path, count: int) -> dict[str, float]:
    config = TrainConfig(**json.loads((run_dir / "train_config.json").read_text()))
    articles = load_squad(Path(config.train_file)).articles
    _, held_out = split_examples(config, articles)
    held_out = held_out[:count]
    engine = open_engine(model_dir, device="cpu", choices=Choices(top_k=N_BEST))
    contexts = [articles[e.article].paragraphs[e.paragraph].context for e in held_out]
    predictions = engine.ask_many([(c, e.question) for c, e in zip(contexts, held_out, strict=True)])

    # Raw logits of each question's n-best spans and its no-answer score, padded with NaN.
    logits = np.full((len(predictions), N_BEST + 1), np.nan)
    exact = np.zeros(len(predictions))
    credit = np.zeros(len(predictions))
    for row, (example, prediction, context) in enumerate(zip(held_out, predictions, contexts, strict=True)):
        spans = [a.logit for a in prediction.answers]
        logits[row, : len(spans)] = spans
        logits[row, -1] = prediction.null_odds + spans[0]
        gold = context[example.char_start : example.char_end]
        exact[row] = exact_match(prediction.answers[0].text, gold)
        credit[row] = f1_score(prediction.answers[0].text, gold)

    losses = [log_loss(top_confidence(logits, t), credit) for t in TEMPERATURES]
    best = float(TEMPERATURES[int(np.argmin(losses))])
    report = {
        "questions": len(held_out),
        "exact_match": float(exact.mean() * 100),
        "f1": float(credit.mean() * 100),
        "temperature": best,
        "mean_confidence_before": float(top_confidence(logits, 1.0).mean()),
        "mean_confidence_after": float(top_confidence(logits, best).mean()),
        "f1_ece_before": expected_calibration_error(top_confidence(logits, 1.0), credit),
        "f1_ece_after": expected_calibration_error(top_confidence(logits, best), credit),
    }
    config_path = model_dir / CONFIG_NAME
    stored = json.loads(config_path.read_text())
    stored["temperature"] = best
    config_path.write_text(json.dumps(stored, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="the training run (for its held-out split)")
    parser.add_argument("--model", type=Path, required=True, help="the model folder to calibrate")
    parser.add_argument("--questions", type=int, default=3000)
    arguments = parser.parse_args(argv)
    print(json.dumps(calibrate(arguments.run_dir, arguments.model, arguments.questions)))


if __name__ == "__main__":
    main()
