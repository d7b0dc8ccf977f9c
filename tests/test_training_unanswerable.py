"""Unanswerable training examples and the dev-v2.0 evaluation split, built without training a model."""

import gzip
import json
import random
from dataclasses import asdict
from pathlib import Path

import pytest

from reading_assistant.evaluation.splits import FIRST_EVALUATION_ARTICLE, evaluation_part, write_evaluation_part
from reading_assistant.evaluation.squad import load_squad
from reading_assistant.training.calibrate import UNANSWERABLE_GROUPS, held_out_questions
from reading_assistant.training.train import (
    TrainConfig,
    lookalike_paragraph,
    near_topic_paragraph,
    negated_question,
    sentence_spans,
    split_examples,
    swapped_question,
    without_answer_sentence,
)

PARAGRAPH = (
    "The castle was built in 1204 by King John. It was rebuilt after a great fire in 1540. "
    "Today the castle houses a museum of local history, with a library of old maps and letters. "
    "Visitors come from all over the country to see its towers and gardens every summer."
)


def test_sentences_split_at_full_stops_before_a_capital():
    spans = sentence_spans(PARAGRAPH)
    assert [PARAGRAPH[a:b] for a, b in spans][:2] == [
        "The castle was built in 1204 by King John.",
        "It was rebuilt after a great fire in 1540.",
    ]
    assert len(spans) == 4
    assert sentence_spans("See p. vii of the U.S. report.") == [(0, 30)]  # no capital after "p."


def test_the_answer_sentence_is_removed_and_the_rest_kept():
    start = PARAGRAPH.index("1540")
    text = without_answer_sentence(PARAGRAPH, start, start + 4, "1540")
    assert text is not None
    assert "1540" not in text and "fire" not in text
    assert text.startswith("The castle was built in 1204 by King John. Today the castle")


def test_no_example_when_the_answer_is_still_in_the_paragraph():
    start = PARAGRAPH.index("castle")
    assert without_answer_sentence(PARAGRAPH, start, start + 6, "castle") is None  # "the castle" again later


def test_no_example_when_too_little_text_is_left():
    short = "It opened in 1900. It closed soon."
    assert without_answer_sentence(short, short.index("1900"), short.index("1900") + 4, "1900") is None


def test_a_swapped_question_names_what_the_paragraph_never_mentions():
    rng = random.Random(3)
    names = ["Queen Anne", "King John", "Oxford"]
    for _ in range(20):
        question = swapped_question("Who built the castle for King John in 1204?", PARAGRAPH, names, rng)
        assert question is not None and question != "Who built the castle for King John in 1204?"
        changed = set(question.rstrip("?").split()) - set(PARAGRAPH.replace(".", "").split())
        assert changed, question  # a word, name or number the paragraph lacks
    assert "King John" not in {swapped_question("What did King John build?", PARAGRAPH, ["King John"], rng)}
    # The opposite of a word the paragraph uses is not swapped in: "after" is in the paragraph.
    assert swapped_question("What happened before the fire?", PARAGRAPH, [], rng) is None
    assert swapped_question("What was the first museum?", PARAGRAPH, [], rng) == "What was the last museum?"
    assert swapped_question("Why?", PARAGRAPH, names, rng) is None


def test_the_near_topic_paragraph_shares_words_and_lacks_the_answer():
    paragraphs = [
        "The river floods the valley every spring.",
        "The castle museum holds old maps of the valley.",
        "Castle towers were built in 1204 by the king.",
        "Castle towers and castle museum were built in 1204.",
    ]
    # Paragraph 3 overlaps most but holds the answer; 2 holds it too; so 1 is the near-topic one.
    assert near_topic_paragraph("When were the castle towers built?", "1204", paragraphs, own=2) == 1
    assert near_topic_paragraph("When?", "1204", ["1204 a", "1204 b"], own=0) is None


