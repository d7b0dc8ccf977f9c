"""Reliability diagrams: how often answers shown at each confidence are right (matplotlib, ``train`` extra).

``python -m reading_assistant.training.reliability --eval-dir DIR --output PNG [--title T]``
reads what ``reading-assistant eval FILE --output-dir DIR`` wrote (``first_shown.json``: what the
app says first, the top answer or "not in this document", and the probability it shows) and plots,
over ten equal confidence bins, the share of those that are right (an exact match against every
reference, or "not in this document" for a question without an answer) against their mean
confidence, with the number of questions in each bin and the ECE in the title.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..evaluation.evaluate import expected_calibration_error


def reliability_bins(confidences: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean confidence, accuracy, count) of each non-empty bin, as ``expected_calibration_error`` bins them."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidences, edges[1:-1]), 0, bins - 1)
    return [
        (float(confidences[which == b].mean()), float(correct[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


def reliability_diagram(
    confidences: np.ndarray,
    correct: np.ndarray,
    output: Path,
    title: str,
    ylabel: str = "share right (answer, or rightly no answer)",
) -> float:
    """Write the diagram to ``output`` (PNG); returns the ECE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confidences, correct = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    ece = expected_calibration_error(confidences, correct)
    rows = reliability_bins(confidences, correct)
    figure, axis = plt.subplots(figsize=(4.6, 4.6), dpi=100)
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    axis.bar([m for m, _, _ in rows], [a for _, a, _ in rows], width=0.08, color="#4c78a8", alpha=0.8, label="accuracy")
    axis.plot([m for m, _, _ in rows], [a for _, a, _ in rows], "o-", color="#e45756", markersize=4)
    for mean, accuracy, count in rows:
        axis.annotate(str(count), (mean, accuracy), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("confidence shown")
    axis.set_ylabel(ylabel)
    axis.set_title(f"{title}\nECE {ece:.3f}, {len(confidences):,} questions", fontsize=9)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output)
    plt.close(figure)
    return ece


def first_shown(eval_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(probability shown, right) of what the app says first about each question of an ``eval`` folder."""
    shown = json.loads((eval_dir / "first_shown.json").read_text(encoding="utf-8"))
    return (
        np.array([row["probability"] for row in shown.values()], dtype=float),
        np.array([row["right"] for row in shown.values()], dtype=float),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, required=True, help="reading-assistant eval's --output-dir")
    parser.add_argument("--output", type=Path, required=True, help="PNG to write")
    parser.add_argument("--title", default="what is shown first")
    arguments = parser.parse_args(argv)
    confidences, correct = first_shown(arguments.eval_dir)
    ece = reliability_diagram(confidences, correct, arguments.output, arguments.title)
    print(json.dumps({"questions": len(confidences), "top1_ece": ece, "output": str(arguments.output)}))


if __name__ == "__main__":
    main()
