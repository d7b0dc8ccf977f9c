"""Fit and measure how passage ranking, section headings and the reader's score combine.

A span's score in the app is its logit plus its window's prior: ``RELEVANCE_WEIGHT`` times how far
the window's BM25 score falls short of the best window's, and ``SECTION_WEIGHT`` times how far the
heading of its section falls short of the best heading's match (``ranking.relevance_priors``).
Both weights are fitted here, on long documents made of SQuAD articles: a question's own article
joined with ``--other-articles`` other articles, each under its title as a plain-text heading, in a
random order, read as the app reads pasted text (so the titles become sections). Every window is
read once; each pair of weights then decodes the same logits as the app would, which makes a grid
search cheap.

The same reads fit how the temperature falls as more windows are read (every window adds its
candidates, which spreads the shares): ``ModelConfig.many_windows_temperature`` and
``temperature_decay``, on what is shown first after reading 2, 4, ... windows in ranked order and
after all of them.

``python -m reading_assistant.training.ranking_fit --run-dir RUN --model DIR`` fits on held-out
train-v1.1 questions of the run's split (past those ``calibrate`` and ``distractors`` read) and
prints the grid's F1 and the temperatures, each count's log loss and ECE as [one temperature,
fitted]; ``--squad FILE`` measures the model as it is on another file (dev-v1.1, for the report
only: nothing is fitted on it).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..core.decoding import SpanCollector
from ..core.documents.loading import text_document
from ..core.engine import QAEngine, open_engine
from ..core.options import Choices, ModelConfig
from ..core.ranking import RELEVANCE_WEIGHT, SECTION_WEIGHT, bm25_scores, reading_order, relevance_priors
from ..evaluation.evaluate import expected_calibration_error, shown_first
from ..evaluation.squad import GoldAnswer, SquadArticle, SquadQuestion, load_squad, score_question
from .calibrate import log_loss
from .train import TrainConfig, held_out_examples

RELEVANCE_GRID = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
SECTION_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
FAR_TEMPERATURE_GRID = (1.5, 1.75, 2.0, 2.25, 2.5, 3.0)
DECAY_GRID = (0.25, 0.5, 0.75, 1.0, 1.25)
WINDOW_COUNTS = (2, 4, 8, 16, 32, 64, None)  # None: every window


@dataclass
class LongRead:
    """One question read over every window of its long document, kept to be decoded again."""

    question: SquadQuestion
    text: str
    window_spans: list[dict[tuple[int, int], float]]  # each window's spans and logits, no prior
    null_logit: float
    relevance: np.ndarray  # BM25 of each window
    headings: np.ndarray | None  # heading match of each window's section

    def collector(self, relevance_weight: float, section_weight: float, count: int | None = None) -> SpanCollector:
        """The span collector the app would hold after reading every window with these weights (or
        the first ``count`` in its ranked reading order)."""
        priors = relevance_priors(self.relevance, relevance_weight, self.headings, section_weight)
        read = reading_order(self.relevance)[:count]
        collector = SpanCollector(null_logit=self.null_logit, windows_read=len(read))
        for window in read:
            for chars, logit in self.window_spans[window].items():
                collector.merge(chars, logit + priors[window])
        return collector


def long_document(own: SquadArticle, others: list[SquadArticle], rng: random.Random) -> str:
    """``own`` and ``others`` in a random order, each under its title."""
    articles = [own, *others]
    rng.shuffle(articles)
    return "\n\n".join(
        f"{article.title.replace('_', ' ')}\n\n" + "\n\n".join(p.context for p in article.paragraphs)
        for article in articles
    )


def read_long(
    engine: QAEngine, cases: list[tuple[SquadArticle, SquadQuestion]], pool: tuple[SquadArticle, ...], others: int
) -> list[LongRead]:
    """Read each question over a long document: its article and ``others`` articles from ``pool``."""
    rng = random.Random(5)
    options = engine.resolve(Choices(relevance_weight=0.0, section_weight=0.0))
    reads = []
    for own, question in cases:
        strangers = rng.sample([a for a in pool if a.title != own.title], others)
        document = text_document(long_document(own, strangers, rng), "long.txt")
        tokens = engine.prepare(document.text)
        plan = engine._plan(tokens, question.question, options)
        index = engine._term_index(tokens)
        relevance = bm25_scores(index, plan)
        headings = engine._heading_scores(document, tokens, index, plan)
        window_spans, null_logit = [], float("inf")
        work = [(0, i) for i in range(len(plan))]
        for chunk, starts, ends in engine._forward([plan], work, options.batch_size):
            for (_, window), start, end in zip(chunk, starts, ends, strict=True):
                single = SpanCollector(max_answer_len=options.max_answer_len)
                single.add(plan, window, start, end)
                window_spans.append(single.spans)
                null_logit = min(null_logit, single.null_logit)
        reads.append(LongRead(question, document.text, window_spans, null_logit, relevance, headings))
    return reads


def shown(
    read: LongRead,
    engine: QAEngine,
    relevance_weight: float,
    section_weight: float,
    config: ModelConfig | None = None,
    count: int | None = None,
) -> tuple[float, float, bool]:
    """(F1 of what the app shows first, its probability, right) with these weights, the model's
    settings (or ``config``), after every window (or the first ``count`` in reading order)."""
    config = config or engine.config
    collector = read.collector(relevance_weight, section_weight, count)
    answers, no_answer, null_odds = collector.result(
        read.text, 1, config.temperature_for(collector.windows_read), config.null_threshold, config.null_scale
    )
    refused = null_odds > config.null_threshold or not answers
    text = "" if refused else answers[0].text
    f1 = 0.0 if refused else score_question(text, read.question)[1]
    probability, right = shown_first(refused, no_answer, text, answers[0].score if answers else 0.0, read.question)
    return f1, probability, bool(right)


def grid(reads: list[LongRead], engine: QAEngine) -> dict[tuple[float, float], dict[str, float]]:
    """F1 (of 100) and top-1 ECE of what is shown first, for each pair of weights."""
    results = {}
    for relevance_weight, section_weight in itertools.product(RELEVANCE_GRID, SECTION_GRID):
        scored = np.array([shown(r, engine, relevance_weight, section_weight) for r in reads])
        results[(relevance_weight, section_weight)] = {
            "f1": 100 * float(scored[:, 0].mean()),
            "ece": expected_calibration_error(scored[:, 1], scored[:, 2]),
            "log_loss": log_loss(scored[:, 1], scored[:, 2]),
        }
    return results


def calibration(
    reads: list[LongRead], engine: QAEngine, weights: tuple[float, float], config: ModelConfig, count: int | None
) -> tuple[float, float]:
    """(log loss, top-1 ECE) of what is shown first after ``count`` windows (None: all)."""
    scored = np.array([shown(r, engine, *weights, config, count) for r in reads])
    return log_loss(scored[:, 1], scored[:, 2]), expected_calibration_error(scored[:, 1], scored[:, 2])


def by_windows_read(
    reads: list[LongRead], engine: QAEngine, weights: tuple[float, float], config: ModelConfig
) -> list[tuple[float, float]]:
    """(log loss, top-1 ECE) of what is shown first after each of ``WINDOW_COUNTS`` windows."""
    return [calibration(reads, engine, weights, config, count) for count in WINDOW_COUNTS]


def fit_window_temperature(
    reads: list[LongRead], engine: QAEngine, weights: tuple[float, float]
) -> tuple[ModelConfig, list[tuple[float, float]]]:
    """The many-windows temperature and its decay (``ModelConfig.temperature_for``) with the lowest
    mean log loss of what is shown first after 2, 4, ... windows and after all of them, and its
    figures by windows read; the one-window temperature stays as ``calibrate`` fitted it on
    paragraphs."""
    one = replace(engine.config, many_windows_temperature=0.0, temperature_decay=0.0)
    candidates = [one] + [
        replace(one, many_windows_temperature=far, temperature_decay=decay)
        for far, decay in itertools.product(FAR_TEMPERATURE_GRID, DECAY_GRID)
    ]
    scores = [by_windows_read(reads, engine, weights, c) for c in candidates]
    best = int(np.argmin([np.mean([loss for loss, _ in row]) for row in scores]))
    return candidates[best], scores[best]


def window_temperature(reads: list[LongRead], engine: QAEngine, fit: bool) -> dict:
    """Calibration by windows read with the app's weights: one temperature for all (before) against
    the fitted temperatures (``fit``) or the model's own (after)."""
    weights = (RELEVANCE_WEIGHT, SECTION_WEIGHT)
    one = replace(engine.config, many_windows_temperature=0.0, temperature_decay=0.0)
    before = by_windows_read(reads, engine, weights, one)
    config, after = (
        fit_window_temperature(reads, engine, weights)
        if fit
        else (engine.config, by_windows_read(reads, engine, weights, engine.config))
    )
    return {
        "many_windows_temperature": config.many_windows_temperature,
        "temperature_decay": config.temperature_decay,
        "by_windows_read": {
            str(count or "all"): {"log_loss": [b[0], a[0]], "ece": [b[1], a[1]]}
            for count, b, a in zip(WINDOW_COUNTS, before, after, strict=True)
        },
    }


