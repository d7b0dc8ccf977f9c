"""The fits of ranking_fit on reads made by hand: windows whose candidates and logits are known."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np

from reading_assistant.core.options import ModelConfig
from reading_assistant.core.ranking import RELEVANCE_WEIGHT, SECTION_WEIGHT
from reading_assistant.evaluation.squad import GoldAnswer, SquadQuestion
from reading_assistant.training.ranking_fit import LongRead, by_windows_read, fit_window_temperature, shown

WORDS = [f"word{n}" for n in range(40)]


def long_read(rng: random.Random, windows: int) -> LongRead:
    """One question over ``windows`` windows of one word each: the gold word in the most relevant
    window, with a logit that is not always the best; every other window offers a word of its own."""
    text = " ".join(WORDS[:windows])
    starts = [text.index(word) for word in WORDS[:windows]]
    spans = [{(s, s + len(WORDS[n])): rng.gauss(4.0, 1.5)} for n, s in enumerate(starts)]
    spans[0][(starts[0], starts[0] + len(WORDS[0]))] = rng.gauss(6.0, 1.5)
    relevance = np.array([10.0] + [rng.uniform(5.0, 9.0) for _ in range(windows - 1)])
    question = SquadQuestion("q", "Which word?", (GoldAnswer(WORDS[0], 0),), False)
    return LongRead(question, text, spans, -20.0, relevance, None)


def test_the_window_temperature_fit_is_no_worse_than_one_temperature_and_the_app_decodes_with_it():
    rng = random.Random(3)
    reads = [long_read(rng, 30) for _ in range(30)]
    engine = SimpleNamespace(config=ModelConfig(temperature=4.5, null_threshold=0.0, null_scale=1.0))
    weights = (RELEVANCE_WEIGHT, SECTION_WEIGHT)
    fitted, figures = fit_window_temperature(reads, engine, weights)
    one = by_windows_read(reads, engine, weights, engine.config)
    assert np.mean([loss for loss, _ in figures]) <= np.mean([loss for loss, _ in one])
    assert fitted.temperature == 4.5  # the one-window temperature is calibrate's, kept
    # What is shown first after every window is decoded at the temperature for 30 windows.
    f1, probability, right = shown(reads[0], engine, *weights, fitted)
    collector = reads[0].collector(*weights)
    answers, _, _ = collector.result(reads[0].text, 1, fitted.temperature_for(30), 0.0, 1.0)
    assert probability == answers[0].score and right == (answers[0].text == WORDS[0]) and f1 == float(right)
