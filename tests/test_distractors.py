"""Look-alike distractor sentences: the generator training uses, the held-out variant, and the
training examples made with them (built without training a model)."""

from __future__ import annotations

import random

import pytest

from reading_assistant.evaluation.squad import load_squad, normalize_answer
from reading_assistant.training.distractors import (
    STYLES,
    changed_question,
    distractor_sentence,
    fake_answer,
    statement,
    with_distractor,
)
from reading_assistant.training.train import TrainConfig, split_examples

from .test_training_unanswerable import article, contexts, squad_file

NAMES = ["Vikings", "Pope Leo", "Chicago", "Napoleon"]
ANSWERS = ["Main Street", "George Washington", "a quiet lake", "the long war", "cheap labour", "Paris"]


@pytest.mark.parametrize(
    ("question", "said", "fronted"),
    [
        ("What city did the Normans conquer in 1066?", "The Normans conquer in 1066 X.", None),
        ("Who was appointed Secretary of State?", "X was appointed Secretary of State.", None),
        ("Which team won Super Bowl 50?", "X won Super Bowl 50.", None),
        ("What is the name of the river?", "The name of the river is X.", None),
        ("What type of wood is used?", "X is used.", None),
        ("Where was the Super Bowl held?", "The Super Bowl was held in X.", "In X, the Super Bowl was held."),
        ("When did Beyonce become popular?", "Beyonce become popular in X.", "In X, Beyonce become popular."),
        ("What year did the war begin?", "The war begin in X.", "In X, the war begin."),
        ("How many people did the storm kill?", "The storm kill X people.", None),
        ("How many people live in Warsaw?", "X people live in Warsaw.", None),
    ],
)
def test_a_question_becomes_a_statement_with_the_answer_where_its_wh_phrase_was(question, said, fronted):
    assert statement(question, "X", fronted=False) == said
    assert statement(question, "X", fronted=True) == (fronted or said)


def test_forms_it_does_not_know_make_no_statement():
    assert statement("Name the river", "X", fronted=False) is None
    assert statement("Does it rain?", "X", fronted=False) is None


def test_a_fake_answer_is_of_the_same_kind_and_not_the_answer():
    rng = random.Random(1)
    for _ in range(20):
        number = fake_answer("1,066 people", ANSWERS, rng)
        assert number is not None and number != "1,066 people" and number.endswith(" people")
        name = fake_answer("Santa Clara", ANSWERS, rng)
        assert name in ("Main Street", "George Washington")
        phrase = fake_answer("the cold war", ANSWERS, rng)
        assert phrase in ("a quiet lake", "the long war")
    assert fake_answer("Warsaw", ["Warsaw", "warsaw"], rng) is None  # nothing else of its kind


def test_the_question_changed_no_longer_says_the_same():
    rng = random.Random(2)
    question = "Which team won Super Bowl 50 in Santa Clara?"
    for change_all in (False, True):
        for _ in range(20):
            changed = changed_question(question, NAMES, ["river", "castle"], rng, change_all)
            assert changed is not None and changed != question
    everything = changed_question(question, NAMES, [], random.Random(3), change_all=True)
    assert "Santa Clara" not in everything and " 50 " not in everything and "Super" not in everything


@pytest.mark.parametrize("style", STYLES)
def test_the_inserted_sentence_and_the_answer_are_where_the_distractor_says(style):
    context = "The Normans were a people. They conquered Dublin in 1066. Later they built castles."
    answer = (context.index("Dublin"), context.index("Dublin") + len("Dublin"))
    rng = random.Random(4)
    sentence = distractor_sentence(
        "What city did the Normans conquer in 1066?", "Dublin", style, NAMES, ["river"], ANSWERS, rng
    )
    assert sentence is not None and "dublin" not in normalize_answer(sentence)
    for _ in range(10):
        made = with_distractor(context, answer, sentence, style, rng)
        assert made.context[made.answer[0] : made.answer[1]] == "Dublin"
        assert made.context[made.inserted[0] : made.inserted[1]] == sentence
        assert made.context.replace(sentence, "").split() == context.split()
        if style == "heldout":  # right after the answer's sentence
            assert made.context.index(sentence) == context.index(" Later") + 1


def test_training_distractors_are_answerable_examples_that_leave_the_held_out_split_alone(tmp_path):
    train_file = squad_file(tmp_path / "train.json.gz", [article("A", contexts("a")), article("B", contexts("b"))])
    articles = load_squad(train_file).articles
    plain = TrainConfig("", str(train_file), "", max_questions=16)
    distracted = TrainConfig("", str(train_file), "", max_questions=16, distractor_ratio=1.0)
    plain_examples, plain_held_out = split_examples(plain, articles)
    examples, held_out = split_examples(distracted, articles)
    assert held_out == plain_held_out
    added = examples[len(plain_examples) :]
    assert examples[: len(plain_examples)] == plain_examples
    assert all(example.follows_teacher for example in plain_examples)
    assert added, "the castle questions turn into statements"
    for example in added:
        own = articles[example.article].paragraphs[example.paragraph].context
        gold = next(
            q.answers[0].text
            for q in articles[example.article].paragraphs[example.paragraph].questions
            if q.question == example.question
        )
        assert not example.negative and not example.follows_teacher  # a teacher would fall for the sentence
        assert example.context[example.char_start : example.char_end] == gold
        assert len(example.context) > len(own) and all(word in example.context for word in own.split())