def held_out_cases(run_dir: Path, skip: int, count: int) -> tuple[list[tuple[SquadArticle, SquadQuestion]], tuple]:
    config = TrainConfig(**json.loads((run_dir / "train_config.json").read_text()))
    articles = load_squad(Path(config.train_file)).articles
    held_out = held_out_examples(config, articles)
    cases = []
    for n, example in enumerate(held_out[skip : skip + count]):
        article = articles[example.article]
        gold = article.paragraphs[example.paragraph].context[example.char_start : example.char_end]
        cases.append((article, SquadQuestion(f"long-{n}", example.question, (GoldAnswer(gold, 0),), False)))
    return cases, articles


def file_cases(path: Path, count: int) -> tuple[list[tuple[SquadArticle, SquadQuestion]], tuple]:
    articles = load_squad(path).articles
    pool = [(a, q) for a in articles for p in a.paragraphs for q in p.questions if not q.is_impossible]
    return random.Random(7).sample(pool, min(count, len(pool))), articles


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, help="fit on this training run's held-out questions")
    parser.add_argument("--squad", type=Path, help="measure on this SQuAD file's questions instead")
    parser.add_argument("--skip", type=int, default=2700, help="held-out questions other fits read, left out")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--other-articles", type=int, default=2)
    a = parser.parse_args(argv)
    if (a.run_dir is None) == (a.squad is None):
        parser.error("give --run-dir (fit) or --squad (measure)")
    cases, pool = held_out_cases(a.run_dir, a.skip, a.questions) if a.run_dir else file_cases(a.squad, a.questions)
    engine = open_engine(a.model, device="cpu")
    reads = read_long(engine, cases, pool, a.other_articles)
    results = grid(reads, engine)
    # The best F1; among equals, what is shown first is the best calibrated (the lowest log loss).
    best = max(results, key=lambda weights: (round(results[weights]["f1"], 6), -results[weights]["log_loss"]))
    print(
        json.dumps(
            {
                "questions": len(reads),
                "windows_per_question": float(np.mean([len(r.window_spans) for r in reads])),
                "shipped": {
                    "weights": [RELEVANCE_WEIGHT, SECTION_WEIGHT],
                    **results.get((RELEVANCE_WEIGHT, SECTION_WEIGHT), {}),
                },
                "best": {"weights": list(best), **results[best]},
                "window_temperature": window_temperature(reads, engine, fit=a.run_dir is not None),
                "grid": {f"{r}/{s}": v for (r, s), v in results.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
