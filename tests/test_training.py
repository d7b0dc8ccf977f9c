"""The training run's time budget: how many steps its learning-rate schedule keeps (no model is trained)."""

from reading_assistant.training.train import affordable_steps


def test_every_planned_step_is_kept_when_they_fit() -> None:
    assert affordable_steps(step=100, planned=1000, seconds_per_step=0.1, seconds_left=1000.0) == 1000


def test_the_schedule_ends_at_the_deadline_when_they_do_not() -> None:
    assert affordable_steps(step=100, planned=1000, seconds_per_step=0.5, seconds_left=100.0) == 300


def test_a_run_past_its_deadline_still_takes_one_more_step() -> None:
    assert affordable_steps(step=100, planned=1000, seconds_per_step=1.0, seconds_left=-5.0) == 101
