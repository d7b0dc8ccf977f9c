"""Fit the softmax temperature and the no-answer threshold on held-out data, against the app's decoding.

``python -m reading_assistant.training.calibrate --run-dir RUN --model DIR [--questions 1500]
[--max-refusal 0.10] [--plots DIR]`` answers held-out SQuAD v1.1 train questions that training
never saw, as they are (answerable) and made unanswerable as ``train`` makes its own: their
answer's sentence removed, or replaced by the article's sentence closest to the question; a name,
number or word swapped for one their paragraph never mentions; negated, where the paragraph
negates nothing. It stores three numbers in the model folder's ``reading_assistant.json``:

- ``null_threshold``: the null odds (no-answer logit minus the best span's logit) at or below
  which the app answers, chosen to maximise SQuAD 2.0 F1 on all of those questions among
  thresholds that refuse at most ``--max-refusal`` of the answerable ones. It does not depend on
  the temperature, so it is fitted first.
- ``null_scale``: the no-answer probability the app shows is sigmoid((null odds - threshold) /
  scale), one half where the app starts to say "not in this document" (so it never refuses
  while showing a smaller no-answer probability); the scale is the logistic regression's against
  "unanswerable". A free midpoint was tried on stage 6: it calibrated the no-answer probability
  on held-out mixed data (ECE 0.044 against 0.166) but made the answers shown on answerable
  questions under-confident (top-1 ECE 0.159 against 0.086 there), and could refuse below one half.
- ``temperature``: the one over the distinct answers (their spans' softmax shares at the model's
  own scale, added up), the one that minimises the log loss of what the app shows first (the top
  answer with its probability, or "not in this document" with the no-answer probability) against
  whether it is right, read exactly as the app reads it (``SpanCollector.result``: overlapping
  variants merged into the answer shown), on the answerable questions and on all of them, the two
  counting alike. Train questions have one reference each, which makes a right answer look wrong
  now and then.

Only SQuAD v1.1 train is read: the data's rules keep both dev files for evaluation, so nothing is
fitted on them. The held-out questions' paragraphs were trained on with other questions, so the
model is surer of them than of a new document's: dev-v1.1 refuses more than the cap.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..core.decoding import SpanCollector, no_answer_probability
from ..core.engine import QAEngine, open_engine
from ..core.model_folder import CONFIG_NAME
from ..core.options import Choices, ModelConfig
from ..core.reading import Answers, Prediction
from ..evaluation.evaluate import N_BEST, expected_calibration_error, shown_first
from ..evaluation.squad import GoldAnswer, SquadQuestion, load_squad, score_question
from .train import (
    NAME,
    TrainConfig,
    held_out_examples,
    lookalike_paragraph,
    negated_question,
    swapped_question,
    without_answer_sentence,
)

TEMPERATURES = np.round(np.arange(0.5, 8.0001, 0.1), 2)
# The held-out questions made unanswerable as ``train`` makes its own: the answer's sentence removed,
# a name, number or word swapped, the answer's sentence replaced by a near-topic one, negated.
UNANSWERABLE_GROUPS = ("train-removed", "train-swapped", "train-lookalike", "train-negated")


@dataclass(frozen=True)
class Read:
    """One held-out question as the app decoded it, kept so it can be decoded again at any temperature."""

    question: SquadQuestion
    group: str  # "train" (held-out, answerable) or one of the unanswerable forms of ``UNANSWERABLE_GROUPS``
    text: str
    collector: SpanCollector
    null_odds: float

    def decode(self, setting: ModelConfig) -> tuple[str, float, float]:
        """(top answer, its probability, the no-answer probability) with these settings."""
        answers, no_answer, _ = self.collector.result(
            self.text, 1, setting.temperature, setting.null_threshold, setting.null_scale
        )
        return (answers[0].text, answers[0].score, no_answer) if answers else ("", 0.0, 1.0)

    def first_shown(self, setting: ModelConfig) -> tuple[float, bool]:
        """(probability shown, right) of what the app says first, as ``evaluate.first_shown``."""
        text, top, no_answer = self.decode(setting)
        return shown_first(self.null_odds > setting.null_threshold, no_answer, text, top, self.question)


def log_loss(confidence: np.ndarray, target: np.ndarray) -> float:
    confidence = np.clip(confidence, 1e-6, 1 - 1e-6)
    return float(-np.mean(target * np.log(confidence) + (1 - target) * np.log(1 - confidence)))


def fit_null_scale(null_odds: np.ndarray, impossible: np.ndarray, threshold: float) -> float:
    """The scale of the logistic curve of the null odds through one half at ``threshold`` with the
    lowest log loss against "unanswerable" (a one-weight logistic regression, Newton's method)."""
    x = np.clip(np.asarray(null_odds, dtype=float), -1e3, 1e3) - threshold  # padding has huge odds
    y = np.asarray(impossible, dtype=float)
    weight = 0.0  # p = sigmoid(weight * x)
    for _ in range(100):
        p = np.exp(-np.logaddexp(0.0, -weight * x))
        step = float(x @ (p - y)) / (float((x * x) @ (p * (1 - p))) + 1e-9)
        weight -= step
        if abs(step) < 1e-9:
            break
    if weight <= 0:
        raise ValueError("higher null odds do not mean more unanswerable questions here: nothing to fit")
    return round(1.0 / weight, 4)


def fit_null_threshold(
    null_odds: np.ndarray,
    span_f1: np.ndarray,
    impossible: np.ndarray,
    answerable_null_odds: np.ndarray | None = None,
    max_refusal: float = 1.0,
) -> tuple[float, float]:
    """(threshold, F1 in [0, 1] there): answer where null odds <= threshold, maximising SQuAD 2.0 F1.

    ``span_f1`` is the best span's F1 (0 for an unanswerable question, whose right answer is to
    refuse). A threshold is allowed only if it refuses at most ``max_refusal`` of
    ``answerable_null_odds`` (questions known to be answerable, refused when their null odds are
    above it). Candidates are the observed null odds (answer up to and including that question) and
    "refuse everything"; ties go to the lower threshold (fewer answers).
    """
    null_odds = np.asarray(null_odds, dtype=float)
    span_f1 = np.asarray(span_f1, dtype=float)
    impossible = np.asarray(impossible, dtype=bool)
    guard = np.sort(np.asarray(answerable_null_odds if answerable_null_odds is not None else [], dtype=float))

    def refusal(threshold: float) -> float:
        if not len(guard):
            return 0.0
        return 1.0 - np.searchsorted(guard, threshold, side="right") / len(guard)

    order = np.argsort(null_odds, kind="stable")
    # Refusing everything: every unanswerable question is right.
    gains = np.where(impossible[order], -1.0, span_f1[order])
    totals = impossible.sum() + np.cumsum(gains)
    candidates = [(float(impossible.sum()), float(null_odds[order[0]]) - 1.0)]
    for i, position in enumerate(order):
        # Several questions with the same odds are answered together: take the last of them.
        if i + 1 < len(order) and null_odds[order[i + 1]] == null_odds[position]:
            continue
        candidates.append((float(totals[i]), float(null_odds[position])))
    allowed = [(score, threshold) for score, threshold in candidates if refusal(threshold) <= max_refusal]
    if not allowed:  # even answering everything refuses too much: answer everything
        return float(null_odds.max()), float(span_f1.sum() / len(span_f1))
    best = max(score for score, _ in allowed)
    threshold = min(t for score, t in allowed if score == best)
    return threshold, best / len(span_f1)


def fit_temperature(
    objective: Callable[[float], float], temperatures: Sequence[float] = tuple(TEMPERATURES)
) -> tuple[float, list[float]]:
    """The temperature with the lowest objective on the grid, and the objective's values."""
    values = [objective(float(t)) for t in temperatures]
    return float(temperatures[int(np.argmin(values))]), values


def held_out_questions(run_dir: Path, count: int) -> list[tuple[str, SquadQuestion, str]]:
    """(group, question, text) of every held-out question calibration reads."""
    config = TrainConfig(**json.loads((run_dir / "train_config.json").read_text()))
    articles = load_squad(Path(config.train_file)).articles
    held_out = held_out_examples(config, articles)
    held_out = held_out[:count]
    names = sorted({name for example in held_out for name in NAME.findall(example.question)})
    swaps = random.Random(config.seed)
    items = []
    for n, example in enumerate(held_out):
        context = articles[example.article].paragraphs[example.paragraph].context
        gold = context[example.char_start : example.char_end]
        items.append(("train", SquadQuestion(f"train-{n}", example.question, (GoldAnswer(gold, 0),), False), context))
        removed = without_answer_sentence(context, example.char_start, example.char_end, gold)
        if removed is not None:
            items.append(("train-removed", SquadQuestion(f"removed-{n}", example.question, (), True), removed))
        swapped = swapped_question(example.question, context, names, swaps)
        if swapped is not None:
            items.append(("train-swapped", SquadQuestion(f"swapped-{n}", swapped, (), True), context))
        paragraphs = [p.context for p in articles[example.article].paragraphs]
        lookalike = lookalike_paragraph(
            example.question, context, example.char_start, example.char_end, paragraphs, example.paragraph
        )
        if lookalike is not None:
            items.append(("train-lookalike", SquadQuestion(f"lookalike-{n}", example.question, (), True), lookalike))
        negated = negated_question(example.question, context)
        if negated is not None:
            items.append(("train-negated", SquadQuestion(f"negated-{n}", negated, (), True), context))
    return items


def calibrate(
    run_dir: Path, model_dir: Path, count: int, max_refusal: float, plots: Path | None = None
) -> dict[str, float]:
    items = held_out_questions(run_dir, count)
    engine = open_engine(model_dir, device="cpu")
    before = engine.config
    collected = read_with_collectors(engine, [(text, q.question) for _, q, text in items])
    reads = [
        Read(question, group, text, collector, odds)
        for (group, question, text), (collector, odds) in zip(items, collected, strict=True)
    ]

    groups = {name: [r for r in reads if r.group == name] for name in ("train", *UNANSWERABLE_GROUPS)}
    answerable = groups["train"]
    mixed = reads
    span_f1 = np.array(
        [
            score_question(r.decode(ModelConfig())[0], r.question)[1] if not r.question.is_impossible else 0.0
            for r in mixed
        ]
    )
    impossible_mixed = np.array([float(r.question.is_impossible) for r in mixed])
    null_odds_mixed = np.array([r.null_odds for r in mixed])
    answerable_null_odds = np.array([r.null_odds for r in answerable])
    threshold, fitted_f1 = fit_null_threshold(
        null_odds_mixed, span_f1, impossible_mixed.astype(bool), answerable_null_odds, max_refusal
    )
    threshold = round(threshold, 4)  # as stored
    null_scale = fit_null_scale(null_odds_mixed, impossible_mixed, threshold)

    cache: dict[tuple[int, ModelConfig], tuple[np.ndarray, np.ndarray]] = {}

    def decoded(rs: list[Read], setting: ModelConfig) -> tuple[np.ndarray, np.ndarray]:
        """(probability of what is shown first, whether that is right) of each read."""
        if (id(rs), setting) not in cache:
            shown = np.array([r.first_shown(setting) for r in rs], dtype=float).reshape(-1, 2)
            cache[(id(rs), setting)] = shown[:, 0], shown[:, 1]
        return cache[(id(rs), setting)]

    def with_temperature(t: float) -> ModelConfig:
        return replace(before, temperature=t, null_threshold=threshold, null_scale=null_scale)

    temperature, _ = fit_temperature(
        lambda t: log_loss(*decoded(answerable, with_temperature(t))) + log_loss(*decoded(mixed, with_temperature(t)))
    )
    fitted = with_temperature(temperature)

    def eces(setting: ModelConfig) -> dict[str, float]:
        null_mixed = no_answer_probability(null_odds_mixed, setting.null_threshold, setting.null_scale)
        return {
            "top1_ece_answerable": expected_calibration_error(*decoded(answerable, setting)),
            "top1_ece_mixed": expected_calibration_error(*decoded(mixed, setting)),
            "no_answer_ece_mixed": expected_calibration_error(null_mixed, impossible_mixed),
        }

    def refused(name: str) -> float:
        return 100 * float(np.mean([r.null_odds > threshold for r in groups[name]])) if groups[name] else 0.0

    report: dict[str, float] = {
        **{f"held_out_{name.replace('-', '_')}": len(group) for name, group in groups.items()},
        "temperature": temperature,
        "null_threshold": threshold,
        "fitted_f1": 100 * fitted_f1,
        **{f"{name.replace('-', '_')}_refused": refused(name) for name in groups},
        "null_scale": null_scale,
        **{f"{k}_before": v for k, v in eces(before).items()},
        **{f"{k}_after": v for k, v in eces(fitted).items()},
    }
    if plots is not None:
        from .reliability import reliability_diagram

        top_mixed, right_mixed = decoded(mixed, fitted)
        null_mixed = no_answer_probability(null_odds_mixed, threshold, null_scale)
        plots.mkdir(parents=True, exist_ok=True)
        reliability_diagram(
            top_mixed, right_mixed, plots / "heldout-top1.png", "held-out fitting data: what is shown first"
        )
        reliability_diagram(
            null_mixed,
            impossible_mixed,
            plots / "heldout-no-answer.png",
            "held-out fitting data: no answer",
            "share unanswerable",
        )
    config_path = model_dir / CONFIG_NAME
    stored = json.loads(config_path.read_text())
    stored["temperature"] = temperature
    stored["null_threshold"] = threshold
    stored["null_scale"] = null_scale
    config_path.write_text(json.dumps(stored, indent=2) + "\n")
    return report


def read_with_collectors(engine: QAEngine, pairs: list[tuple[str, str]]) -> list[tuple[SpanCollector, float]]:
    """Answer the pairs as ``eval`` does, keeping each question's span collector and null odds, in order.

    The engine decodes a question (``_postprocess``) just before it reports that question's final
    answers, so the last collector decoded belongs to the question reported.
    """
    last: list[tuple[SpanCollector, float]] = []
    results: list[tuple[SpanCollector, float] | None] = [None] * len(pairs)
    original = engine._postprocess

    def keep(question: str, text: str, collector: SpanCollector, top_k: int, document: str = "") -> Prediction:
        prediction = original(question, text, collector, top_k, document)
        last[:] = [(collector, prediction.null_odds)]
        return prediction

    engine._postprocess = keep  # type: ignore[method-assign]
    try:
        for event in engine.read(pairs, Choices(top_k=N_BEST)):
            if isinstance(event, Answers) and event.final:
                results[event.index] = last[0]
    finally:
        engine._postprocess = original  # type: ignore[method-assign]
    if any(r is None for r in results):
        raise AssertionError("every question is answered")
    return [r for r in results if r is not None]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="the training run (for its held-out split)")
    parser.add_argument("--model", type=Path, required=True, help="the model folder to calibrate")
    parser.add_argument("--questions", type=int, default=1500, help="held-out train questions read")
    parser.add_argument("--max-refusal", type=float, default=0.10, help="of the held-out answerable questions")
    parser.add_argument("--plots", type=Path, default=None, help="folder for the held-out reliability diagrams")
    a = parser.parse_args(argv)
    report = calibrate(a.run_dir, a.model, a.questions, a.max_refusal, a.plots)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
