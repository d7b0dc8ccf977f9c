"""Learning without forgetting: a run that keeps its model's start and end distributions close to a
teacher's (``train --teacher DIR --teacher-weight W``), on the windows where the teacher is to be
followed (every one but the distractor examples', whose look-alike sentence it still falls for)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from transformers import AutoModelForQuestionAnswering


def load_teacher(folder: str, device: torch.device) -> torch.nn.Module:
    """The teacher model, in fp32 (a folder saved in half precision too), frozen, in evaluation mode."""
    teacher = AutoModelForQuestionAnswering.from_pretrained(folder).float().to(device).eval()
    teacher.requires_grad_(False)
    return teacher


def teacher_loss(
    teacher: torch.nn.Module, student_outputs, batch: Mapping[str, torch.Tensor], rows: torch.Tensor, temperature: float
) -> torch.Tensor:
    """``teacher_divergence`` of the student's outputs on ``batch`` from the teacher's on the same windows."""
    inputs = {name: batch[name] for name in ("input_ids", "token_type_ids", "attention_mask")}
    with torch.no_grad():
        taught = teacher(**inputs)
    return teacher_divergence(
        (student_outputs.start_logits, student_outputs.end_logits),
        (taught.start_logits, taught.end_logits),
        batch["attention_mask"],
        rows,
        temperature,
    )


def teacher_divergence(
    student: tuple[torch.Tensor, torch.Tensor],
    teacher: tuple[torch.Tensor, torch.Tensor],
    attention_mask: torch.Tensor,
    rows: torch.Tensor,
    temperature: float,
) -> torch.Tensor:
    """KL(teacher || student) of the start and end distributions over each window's tokens, softened
    by ``temperature`` (and scaled by its square, so its gradients keep their size), averaged over the
    windows in ``rows`` (a bool mask); 0 where there are none."""
    if not bool(rows.any()):
        return student[0].new_zeros(())
    padding = attention_mask[rows] == 0
    total = student[0].new_zeros(())
    for student_logits, teacher_logits in zip(student, teacher, strict=True):
        s = (student_logits[rows].float() / temperature).masked_fill(padding, -1e4)
        t = (teacher_logits[rows].float() / temperature).masked_fill(padding, -1e4)
        total = total + torch.nn.functional.kl_div(
            torch.log_softmax(s, -1), torch.log_softmax(t, -1), log_target=True, reduction="batchmean"
        )
    return total / 2 * temperature**2
