"""How a model holds up on questions SQuAD's own text never asks, on held-out train-v1.1 questions.

``python -m reading_assistant.training.robustness distractors --run-dir RUN --model DIR``: each
question's paragraph with a look-alike sentence from the held-out generator of
:mod:`.distractors` (a kind training never used), right after the answer's sentence; prints the
share of first answers taken from the inserted sentence, right, and refused.

``python -m reading_assistant.training.robustness refusal --run-dir RUN --model DIR``: how often
the model refuses the question as it is, on informal text (:mod:`.informal`, the ``"review"``
style that training never used), both answerable, and asked of another article's paragraph
(unanswerable); and how often its refused first answer on informal text was right all the same.

Each reads its own part of the run's held-out questions (``calibrate`` reads the first 1,500,
``distractors`` the next 1,200, ``ranking_fit`` the next 300, ``refusal`` the rest), so nothing
measured here was fitted on. Only SQuAD v1.1 train is read.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.engine import open_engine
from ..core.options import Choices
from ..core.reading import Answers
from ..evaluation.squad import GoldAnswer, SquadArticle, SquadQuestion, load_squad, normalize_answer, score_question
from .distractors import NAME, distractor_sentence, question_key_words, with_distractor
from .informal import informal_text
from .train import Example, TrainConfig, held_out_examples

DISTRACTOR_SKIP, DISTRACTOR_QUESTIONS = 1500, 1200
REFUSAL_SKIP, REFUSAL_QUESTIONS = 3000, 599


def held_out(run_dir: Path) -> tuple[list[Example], tuple[SquadArticle, ...]]:
    """The run's held-out questions, in order, and the articles they come from."""
    config = TrainConfig(**json.loads((run_dir / "train_config.json").read_text()))
    articles = load_squad(Path(config.train_file)).articles
    return held_out_examples(config, articles), articles


@dataclass(frozen=True)
class Outcome:
    taken: bool  # the first answer overlaps the inserted sentence
    right: bool  # the first answer is the gold answer (normalised)
    refused: bool


def distractor_share(run_dir: Path, model_dir: Path, skip: int, count: int, seed: int = 7) -> dict[str, float]:
    """The held-out generator's distractors on held-out questions ``skip`` to ``skip + count``."""
    questions, articles = held_out(run_dir)
    chosen = questions[skip : skip + count]
    rng = random.Random(seed)
    names = sorted({n for e in questions for n in NAME.findall(e.question)})
    key_words = question_key_words([e.question for e in questions])
    gold = [articles[e.article].paragraphs[e.paragraph].context[e.char_start : e.char_end] for e in chosen]
    items = []
    for example, answer in zip(chosen, gold, strict=True):
        context = articles[example.article].paragraphs[example.paragraph].context
        sentence = distractor_sentence(example.question, answer, "heldout", names, key_words, gold, rng)
        if sentence is not None:
            made = with_distractor(context, (example.char_start, example.char_end), sentence, "heldout", rng)
            items.append((example.question, answer, made))
    engine = open_engine(model_dir, device="cpu")
    outcomes = []
    for event in engine.read([(made.context, question) for question, _, made in items], Choices(top_k=1)):
        if isinstance(event, Answers) and event.final:
            _, answer, made = items[event.index]
            first = event.prediction.answers[0] if event.prediction.answers else None
            refused = not event.prediction.has_answer or first is None
            taken = not refused and first.start < made.inserted[1] and made.inserted[0] < first.end
            right = not refused and normalize_answer(first.text) == normalize_answer(answer)
            outcomes.append(Outcome(taken, right, refused))
    return {
        "questions": len(outcomes),
        "made_of": len(chosen),
        "distractor_share": round(100 * sum(o.taken for o in outcomes) / len(outcomes), 2),
        "right": round(100 * sum(o.right for o in outcomes) / len(outcomes), 2),
        "refused": round(100 * sum(o.refused for o in outcomes) / len(outcomes), 2),
    }


def held_out_items(run_dir: Path, skip: int, count: int, style: str) -> list[tuple[str, SquadQuestion, str]]:
    """(group, question, text): each held-out question as it is ("train"), on informal text
    (``"informal"``), and asked of another article's paragraph (``"wrong-article"``)."""
    questions, articles = held_out(run_dir)
    chosen = questions[skip : skip + count]
    rng = random.Random(17 if style == "forum" else 19)
    return [item for n, example in enumerate(chosen) for item in _items(n, example, articles, style, rng)]


def _items(
    n: int, example: Example, articles: tuple[SquadArticle, ...], style: str, rng: random.Random
) -> list[tuple[str, SquadQuestion, str]]:
    context = articles[example.article].paragraphs[example.paragraph].context
    gold = context[example.char_start : example.char_end]
    rewritten = informal_text(context, (example.char_start, example.char_end), style, rng)
    said = rewritten.text[rewritten.answer[0] : rewritten.answer[1]]
    other = rng.choice([a for a in range(len(articles)) if a != example.article])
    stranger = rng.choice(articles[other].paragraphs).context
    items = [("train", SquadQuestion(f"train-{n}", example.question, (GoldAnswer(gold, 0),), False), context)]
    if re.sub(r"\W", "", said.lower()) == re.sub(r"\W", "", gold.lower()):
        items.append(
            (
                "informal",
                SquadQuestion(f"informal-{n}", example.question, (GoldAnswer(said, 0),), False),
                rewritten.text,
            )
        )
    if gold.lower() not in stranger.lower():
        items.append(("wrong-article", SquadQuestion(f"wrong-{n}", example.question, (), True), stranger))
    return items


def refusal_rates(run_dir: Path, model_dir: Path, skip: int, count: int, style: str) -> dict[str, float]:
    """How often the model refuses each group of ``held_out_items`` (percent), and how often its
    first answer to an informal question it refused was right all the same."""
    items = held_out_items(run_dir, skip, count, style)
    engine = open_engine(model_dir, device="cpu")
    refused: dict[str, list[bool]] = {}
    right_when_refused = []
    for event in engine.read([(text, q.question) for _, q, text in items], Choices(top_k=1)):
        if isinstance(event, Answers) and event.final:
            group, question, _ = items[event.index]
            prediction = event.prediction
            refused.setdefault(group, []).append(not prediction.has_answer)
            if group == "informal" and not prediction.has_answer and prediction.answers:
                right_when_refused.append(score_question(prediction.answers[0].text, question)[0])
    report: dict[str, float] = {f"{g}_questions": len(r) for g, r in refused.items()}
    report |= {f"{g}_refused": round(100 * sum(r) / len(r), 2) for g, r in refused.items()}
    if right_when_refused:
        report["informal_refused_but_right"] = round(100 * sum(right_when_refused) / len(right_when_refused), 2)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measure", choices=("distractors", "refusal"))
    parser.add_argument("--run-dir", type=Path, required=True, help="the training run (for its held-out split)")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--skip", type=int, default=None, help="held-out questions left out (default: see above)")
    parser.add_argument("--questions", type=int, default=None)
    a = parser.parse_args(argv)
    if a.measure == "distractors":
        report = distractor_share(
            a.run_dir, a.model, DISTRACTOR_SKIP if a.skip is None else a.skip, a.questions or DISTRACTOR_QUESTIONS
        )
    else:
        report = refusal_rates(
            a.run_dir, a.model, REFUSAL_SKIP if a.skip is None else a.skip, a.questions or REFUSAL_QUESTIONS, "review"
        )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
