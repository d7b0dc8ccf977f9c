"""SQuAD data loading and the official metrics, checked against hand-computed cases."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from reading_assistant.core.errors import InputError
from reading_assistant.evaluation.evaluate import expected_calibration_error
from reading_assistant.evaluation.squad import (
    GoldAnswer,
    SquadQuestion,
    exact_match,
    f1_score,
    load_squad,
    normalize_answer,
    squad_metrics,
)


def question(qid: str, *answers: str, impossible: bool = False) -> SquadQuestion:
    return SquadQuestion(qid, "?", tuple(GoldAnswer(a, 0) for a in answers), impossible)


def test_normalisation_drops_case_punctuation_articles_and_spaces():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert normalize_answer("Theory") == "theory"  # 'the' only as a whole word


def test_exact_match_and_f1_by_hand():
    assert exact_match("the Broncos", "Broncos") == 1.0
    assert exact_match("Denver Broncos", "Broncos") == 0.0
    # prediction 'denver broncos' vs gold 'broncos': precision 1/2, recall 1, F1 = 2/3
    assert f1_score("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    # 'in 1903 and 1911' vs '1903': tokens in 1903 and 1911 -> precision 1/4, recall 1 -> 0.4
    assert f1_score("in 1903 and 1911", "1903") == pytest.approx(0.4)
    assert f1_score("Paris", "London") == 0.0
    assert f1_score("", "") == 1.0 and f1_score("x", "") == 0.0


def test_metrics_take_the_best_gold_answer_and_average():
    questions = [question("a", "Broncos", "Denver Broncos"), question("b", "1903"), question("c", "Warsaw")]
    predictions = {"a": "Denver Broncos", "b": "in 1903 and 1911", "c": "Paris"}
    result = squad_metrics(predictions, questions)
    assert result["exact_match"] == pytest.approx(100 / 3)
    assert result["f1"] == pytest.approx(100 * (1 + 0.4 + 0) / 3)
    assert result["total"] == 3


def test_v2_metrics_and_best_threshold_by_hand():
    questions = [
        question("a", "Warsaw"),
        question("b", "1903"),
        question("n1", impossible=True),
        question("n2", impossible=True),
    ]
    spans = {"a": "Warsaw", "b": "1911", "n1": "Paris", "n2": "radium"}
    null_odds = {"a": -3.0, "b": 1.0, "n1": 2.0, "n2": -1.0}
    # At threshold 0: answer a and n2, abstain on b and n1.
    final = {k: (v if null_odds[k] <= 0 else "") for k, v in spans.items()}
    result = squad_metrics(final, questions, null_odds, spans)
    assert result["HasAns_exact"] == 50.0 and result["NoAns_exact"] == 50.0
    assert result["exact_match"] == 50.0
    # Sorted odds a(-3) n2(-1) b(1) n1(2); start at 2 (both no-answers right), then
    # +1 (a right) -> 3, -1 (n2 answered) -> 2, +0 (b wrong) -> 2, -1 -> 1. Best 3/4 at -3.
    assert result["best_exact"] == 75.0 and result["best_f1_thresh"] == -3.0


def test_expected_calibration_error_by_hand():
    # Two bins: confidence 0.9 with 2/2 right (gap 0.1), confidence 0.2 with 0/2 right (gap 0.2).
    confidences = np.array([0.9, 0.9, 0.2, 0.2])
    correct = np.array([1.0, 1.0, 0.0, 0.0])
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.5 * 0.1 + 0.5 * 0.2)
    assert expected_calibration_error(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(0.0)


def test_load_plain_and_gzip_and_reject_bad_files(tmp_path):
    raw = {
        "version": "v2.0",
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Curie was born in Warsaw.",
                        "qas": [
                            {"id": "1", "question": "Where?", "answers": [{"text": "Warsaw", "answer_start": 18}]},
                            {"id": "2", "question": "When?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ],
    }
    plain = tmp_path / "d.json"
    plain.write_text(json.dumps(raw))
    packed = tmp_path / "d.json.gz"
    with gzip.open(packed, "wt") as handle:
        json.dump(raw, handle)
    for path in (plain, packed):
        dataset = load_squad(path)
        assert dataset.has_unanswerable
        (paragraph, first), (_, second) = dataset.questions()
        assert paragraph.context[18:24] == first.answers[0].text == "Warsaw"
        assert second.is_impossible and second.answers == ()
    (tmp_path / "bad.json").write_text('{"data": [{"nope": 1}]}')
    with pytest.raises(InputError, match="SQuAD layout"):
        load_squad(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no such data set"):
        load_squad(tmp_path / "missing.json")


def test_eval_command_prints_metrics_and_writes_bertqaspec_files(tmp_path, tiny_bert):
    import subprocess
    import sys

    raw = {
        "version": "v2.0",
        "data": [
            {
                "title": "Curie",
                "paragraphs": [
                    {
                        "context": "Marie Curie was born in Warsaw in 1867. She moved to Paris in 1891.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Where was she born?",
                                "answers": [{"text": "Warsaw", "answer_start": 24}],
                            },
                            {
                                "id": "q2",
                                "question": "When did she move?",
                                "answers": [{"text": "1891", "answer_start": 62}],
                            },
                            {"id": "q3", "question": "Who was her dog?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "tiny-v2.json.gz"
    with gzip.open(path, "wt") as handle:
        json.dump(raw, handle)
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reading_assistant",
            "eval",
            str(path),
            "--model",
            str(tiny_bert),
            "--output-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["total"] == 3
    for key in (
        "exact_match",
        "f1",
        "HasAns_exact",
        "HasAns_f1",
        "NoAns_exact",
        "NoAns_f1",
        "best_exact",
        "best_f1",
        "best_f1_thresh",
        "top1_ece",
        "span_top1_ece",
        "top5_recall",
        "no_answer_rate",
    ):
        assert key in metrics
    predictions = json.loads((out / "predictions.json").read_text())
    nbest = json.loads((out / "nbest_predictions.json").read_text())
    null_odds = json.loads((out / "null_odds.json").read_text())
    assert set(predictions) == set(nbest) == set(null_odds) == {"q1", "q2", "q3"}
    context = raw["data"][0]["paragraphs"][0]["context"]
    for entries in nbest.values():
        assert entries and all(context[e["start_char"] : e["end_char"]] == e["text"] for e in entries)
        assert sum(e["probability"] for e in entries) <= 1.0 + 1e-6
    # What the app says first: "not in this document" (the empty prediction on v2.0 data, right
    # only for q3) or the top answer, with the probability shown for it.
    shown = json.loads((out / "first_shown.json").read_text())
    assert set(shown) == set(predictions)
    for question_id, row in shown.items():
        assert 0.0 <= row["probability"] <= 1.0
        assert row["no_answer"] == (predictions[question_id] == "")
        if row["no_answer"]:
            assert row["right"] == (question_id == "q3")
        else:
            assert row["probability"] == nbest[question_id][0]["probability"]
            assert row["right"] == (predictions[question_id] == {"q1": "Warsaw", "q2": "1891"}.get(question_id))

    from reading_assistant.training.reliability import main as reliability

    reliability(["--eval-dir", str(out), "--output", str(tmp_path / "diagram.png")])
    assert (tmp_path / "diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
