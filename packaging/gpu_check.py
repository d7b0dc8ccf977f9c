"""The device check for a machine with a GPU: the bundled model on the GPU and on the CPU, side by side.

    python packaging/gpu_check.py --dev ../shared/data/squad/dev-v1.1.json.gz [--limit N] [--cpu-eval]

Run with the app's own Python after the GPU's runtime is installed (README, "On a GPU"). It prints,
for the GPU and the CPU: where the model's work runs (the engine's measured placement), milliseconds
per full 384-token window at batch sizes 1, 8 and 32, the seconds to read every window of the
bench's book (dev-v1.1 articles joined to about 150,000 words, ``evaluation.bench.book_text``), and
on dev-v1.1 (``eval``: each question against its paragraph) the seconds, EM and F1, with the share
of first answers the GPU and the CPU agree on; then which of them ``--device auto`` keeps there
(``core.device_timing``: measured once, the figures in its placement when the CPU won). The CPU
reads every window of the book but, unless ``--cpu-eval``, only the first ``--limit`` dev questions
(all of them take it ten minutes or more).

Targets on a current NVIDIA GPU: the whole book in at most 2 s, dev-v1.1 in at most 60 s. The
script measures and prints; it asserts nothing. The GPU reads in batches of ``--gpu-batch``
windows (its fp16 model answers alike at every batch size); the CPU in the model's own batch of one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from reading_assistant.core.engine import QAEngine, open_engine
from reading_assistant.core.options import Choices
from reading_assistant.evaluation.bench import book_text, ms_per_window
from reading_assistant.evaluation.evaluate import EvaluationRun, best_span, metrics, run_engine
from reading_assistant.evaluation.squad import load_squad

BOOK_TARGET_SECONDS = 2.0
EVAL_TARGET_SECONDS = 60.0
SPEED_WINDOWS = 96
BATCH_SIZES = (1, 8, 32)
BOOK_QUESTION = "Who led the army?"


def describe(engine: QAEngine) -> dict:
    return {"model_file": engine.model.path.name, "placement": engine.placement, "warnings": list(engine.warnings)}


def read_book(engine: QAEngine, book: str, batch_size: int) -> dict:
    """Every window of the book, once: the seconds from the question to its answers, after the
    book was tokenized and indexed (as the window does when a document opens; timed apart)."""
    started = time.perf_counter()
    engine.prepare(book)
    prepared = time.perf_counter()
    prediction = engine.ask(book, BOOK_QUESTION, Choices(batch_size=batch_size, ranked=False, max_windows=0))
    return {
        "seconds": time.perf_counter() - prepared,
        "prepare_seconds": prepared - started,
        "windows": prediction.windows,
        "batch_size": batch_size,
    }


def evaluate(engine: QAEngine, dataset, limit: int, batch_size: int | None) -> tuple[dict, EvaluationRun]:
    started = time.perf_counter()
    run = run_engine(engine, dataset, limit, choices=Choices(batch_size=batch_size))
    seconds = time.perf_counter() - started
    scores = metrics(run, unanswerable_aware=False)
    return {
        "questions": len(run.questions),
        "seconds": seconds,
        "exact": scores["exact_match"],
        "f1": scores["f1"],
    }, run


def agreement(gpu: EvaluationRun, cpu: EvaluationRun) -> dict:
    shared = min(len(gpu.predictions), len(cpu.predictions))
    same = sum(
        best_span(a) == best_span(b) for a, b in zip(gpu.predictions[:shared], cpu.predictions[:shared], strict=True)
    )
    return {"questions": shared, "same_first_answer_percent": 100 * same / max(shared, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, required=True, help="SQuAD dev-v1.1 (read, never copied)")
    parser.add_argument("--limit", type=int, default=1000, help="dev questions the CPU reads (default 1000)")
    parser.add_argument("--cpu-eval", action="store_true", help="the CPU reads every dev question too")
    parser.add_argument("--gpu-batch", type=int, default=32, help="windows per GPU call (default 32)")
    parser.add_argument("--model", type=Path, help="a model folder (default: the bundled model)")
    arguments = parser.parse_args(argv)

    dataset = load_squad(arguments.dev)
    book, chapters = book_text(dataset.articles)
    report: dict = {"book_words": len(book.split()), "book_chapters": chapters}
    gpu = open_engine(arguments.model, device="gpu")
    cpu = open_engine(arguments.model, device="cpu")
    report["gpu"] = describe(gpu)
    report["cpu"] = describe(cpu)
    if gpu.device_name == "CPU":
        print(json.dumps(report, indent=2))
        print("no GPU runs the model here: see the warnings above", file=sys.stderr)
        return 1

    report["gpu"]["ms_per_window"] = ms_per_window(gpu, book, BATCH_SIZES, SPEED_WINDOWS)
    report["cpu"]["ms_per_window"] = ms_per_window(cpu, book, (1,), SPEED_WINDOWS // 4)
    report["gpu"]["book"] = read_book(gpu, book, arguments.gpu_batch)
    report["cpu"]["book"] = read_book(cpu, book, 1)
    report["gpu"]["dev"], gpu_run = evaluate(gpu, dataset, 0, arguments.gpu_batch)
    report["cpu"]["dev"], cpu_run = evaluate(cpu, dataset, 0 if arguments.cpu_eval else arguments.limit, None)
    report["agreement"] = agreement(gpu_run, cpu_run)
    # What the default device makes of this machine: it times a window on both, once, and keeps the faster.
    report["auto"] = describe(open_engine(arguments.model, device="auto"))
    report["targets"] = {
        "book_seconds": {"target": BOOK_TARGET_SECONDS, "gpu": report["gpu"]["book"]["seconds"]},
        "dev_seconds": {"target": EVAL_TARGET_SECONDS, "gpu": report["gpu"]["dev"]["seconds"]},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
