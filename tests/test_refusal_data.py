"""Held-out questions for the no-answer decision: informal text that keeps the answer, the wrong
article, and informal training examples (built without training a model)."""

from __future__ import annotations

import json
import random

import pytest

from reading_assistant.evaluation.squad import load_squad
from reading_assistant.training.informal import STYLES, informal_text
from reading_assistant.training.robustness import held_out_items
from reading_assistant.training.train import TrainConfig, split_examples

from .test_training_unanswerable import PARAGRAPH, article, contexts, squad_file


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("answer", ["King John", "1540", "a museum of local history", "The castle"])
def test_informal_text_keeps_the_answer_word_for_word(style, answer):
    start = PARAGRAPH.index(answer)
    for seed in range(10):
        said = informal_text(PARAGRAPH, (start, start + len(answer)), style, random.Random(seed))
        shown = said.text[said.answer[0] : said.answer[1]]
        assert shown.lower() == answer.lower()
        assert said.text != PARAGRAPH and len(said.text) > len(PARAGRAPH)
        if style == "forum":
            assert said.text == said.text.lower()
        else:
            assert said.text.count("\n") >= 4  # a sentence a line, between an opening and a closing


def test_held_out_items_are_the_question_informal_text_and_another_article(tmp_path):
    train_file = squad_file(tmp_path / "train.json.gz", [article("A", contexts("a")), article("B", contexts("b"))])
    run = tmp_path / "run"
    run.mkdir()
    config = TrainConfig("", str(train_file), "", max_questions=16)
    (run / "train_config.json").write_text(json.dumps(config.__dict__))
    items = held_out_items(run, 0, 8, "review")
    groups = [group for group, _, _ in items]
    assert groups.count("train") == 8 and groups.count("informal") == 8 and groups.count("wrong-article") >= 1
    articles = load_squad(train_file).articles
    article_of = {p.context: a.title for a in articles for p in a.paragraphs}
    own_text = {q.id.split("-")[-1]: text for group, q, text in items if group == "train"}
    for group, question, text in items:
        if group == "wrong-article":
            assert question.is_impossible and article_of[text] != article_of[own_text[question.id.split("-")[-1]]]
        elif group == "informal":
            assert question.answers[0].text in text and text not in article_of


def test_informal_training_examples_are_answerable_and_leave_the_split_alone(tmp_path):
    train_file = squad_file(tmp_path / "train.json.gz", [article("A", contexts("a")), article("B", contexts("b"))])
    articles = load_squad(train_file).articles
    plain_examples, plain_held_out = split_examples(TrainConfig("", str(train_file), "", max_questions=16), articles)
    examples, held_out = split_examples(
        TrainConfig("", str(train_file), "", max_questions=16, informal_ratio=1.0), articles
    )
    assert held_out == plain_held_out and examples[: len(plain_examples)] == plain_examples
    added = examples[len(plain_examples) :]
    assert len(added) == 16
    for example in added:
        paragraph = articles[example.article].paragraphs[example.paragraph]
        gold = next(q.answers[0].text for q in paragraph.questions if q.question == example.question)
        assert not example.negative and example.context == example.context.lower()
        assert example.context[example.char_start : example.char_end] == gold.lower()
