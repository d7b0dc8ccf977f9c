"""The training run's time budget (how many steps its learning-rate schedule keeps), and a teacher
model's hold on a run: the divergence measured, and a tiny model trained with and without it."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForQuestionAnswering

from reading_assistant.core.windows import TextTokenizer
from reading_assistant.training.teacher import load_teacher, teacher_divergence, teacher_loss
from reading_assistant.training.train import TrainConfig, affordable_steps, build_features, collate, train

from .test_training_unanswerable import article, contexts, squad_file
from .tiny_models import TINY_BERT_SHAPE


def test_every_planned_step_is_kept_when_they_fit() -> None:
    assert affordable_steps(step=100, planned=1000, seconds_per_step=0.1, seconds_left=1000.0) == 1000


def test_the_schedule_ends_at_the_deadline_when_they_do_not() -> None:
    assert affordable_steps(step=100, planned=1000, seconds_per_step=0.5, seconds_left=100.0) == 300


def test_a_run_past_its_deadline_still_takes_one_more_step() -> None:
    assert affordable_steps(step=100, planned=1000, seconds_per_step=1.0, seconds_left=-5.0) == 101


def divergence(student, teacher, mask, rows, temperature=2.0) -> float:
    return float(teacher_divergence(student, teacher, torch.tensor(mask), torch.tensor(rows), temperature))


def test_the_divergence_from_a_teacher_counts_only_the_windows_that_follow_it_and_their_tokens() -> None:
    teacher = (torch.tensor([[4.0, 1.0, 0.0, 9.0], [0.0, 2.0, 1.0, 0.0]]),) * 2
    mask = [[1, 1, 1, 0], [1, 1, 1, 1]]
    assert divergence(teacher, teacher, mask, [True, True]) == pytest.approx(0.0, abs=1e-6)
    # A student that differs only on a padding token (the first window's last) agrees with it.
    padded = (torch.tensor([[4.0, 1.0, 0.0, -5.0], [0.0, 2.0, 1.0, 0.0]]),) * 2
    assert divergence(padded, teacher, mask, [True, True]) == pytest.approx(0.0, abs=1e-6)
    # One that differs on the second window is measured there, and not when that window is left out.
    other = (torch.tensor([[4.0, 1.0, 0.0, 9.0], [3.0, 0.0, 1.0, 0.0]]),) * 2
    assert divergence(other, teacher, mask, [True, True]) > 0.1
    assert divergence(other, teacher, mask, [True, False]) == pytest.approx(0.0, abs=1e-6)
    assert divergence(other, teacher, mask, [False, False]) == 0.0
    # Averaged over the windows that follow: the same gap on one window of two counts half.
    alone = divergence(other, teacher, mask, [False, True])
    assert divergence(other, teacher, mask, [True, True]) == pytest.approx(alone / 2, rel=1e-5)


def tiny_qa_model(folder: Path, tokenizer) -> Path:
    """A 2-layer BERT for question answering saved as transformers saves one, as a run's base model."""
    from transformers import BertConfig, BertForQuestionAnswering

    torch.manual_seed(0)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), **TINY_BERT_SHAPE, max_position_embeddings=512)
    BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def mean_divergence(model_dir: Path, teacher_dir: Path, config: TrainConfig) -> float:
    """The divergence of a trained model from the teacher over the run's own windows that follow it."""
    tokenizer = TextTokenizer.from_file(teacher_dir / "tokenizer.json")
    features = [f for f in build_features(config, tokenizer) if f.follows_teacher]
    batch = collate(features, tokenizer.template.pad_id)
    rows = batch.pop("follows_teacher")
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir).eval()
    inputs = {name: batch[name] for name in ("input_ids", "token_type_ids", "attention_mask")}
    with torch.no_grad():
        return float(
            teacher_loss(load_teacher(str(teacher_dir), torch.device("cpu")), model(**inputs), batch, rows, 2.0)
        )


def test_a_run_with_a_teacher_stays_closer_to_it(tmp_path, shared_wordpiece) -> None:
    base = tiny_qa_model(tmp_path / "base", shared_wordpiece)
    train_file = squad_file(tmp_path / "train.json.gz", [article("A", contexts("a")), article("B", contexts("b"))])
    runs = {}
    for name, teacher in (("free", {}), ("taught", {"teacher": str(base), "teacher_weight": 50.0})):
        config = TrainConfig(
            str(base),
            str(train_file),
            str(tmp_path / name),
            max_questions=16,
            distractor_ratio=1.0,
            epochs=4,
            batch_size=4,
            learning_rate=1e-2,
            warmup_fraction=0.0,
            bf16=False,
            device="cpu",
            **teacher,
        )
        runs[name] = (train(config), config)
    free, taught = (mean_divergence(final, base, config) for final, config in runs.values())
    print(f"\ndivergence from the teacher: {free:.4f} trained alone, {taught:.4f} with it")
    assert taught < free / 2, (taught, free)
