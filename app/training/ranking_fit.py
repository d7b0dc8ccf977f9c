"""Fit and measure how passage ranking, section headings and the reader's score combine.

A span's score in the app is its logit plus its window's prior: ``RELEVANCE_WEIGHT`` times how far
the window's BM25 score falls short of the best window's, and ``SECTION_WEIGHT`` times how far the
heading of its section falls short of the best heading's match (``ranking.relevance_priors``).
Both weights are fitted here, on long documents made of SQuAD articles: a question's own article
joined with ``--other-articles`` other articles, each under its title as a plain-text heading, in a
random order, read as the app reads pasted text (so the titles become sections). Every window is
read once; each pair of weights then decodes the same logits as the app would, which makes a grid
search cheap.

``python -m reading_assistant.training.ranking_fit --run-dir RUN --model DIR`` fits on held-out
train-v1.1 questions of the run's split (past those ``calibrate`` and ``distractors`` read) and
prints the grid's F1; ``--squad FILE`` measures given weights on another file (dev-v1.1, for the
report only: nothing is fitted on it).
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
from ..core.options import Choices
from ..core.ranking import RELEVANCE_WEIGHT, SECTION_WEIGHT, bm25_scores, relevance_priors
from ..evaluation.evaluate import expected_calibration_error, shown_first
from ..evaluation.squad import GoldAnswer, SquadArticle, SquadQuestion, load_squad, score_question
from .calibrate import log_loss
from .train import TrainConfig, held_out_examples

RELEVANCE_GRID = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
SECTION_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
TEMPERATURE_GRID = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.6, 5.5)


@dataclass
class LongRead:
    """One question read over every window of its long document, kept to be decoded again."""

    question: SquadQuestion
    text: str
    window_spans: list[dict[tuple[int, int], float]]  # each window's spans and logits, no prior
    null_logit: float
    relevance: np.ndarray  # BM25 of each window
    headings: np.ndarray | None  # heading match of each window's section

    def collector(self, relevance_weight: float, section_weight: float) -> SpanCollector:
        """The span collector the app would hold after reading every window with these weights."""
        priors = relevance_priors(self.relevance, relevance_weight, self.headings, section_weight)
        collector = SpanCollector(null_logit=self.null_logit, windows_read=len(self.window_spans))
        for spans, prior in zip(self.window_spans, priors, strict=True):
            for chars, logit in spans.items():
                collector.merge(chars, logit + prior)
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
    read: LongRead, engine: QAEngine, relevance_weight: float, section_weight: float, temperature: float | None = None
) -> tuple[float, float, bool]:
    """(F1 of what the app shows first, its probability, right) with these weights (and the model's
    temperature, or ``temperature``)."""
    config = engine.config if temperature is None else replace(engine.config, temperature=temperature)
    answers, no_answer, null_odds = read.collector(relevance_weight, section_weight).result(
        read.text, 1, config.temperature, config.null_threshold, config.null_scale
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


def temperature_scan(reads: list[LongRead], engine: QAEngine, weights: tuple[float, float]) -> dict[float, dict]:
    """Top-1 ECE and log loss of what is shown first on the long documents, at each temperature."""
    results = {}
    for temperature in TEMPERATURE_GRID:
        scored = np.array([shown(r, engine, *weights, temperature) for r in reads])
        results[temperature] = {
            "ece": expected_calibration_error(scored[:, 1], scored[:, 2]),
            "log_loss": log_loss(scored[:, 1], scored[:, 2]),
        }
    return results


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
                "temperatures": temperature_scan(reads, engine, best),
                "grid": {f"{r}/{s}": v for (r, s), v in results.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
