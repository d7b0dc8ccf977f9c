"""The library bench's building blocks on a tiny SQuAD-format file: BM25 alone, a fake reader."""

from __future__ import annotations

import json
from pathlib import Path

from reading_assistant.core.decoding import Answer
from reading_assistant.core.reading import Prediction
from reading_assistant.evaluation.library_bench import RECALL_AT, run_library_bench, summary
from tests.fakes import FakeEngine

DEV_ARTICLES = {
    "Warsaw": [
        ("Warsaw is the capital of Poland and stands on the Vistula river.", "What river is Warsaw on?", "Vistula"),
        ("The Royal Castle in Warsaw was rebuilt after the war.", "What was rebuilt after the war?", "Royal Castle"),
        ("Chopin lived in Warsaw before he left for Paris.", "Where did Chopin go?", "Paris"),
    ],
    "Oxygen": [
        ("Oxygen is a chemical element with symbol O.", "What is the symbol of oxygen?", "O"),
        ("Priestley isolated oxygen in 1774 by heating mercuric oxide.", "When was oxygen isolated?", "1774"),
    ],
}
TRAIN_ARTICLES = {
    "Harbours": [
        ("The harbour master counted forty ships in the bay.", "How many ships?", "forty"),
        ("Fishing boats left the harbour every morning at dawn.", "When did boats leave?", "dawn"),
    ],
    "Mountains": [
        ("The highest mountain of the range is covered in snow all year.", "What covers it?", "snow"),
    ],
}


def squad_file(path: Path, articles: dict[str, list[tuple[str, str, str]]]) -> Path:
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": context,
                    "qas": [
                        {
                            "id": f"{title}-{number}",
                            "question": question,
                            "answers": [{"text": answer, "answer_start": context.index(answer)}],
                        }
                    ],
                }
                for number, (context, question, answer) in enumerate(paragraphs)
            ],
        }
        for title, paragraphs in articles.items()
    ]
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def first_word(text: str, question: str, windows: int, total: int) -> Prediction:
    word = text.split()[0]
    return Prediction(question, [Answer(word, 0, len(word), 0.9, 5.0)], 0.05, -4.0, True, windows, 0.01, total, 300)


def test_the_bench_reports_every_measure_on_a_tiny_library(tmp_path: Path) -> None:
    dev = squad_file(tmp_path / "dev.json", DEV_ARTICLES)
    train = squad_file(tmp_path / "train.json", TRAIN_ARTICLES)

    report = run_library_bench(
        dev,
        train,
        embedder=None,
        engine=FakeEngine(windows=8, answers=first_word),
        questions=5,
        answer_questions=3,
        sizes=(4, 7),
        latency_questions=2,
        library_passages=8,
    )

    assert report["machine"]["cores"] >= 1
    assert report["dev_library"]["documents"] == len(DEV_ARTICLES)
    assert report["dev_library"]["files_whose_library_text_matches"] == len(DEV_ARTICLES)
    assert report["large_library"]["distractor_documents"] >= 1
    for key in ("recall_dev_articles", "recall_large_library"):
        assert report[key]["questions"] == 5
        assert "hybrid" not in report[key]
        recalls = [report[key]["bm25"][f"recall@{k}"] for k in RECALL_AT]
        assert all(0.0 <= value <= 1.0 for value in recalls)
        assert recalls == sorted(recalls)
    end_to_end = report["end_to_end"]
    assert end_to_end["questions"] == 3
    for key in ("library_bm25", "article_alone"):
        assert 0.0 <= end_to_end[key]["f1"] <= 100.0
        assert end_to_end[key]["final_answer_seconds"]["median"] >= 0.0
    assert 0.0 <= end_to_end["library_bm25"]["gold_passage_read"] <= 1.0
    build = report["large_library"]["build"]
    assert build["passages"] >= 1 and build["embedded"] == 0
    assert report["large_library"]["storage"]["file_mb"] >= 0.0
    for size in ("4", "7"):
        latency = report["latency"][size]["bm25"]
        assert 0.0 <= latency["recall@24"] <= 1.0
        assert latency["first_answer_seconds"]["median"] <= latency["final_answer_seconds"]["median"]
    assert "Library bench on" in summary(report)
    json.dumps(report)