def test_a_lookalike_paragraph_has_the_articles_closest_sentence_where_the_answer_was():
    paragraphs = [
        PARAGRAPH,
        "The river floods the valley every spring. A stone castle tower was built by the monks in 1210.",
        "The castle gardens were built by the town.",
    ]
    start = PARAGRAPH.index("King John")
    text = lookalike_paragraph("Who built the castle tower?", PARAGRAPH, start, start + 9, paragraphs, own=0)
    assert text is not None
    # The answer's sentence gives way to the sentence sharing most words with the question, in its place.
    assert text.startswith("A stone castle tower was built by the monks in 1210. It was rebuilt after")
    assert "King John" not in text and text.endswith("every summer.")
    # Nothing elsewhere shares two words with the question, or everything else holds the answer.
    assert lookalike_paragraph("Who owned the bakery?", PARAGRAPH, start, start + 9, paragraphs, own=0) is None
    holds = [PARAGRAPH, "King John built the castle tower in 1204."]
    assert lookalike_paragraph("Who built the castle tower?", PARAGRAPH, start, start + 9, holds, own=0) is None


def test_a_negated_question_asks_what_a_paragraph_that_negates_nothing_cannot_say():
    assert negated_question("Who was appointed to the board in 1950?", PARAGRAPH) == (
        "Who was not appointed to the board in 1950?"
    )
    assert negated_question("What is the name of the castle?", PARAGRAPH) == "What is not the name of the castle?"
    assert negated_question("Which king could build towers?", PARAGRAPH) == "Which king could not build towers?"
    # Word orders where "not" belongs after a subject the pattern cannot find are left alone.
    assert negated_question("What did the king build?", PARAGRAPH) is None
    assert negated_question("What was copper called?", PARAGRAPH) is None
    # A paragraph that negates something might say what is not so; a negated question stays as it is.
    assert negated_question("What is the name of the castle?", PARAGRAPH + " It is not open in winter.") is None
    assert negated_question("What is not the name of the castle?", PARAGRAPH) is None


def squad_file(path: Path, articles: list[dict], version: str = "1.1") -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"version": version, "data": articles}, handle)
    return path


def article(title: str, contexts: list[str], impossible_every: int = 0) -> dict:
    paragraphs = []
    for p, context in enumerate(contexts):
        word = context.split()[2]
        qas = []
        for q in range(3):
            unanswerable = bool(impossible_every) and q % impossible_every == 0
            qas.append(
                {
                    "id": f"{title}-{p}-{q}",
                    "question": f"What is the word {q} of paragraph {p} about the castle?",
                    "answers": [] if unanswerable else [{"text": word, "answer_start": context.index(word)}],
                    "is_impossible": unanswerable,
                }
            )
        paragraphs.append({"context": context, "qas": qas})
    return {"title": title, "paragraphs": paragraphs}


def contexts(tag: str) -> list[str]:
    return [
        f"Paragraph {tag}{i} word{tag}{i} about the castle. " + PARAGRAPH.replace("1540", f"15{i}{len(tag)}")
        for i in range(4)
    ]


@pytest.fixture
def train_file(tmp_path):
    return squad_file(tmp_path / "train.json.gz", [article("A", contexts("a")), article("B", contexts("b"))])


