"""Fitting the no-answer threshold and the temperature, on made-up scores (no model)."""

import numpy as np
import pytest

from reading_assistant.core.decoding import no_answer_probability
from reading_assistant.training.calibrate import fit_null_scale, fit_null_threshold, fit_temperature, log_loss
from reading_assistant.training.reliability import reliability_bins


def test_the_threshold_separates_answerable_from_unanswerable():
    null_odds = np.array([-5.0, -4.0, -3.0, 1.0, 2.0, 3.0])
    impossible = np.array([False, False, False, True, True, True])
    span_f1 = np.array([1.0, 1.0, 0.5, 0.0, 0.0, 0.0])
    threshold, f1 = fit_null_threshold(null_odds, span_f1, impossible)
    assert threshold == -3.0  # answer the three answerable ones, refuse the rest
    assert f1 == (2.5 + 3) / 6


def test_refusing_everything_wins_when_every_question_is_unanswerable():
    threshold, f1 = fit_null_threshold(np.array([0.0, 1.0]), np.zeros(2), np.array([True, True]))
    assert threshold < 0.0 and f1 == 1.0


def test_the_refusal_cap_keeps_answerable_questions_answered():
    null_odds = np.array([-2.0, -1.0, 0.0, 1.0])
    impossible = np.array([False, True, True, False])
    span_f1 = np.array([1.0, 0.0, 0.0, 0.3])
    free, _ = fit_null_threshold(null_odds, span_f1, impossible)
    assert free == -2.0
    guard = np.array([-3.0, -2.5, -1.5, -0.5])  # answerable questions known from elsewhere
    capped, f1 = fit_null_threshold(null_odds, span_f1, impossible, guard, max_refusal=0.25)
    assert capped == -1.0  # refuses one of the four guards (-0.5), where -2.0 would refuse two
    assert f1 == (1.0 + 0 + 1 + 0) / 4


def test_equal_null_odds_are_answered_together():
    null_odds = np.array([0.0, 0.0, 1.0])
    threshold, f1 = fit_null_threshold(null_odds, np.array([1.0, 0.0, 0.0]), np.array([False, True, True]))
    # Answering the pair at 0.0 scores 1 + 0 (+1 for refusing the third) = 2, as refusing all does.
    assert threshold < 0.0 and f1 == 2 / 3


def test_the_temperature_with_the_lowest_loss_is_chosen():
    correct = np.array([1.0, 1.0, 1.0, 0.0])
    logits = np.array([2.0, 2.0, 2.0, 2.0])

    def objective(t: float) -> float:
        return log_loss(1 / (1 + np.exp(-logits / t)), correct)

    best, values = fit_temperature(objective, [0.5, 1.0, 2.0, 4.0])
    # The accuracy is 0.75 and sigmoid(2 / t) = 0.75 at t = 1.82: the grid's nearest is 2.0.
    assert best == 2.0 and len(values) == 4


def test_reliability_bins_agree_with_the_ece_bins():
    confidences = np.array([0.05, 0.15, 0.95, 0.95, 1.0])
    correct = np.array([0, 0, 1, 0, 1])
    rows = reliability_bins(confidences, correct)
    assert [count for _, _, count in rows] == [1, 1, 3]
    assert rows[-1][1] == 2 / 3


def test_collectors_are_matched_to_their_questions(tiny_bert):
    from reading_assistant.core.engine import open_engine
    from reading_assistant.core.options import Choices
    from reading_assistant.evaluation.evaluate import N_BEST
    from reading_assistant.training.calibrate import read_with_collectors

    engine = open_engine(tiny_bert, device="cpu")
    long_text = " ".join(f"Sentence {i} tells of the river and the castle." for i in range(80))
    pairs = [(long_text, "Where is the river?"), ("The castle is old.", "How old?"), (long_text[:300], "Who?")]
    predictions = engine.ask_many(pairs, Choices(top_k=N_BEST))
    kept = read_with_collectors(engine, pairs)
    for (text, _), prediction, (collector, null_odds) in zip(pairs, predictions, kept, strict=True):
        config = engine.config
        answers, no_answer, odds = collector.result(
            text, N_BEST, config.temperature, config.null_threshold, config.null_scale
        )
        assert no_answer == prediction.no_answer_score
        assert no_answer == pytest.approx(
            float(no_answer_probability(np.array([null_odds]), config.null_threshold, config.null_scale)[0])
        )
        assert odds == null_odds == prediction.null_odds
        assert [a.text for a in answers] == [a.text for a in prediction.answers]


def test_the_no_answer_curve_is_found_from_labelled_null_odds():
    rng = np.random.default_rng(5)
    null_odds = rng.uniform(-12.0, 8.0, 20_000)
    impossible = rng.random(20_000) < no_answer_probability(null_odds, 2.0, 1.5)
    assert fit_null_scale(null_odds, impossible, 2.0) == pytest.approx(1.5, rel=0.1)
    with pytest.raises(ValueError):
        fit_null_scale(null_odds, null_odds < 2.0, 2.0)  # higher odds, fewer unanswerable: nothing to fit
