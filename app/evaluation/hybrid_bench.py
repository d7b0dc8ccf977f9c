"""``python -m reading_assistant.evaluation.hybrid_bench``: does the library's meaning (its passages'
embeddings) find the right windows of a long document sooner than BM25 alone? Printed, never asserted.

The book is the one ``bench`` builds (dev-v1.1 articles joined as chapters until about
``BOOK_WORDS`` words), written as a text file and indexed, embeddings included, in a temporary
library (the time that takes is reported). A seeded sample of its questions (``bench``'s book
questions) is split in two halves: the fusion is chosen on the first (the "fit" half) and the
figures that count are the second's (the "held-out" half); both are printed.

Each question is read as the early answers read it (ranked, 24 windows, the answers streamed after
8, 16 and 24 windows) in each order:
- ``bm25``: the engine's own order (BM25 between the question and each window);
- ``rrf``: reciprocal rank fusion (k=60) of the BM25 ranking and the meaning ranking, a window's
  meaning being the best cosine between the question and the passages that overlap it;
- ``zsum``: the sum of the two scores each standardised over the document's windows (CombSUM of
  z-scores), a fusion of scores rather than of ranks: what the engine does when it is given the
  library's meaning (``ranking.hybrid_order``), and read here through that very hook
  (``core.library.meaning.LibraryMeaning``);
- ``meaning``: the meaning ranking alone, for reference (never a candidate).
Every order keeps BM25's priors (what each window adds to its spans' scores). The figures are the
official SQuAD exact match and F1 of the best answer shown after each budget, and the recall of a
window holding a gold answer whole among the first 8 and 24 windows. The held-out half also gets a
paired bootstrap interval of each fusion's F1 gain over BM25. Dev questions are only scored here:
nothing is tuned on the half that is reported.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np

from ..core import engine as engine_module
from ..core.documents import Document
from ..core.embedding import open_embedder
from ..core.engine import QAEngine, open_engine
from ..core.library import READING, Library
from ..core.library.meaning import LibraryMeaning, document_vectors
from ..core.library.search import RRF_K
from ..core.options import EARLY_ANSWERS, EARLY_WINDOWS
from ..core.ranking import bm25_scores, hybrid_order, reading_order, window_meaning
from ..core.reading import Answers, Planned, Prediction
from .bench import BOOK_WORDS, DEFAULT_DEV, book_text
from .squad import SquadArticle, SquadQuestion, load_squad, score_question

QUESTIONS = 600  # split in two halves: fit and held-out
SEED = 11  # bench's seed for its book questions
BUDGETS = (8, 16, 24)
RECALL_AT = (8, 24)
FUSIONS = ("rrf", "zsum")  # the candidates; "meaning" alone is shown for reference only
BOOTSTRAP = 2_000
Log = Callable[[str], None]
Order = Callable[[np.ndarray, np.ndarray], list[int]]


# -- the book and its questions ---------------------------------------------------------------------


@dataclass(frozen=True)
class BookQuestion:
    question: SquadQuestion
    answers: tuple[tuple[int, int], ...]  # gold answers' character spans in the book


def book_questions(articles: Sequence[SquadArticle], chapters: int, count: int, seed: int = SEED) -> list[BookQuestion]:
    """A seeded sample of the questions about the book's chapters, with where their answers lie in
    the book's text (laid out as ``bench.book_text`` lays it out)."""
    pool, offset = [], 0
    for article in articles[:chapters]:
        offset += len(article.title.replace("_", " ")) + 2
        for paragraph in article.paragraphs:
            for question in paragraph.questions:
                spans = tuple(sorted({(offset + a.start, offset + a.start + len(a.text)) for a in question.answers}))
                pool.append(BookQuestion(question, spans))
            offset += len(paragraph.context) + 2
        offset += 1  # chapters are three newlines apart, paragraphs two
    return random.Random(seed).sample(pool, min(count, len(pool)))


def index_book(book: str, folder: Path, log: Log) -> tuple[Library, str, dict]:
    """The book as a text file in a new library in ``folder``, read and embedded: the library, the
    book's path in it, and how long each stage took."""
    path = folder / "book" / "book.txt"
    path.parent.mkdir(parents=True)
    path.write_text(book, encoding="utf-8", newline="\n")
    started = time.perf_counter()
    embedder = open_embedder(device="cpu")
    library = Library(folder / "library.sqlite3", embedder)
    library.add(path.parent)
    library.sync()
    opened = time.perf_counter()
    reading_done = opened
    for progress in library.index():
        if progress.stage == READING:
            reading_done = time.perf_counter()
    finished = time.perf_counter()
    counts = library.counts()
    log(f"indexed the book: {counts['passages']} passages in {finished - opened:.1f} s")
    return (
        library,
        str(path.resolve()),
        {
            "passages": counts["passages"],
            "embedded": counts["embedded"],
            "reading_seconds": round(reading_done - opened, 2),
            "embedding_seconds": round(finished - reading_done, 2),
            "index_seconds": round(finished - opened, 2),
            "with_opening_the_embedder_seconds": round(finished - started, 2),
        },
    )