def test_held_out_questions_do_not_change_with_the_new_options(train_file, tmp_path):
    articles = load_squad(train_file).articles
    plain = TrainConfig("", str(train_file), "", max_questions=16, negative_ratio=0.5)
    extended = TrainConfig(
        "",
        str(train_file),
        "",
        max_questions=16,
        negative_ratio=0.5,
        near_topic=True,
        unanswerable_ratio=1.0,
        swap_ratio=1.0,
        lookalike_ratio=1.0,
        negation_ratio=1.0,
        train_questions=10,
    )
    plain_examples, plain_held_out = split_examples(plain, articles)
    examples, held_out = split_examples(extended, articles)
    assert held_out == plain_held_out and len(held_out) == 24 - 16
    positives = [e for e in examples if not e.negative]
    assert positives == [e for e in plain_examples if not e.negative][:10]
    with_context = [e for e in examples if e.negative and e.context]

    def own_text(e):
        return articles[e.article].paragraphs[e.paragraph].context

    # A removed sentence leaves only the paragraph's own sentences; a look-alike brings another's.
    removed = [e for e in with_context if all(s in own_text(e) for s in e.context.split(". "))]
    lookalikes = [e for e in with_context if e not in removed]
    assert removed, "some answer sentences can be removed"
    assert lookalikes, "some answer sentences have a near-topic sentence elsewhere in the article"
    article_text = {a: "\n".join(p.context for p in articles[a].paragraphs) for a in range(len(articles))}
    for e in lookalikes:
        answer = next(
            q.answers[0].text for q in articles[e.article].paragraphs[e.paragraph].questions if q.question == e.question
        )
        assert answer not in e.context
        assert all(s in article_text[e.article] for s in e.context.split(". "))
    for e in removed:
        assert e.char_start == e.char_end == 0 and len(e.context) < len(
            articles[e.article].paragraphs[e.paragraph].context
        )
    changed = [
        e for e in examples if e.negative and not e.context and e.question not in {p.question for p in positives}
    ]
    negated = [e for e in changed if " not " in e.question]
    swapped = [e for e in changed if e not in negated]
    assert swapped, "some questions name what their paragraph mentions"
    assert negated and all(e.question.startswith("What is not the word") for e in negated)
    for e in swapped:
        own = articles[e.article].paragraphs[e.paragraph]
        assert e.question not in {q.question for q in own.questions}
    near = [e for e in examples if e.negative and not e.context and e not in changed]
    assert len(near) == 5 and all(e.paragraph != p.paragraph for e, p in zip(near, positives, strict=False))
    changed_kinds = len(swapped) + len(negated)
    assert len(examples) == len(positives) + len(removed) + len(lookalikes) + changed_kinds + len(near)  # nothing else


def test_the_evaluation_part_is_the_articles_after_the_first_18(tmp_path):
    raw = {"version": "v2.0", "data": [article(f"T{i}", contexts("x")[:1]) for i in range(20)]}
    assert [a["title"] for a in evaluation_part(raw)["data"]] == ["T18", "T19"]
    source = squad_file(tmp_path / "dev.json.gz", raw["data"], "v2.0")
    assert write_evaluation_part(source, tmp_path / "evaluation.json.gz") == 6
    assert [a.title for a in load_squad(tmp_path / "evaluation.json.gz").articles] == ["T18", "T19"]
    assert FIRST_EVALUATION_ARTICLE == 18


def test_calibration_reads_held_out_questions_as_they_are_and_made_unanswerable(train_file, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "train_config.json").write_text(json.dumps(asdict(TrainConfig("", str(train_file), "", max_questions=16))))
    items = held_out_questions(run, 100)
    answerable = [(q, text) for group, q, text in items if group == "train"]
    assert len(answerable) == 24 - 16
    assert all(not q.is_impossible and q.answers[0].text in text for q, text in answerable)
    asked = {q.question for q, _ in answerable}
    removed = [(q, text) for group, q, text in items if group == "train-removed"]
    assert removed and all(q.is_impossible and not q.answers and q.question in asked for q, _ in removed)
    swapped = [(q, text) for group, q, text in items if group == "train-swapped"]
    assert swapped and all(q.is_impossible and not q.answers and q.question not in asked for q, _ in swapped)
    texts = {text for _, text in answerable}
    assert {text for _, text in swapped} <= texts  # against their own paragraphs
    lookalike = [(q, text) for group, q, text in items if group == "train-lookalike"]
    assert lookalike and all(q.is_impossible and q.question in asked and text not in texts for q, text in lookalike)
    negated = [q for group, q, _ in items if group == "train-negated"]
    assert negated and all(q.is_impossible and " not " in q.question and q.question not in asked for q in negated)
    assert {group for group, _, _ in items} == {"train", *UNANSWERABLE_GROUPS}