# -- orders -----------------------------------------------------------------------------------------


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each item by ``scores``, best first (ties in document order)."""
    result = np.empty(len(scores), dtype=np.int64)
    result[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return result


def rrf_order(relevance: np.ndarray, meaning: np.ndarray, k: int = RRF_K) -> list[int]:
    fused = 1.0 / (k + ranks(relevance)) + 1.0 / (k + ranks(meaning))
    return np.lexsort((ranks(relevance), -fused)).tolist()  # ties: BM25's order


ORDERS: dict[str, Order] = {
    "bm25": lambda relevance, meaning: reading_order(relevance),
    "rrf": rrf_order,
    "zsum": hybrid_order,
    "meaning": lambda relevance, meaning: np.lexsort((ranks(relevance), -meaning)).tolist(),
}


# -- reading ----------------------------------------------------------------------------------------


class RememberingModel:
    """The engine's model, remembering each window's logits: the orders of one question share most
    of their windows, which are then run once (a window's logits never depend on when it is read)."""

    def __init__(self, model) -> None:
        self.model = model
        self.logits: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.runs = 0

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def run(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        key = b"".join(inputs[name].tobytes() for name in sorted(inputs))
        if key not in self.logits:
            self.runs += 1
            self.logits[key] = self.model.run(inputs)
        return self.logits[key]


@contextmanager
def remembering(engine: QAEngine):
    model = engine.model
    engine.model = RememberingModel(model)
    try:
        yield engine.model
    finally:
        engine.model = model


@contextmanager
def reading_in(order: list[int] | None):
    """The engine reads its windows in ``order`` (None: its own)."""
    if order is None:
        yield
        return
    with mock.patch.object(
        engine_module, "_windows_to_read", lambda relevance, options, meaning=None: order[: options.max_windows]
    ):
        yield


def shown_after(
    engine: QAEngine, document: Document, question: str, meaning: Callable | None = None
) -> tuple[dict[int, Prediction], list]:
    """What an early-answers read shows after each budget, and the spans of the windows it read."""
    seen: dict[int, Prediction] = {}
    spans: list = []
    for event in engine.read([(document, question)], EARLY_ANSWERS, meaning=meaning):
        if isinstance(event, Answers):
            seen[event.prediction.windows] = event.prediction
        elif isinstance(event, Planned):
            spans = event.spans
    return {b: seen[max(n for n in seen if n <= b)] for b in BUDGETS}, spans


@dataclass
class QuestionResult:
    em: dict[str, dict[int, float]]
    f1: dict[str, dict[int, float]]
    found: dict[str, dict[int, bool]]  # a window holding a gold answer whole among the first k


def measure_question(
    engine: QAEngine,
    document: Document,
    case: BookQuestion,
    passages: list[tuple[int, int, float]],
    hook: Callable,
) -> QuestionResult:
    question = case.question.question
    options = engine.resolve(EARLY_ANSWERS)
    tokens = engine.tokenize_document(document.text)
    plan = engine._plan(tokens, question, options)
    relevance = bm25_scores(engine._term_index(tokens), plan)
    first = plan.starts
    last = plan.starts + plan.lengths - 1
    windows = np.stack([tokens.offsets[first, 0], tokens.offsets[last, 1]], axis=1)
    meaning = window_meaning(windows, passages)
    result = QuestionResult({}, {}, {})
    for name, order in ORDERS.items():
        wanted = order(relevance, meaning)
        # BM25's order is the engine's own, zsum's the engine's own with the library's meaning.
        with reading_in(None if name in ("bm25", "zsum") else wanted):
            shown, spans = shown_after(engine, document, question, hook if name == "zsum" else None)
        # The engine read what this order says.
        assert [tuple(s) for s in spans] == [tuple(w) for w in windows[wanted[:EARLY_WINDOWS]].tolist()]
        scores = {b: score_question(p.answers[0].text if p.answers else "", case.question) for b, p in shown.items()}
        result.em[name] = {b: s[0] for b, s in scores.items()}
        result.f1[name] = {b: s[1] for b, s in scores.items()}
        holds = [
            any(start <= a and b <= end for a, b in case.answers) for start, end in windows[wanted[: max(RECALL_AT)]]
        ]
        result.found[name] = {k: any(holds[:k]) for k in RECALL_AT}
    return result


# -- figures ----------------------------------------------------------------------------------------


def summary(results: Sequence[QuestionResult]) -> dict:
    report: dict = {"questions": len(results)}
    for name in ORDERS:
        row: dict = {}
        for b in BUDGETS:
            row[f"f1@{b}"] = round(100 * float(np.mean([r.f1[name][b] for r in results])), 2)
            row[f"em@{b}"] = round(100 * float(np.mean([r.em[name][b] for r in results])), 2)
        for k in RECALL_AT:
            row[f"answer_window_recall@{k}"] = round(100 * float(np.mean([r.found[name][k] for r in results])), 2)
        report[name] = row
    return report


def chosen_fusion(fit: Sequence[QuestionResult]) -> tuple[str, dict[str, float]]:
    """The candidate fusion with the best mean F1 over the budgets on the fit half."""
    means = {name: float(np.mean([np.mean(list(r.f1[name].values())) for r in fit])) for name in FUSIONS}
    return max(FUSIONS, key=lambda name: means[name]), {k: round(100 * v, 2) for k, v in means.items()}


def paired_gain(results: Sequence[QuestionResult], name: str, seed: int = SEED) -> dict:
    """Mean F1 gain of ``name`` over BM25 at each budget, with a paired bootstrap 95% interval and
    how many questions each order answers better."""
    rng = np.random.default_rng(seed)
    report = {}
    for b in BUDGETS:
        gains = np.array([r.f1[name][b] - r.f1["bm25"][b] for r in results])
        samples = rng.integers(0, len(gains), size=(BOOTSTRAP, len(gains)))
        low, high = np.percentile(gains[samples].mean(axis=1), [2.5, 97.5])
        report[f"f1@{b}"] = {
            "gain": round(100 * float(gains.mean()), 2),
            "ci95": [round(100 * float(low), 2), round(100 * float(high), 2)],
            "better": int((gains > 0).sum()),
            "worse": int((gains < 0).sum()),
        }
    return report


def run(dev_path: Path, questions: int, book_words: int, log: Log) -> dict:
    dataset = load_squad(dev_path)
    book, chapters = book_text(dataset.articles, book_words)
    cases = book_questions(dataset.articles, chapters, questions)
    for case in cases:
        assert any(book[s:e] == a.text for s, e in case.answers for a in case.question.answers)
    engine = open_engine(device="cpu")
    report: dict = {"model": engine.name, "book_words": len(book.split()), "chapters": chapters}
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-") as folder:
        library, path, report["indexing"] = index_book(book, Path(folder), log)
        try:
            document = library.document(path)
            assert document is not None and document.text == book
            spans, vectors = document_vectors(library, path, book)
            embedder = library.embedder
            hook_seconds: list[float] = []
            library_meaning = LibraryMeaning(library)

            def hook(document: Document, question: str) -> list[tuple[int, int, float]]:
                asked = time.perf_counter()
                found = library_meaning(document, question)
                hook_seconds.append(time.perf_counter() - asked)
                return found

            report["windows"] = len(engine._plan(engine.prepare(book), "a question", engine.resolve(EARLY_ANSWERS)))
            results = []
            started = time.perf_counter()
            question_seconds = []
            with remembering(engine) as model:
                for number, case in enumerate(cases, start=1):
                    asked = time.perf_counter()
                    cosines = vectors @ embedder.embed([case.question.question])[0]
                    question_seconds.append(time.perf_counter() - asked)
                    passages = [(s, e, c) for (s, e), c in zip(spans.tolist(), cosines.tolist(), strict=True)]
                    results.append(measure_question(engine, document, case, passages, hook))
                    model.logits.clear()
                    if number % 25 == 0:
                        log(f"  {number} of {len(cases)} questions ({time.perf_counter() - started:.0f} s)")
                report["windows_run"] = model.runs
            report["question_embedding_ms_median"] = round(1000 * float(np.median(question_seconds)), 1)
            # What the hook adds to a read: embedding the question and a cosine per passage.
            report["meaning_hook_ms_median"] = round(1000 * float(np.median(hook_seconds)), 1)
        finally:
            library.close()
    half = len(results) // 2
    fit, held_out = results[:half], results[half:]
    name, fit_means = chosen_fusion(fit)
    report["fusions_tried"] = {"rrf": f"reciprocal rank fusion, k={RRF_K}", "zsum": "sum of z-scored BM25 and cosine"}
    report["chosen_on_fit_half"] = {"fusion": name, "mean_f1_over_budgets": fit_means}
    report["fit_half"] = summary(fit)
    report["held_out_half"] = summary(held_out)
    report["held_out_gain_over_bm25"] = {fusion: paired_gain(held_out, fusion) for fusion in FUSIONS}
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reading_assistant.evaluation.hybrid_bench", description=__doc__)
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="SQuAD dev-v1.1 (JSON, plain or .gz)")
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="book questions, split in two halves")
    parser.add_argument("--book-words", type=int, default=BOOK_WORDS)
    parser.add_argument("--output", type=Path, help="also write the report here (JSON)")
    arguments = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run(arguments.dev, arguments.questions, arguments.book_words, log)
    text = json.dumps(report, indent=2)
    print(text)
    if arguments.output is not None:
        arguments.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
