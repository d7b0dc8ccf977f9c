"""``reading-assistant bench``: speed, long-document and accuracy figures, printed and never asserted.

Everything is measured in one run on one model file:
- milliseconds per full 384-token window at batch sizes 1, 8 and 32, and windows per second;
- a book-length document (dev-v1.1 articles joined until about 150,000 words): time to the first
  answer in ranked mode, and the time to read every window;
- whole-article SQuAD: dev-v1.1 questions asked against their entire article, F1 and time when
  reading everything versus ranked early answers (and the same on the book);
- peak memory, and the Hugging Face question-answering pipeline on the same ONNX file.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.documents import Document
from ..core.documents.loading import text_document
from ..core.engine import PARTIAL_WINDOWS, QAEngine
from ..core.options import EARLY_ANSWERS, EARLY_WINDOWS, MODELS_OWN, Choices
from ..core.reading import Answers, Prediction, Progress
from .squad import SquadArticle, SquadQuestion, load_squad, score_question

BOOK_WORDS = 150_000
# Where the README lays SQuAD out: beside the repository, read from the repository's root.
DEFAULT_DEV = Path("../shared/data/squad/dev-v1.1.json.gz")
# SQuAD 2.0's dev set shares 19 articles with the book: its unanswerable questions test the early stop.
DEFAULT_DEV_V2 = Path("../shared/data/squad/dev-v2.0.json.gz")


@dataclass(frozen=True)
class Case:
    """A question about a long document, with its gold answers."""

    text: Document | str  # a Document keeps its headings, as the app's text documents do
    question: SquadQuestion


def article_text(article: SquadArticle) -> str:
    return "\n\n".join(p.context for p in article.paragraphs)


def book_text(articles: tuple[SquadArticle, ...], book_words: int = BOOK_WORDS) -> tuple[str, int]:
    """Articles joined, as chapters, until the book has about ``book_words`` words."""
    chapters, words = [], 0
    for article in articles:
        chapters.append(f"{article.title.replace('_', ' ')}\n\n{article_text(article)}")
        words += len(chapters[-1].split())
        if words >= book_words:
            break
    return "\n\n\n".join(chapters), len(chapters)


def sample_questions(articles: tuple[SquadArticle, ...], count: int, seed: int = 7) -> list[tuple[int, SquadQuestion]]:
    pool = [(a, q) for a, article in enumerate(articles) for p in article.paragraphs for q in p.questions]
    return random.Random(seed).sample(pool, min(count, len(pool)))


def ms_per_window(engine: QAEngine, text: str, batch_sizes: tuple[int, ...], windows: int) -> dict[int, float]:
    """Milliseconds per full-length window at each batch size, over the first ``windows`` windows.

    Timed between the first and the last batch the reading loop reports, so the question's
    planning and the final answers are not counted.
    """
    result = {}
    for batch in batch_sizes:
        engine.ask(text, "What is this text about?", Choices(batch_size=batch, max_windows=batch))
        choices = Choices(batch_size=batch, max_windows=windows)
        reports = [
            (time.perf_counter(), event.done)
            for event in engine.read([(text, "What is this text about?")], choices)
            if isinstance(event, Progress)
        ]
        (first_time, first_done), (last_time, last_done) = reports[0], reports[-1]
        result[batch] = 1000 * (last_time - first_time) / (last_done - first_done)
    return result


def accuracy(engine: QAEngine, cases: list[Case], choices: Choices) -> dict[str, float]:
    f1s, seconds, first = [], [], []
    for case in cases:
        seen = streamed_predictions(engine, case, choices)
        prediction = seen[max(seen)]
        f1s.append(best_f1(prediction, case.question))
        seconds.append(prediction.seconds)
        first.append(seen[min(seen)].seconds)
    return {
        "f1": 100 * float(np.mean(f1s)),
        "mean_seconds": float(np.mean(seconds)),
        "mean_first_answer_seconds": float(np.mean(first)),
        "questions": len(cases),
    }


def ranked_accuracy(engine: QAEngine, cases: list[Case], choices: Choices, windows: int) -> dict[str, dict]:
    """F1 of the answers a reader sees after the first 8, 16, … ``windows`` ranked windows.

    One ranked reading per question: the answers streamed along the way are the earlier budgets'.
    """
    budgets = sorted({*range(PARTIAL_WINDOWS, windows, PARTIAL_WINDOWS), windows})
    f1s: dict[int, list[float]] = {b: [] for b in budgets}
    seconds: dict[int, list[float]] = {b: [] for b in budgets}
    for case in cases:
        seen = streamed_predictions(engine, case, Choices(ranked=True, max_windows=windows).over(choices))
        for budget in budgets:
            # What was on screen after ``budget`` windows (a short document is read whole sooner; a
            # model reading big batches streams its first answers after more windows).
            shown = [count for count in seen if count <= budget]
            prediction = seen[max(shown)] if shown else seen[min(seen)]
            f1s[budget].append(best_f1(prediction, case.question))
            seconds[budget].append(prediction.seconds)
    return {
        f"ranked_first_{b}_windows": {
            "f1": 100 * float(np.mean(f1s[b])),
            "mean_seconds": float(np.mean(seconds[b])),
            "questions": len(cases),
        }
        for b in budgets
    }


def streamed_predictions(engine: QAEngine, case: Case, choices: Choices) -> dict[int, Prediction]:
    """Every prediction shown while one question is read, keyed by the windows read so far."""
    seen: dict[int, Prediction] = {}
    for event in engine.read([(case.text, case.question.question)], choices):
        if isinstance(event, Answers):
            if event.final:
                seen[event.prediction.windows] = event.prediction
            else:
                seen.setdefault(event.prediction.windows, event.prediction)
    return seen


def best_f1(prediction: Prediction, question: SquadQuestion) -> float:
    best = prediction.answers[0].text if prediction.answers else ""
    return score_question(best, question)[1]


def baseline_pipeline(
    model_dir: Path, text: str, question: str, engine: QAEngine, ours: Prediction
) -> dict[str, float] | str:
    """Hugging Face's question-answering pipeline over optimum's ONNX Runtime model, same file."""
    try:
        from optimum.onnxruntime import ORTModelForQuestionAnswering
        from transformers import PreTrainedTokenizerFast, pipeline
    except ImportError:
        return "not measured: install the train extra (optimum-onnx, transformers) for the baseline"
    if not (model_dir / "config.json").exists():
        return "not measured: optimum needs the model's transformers config.json beside the ONNX file"
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(engine.folder.tokenizer_path),
        cls_token="[CLS]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        unk_token="[UNK]",
        mask_token="[MASK]",
    )
    model = ORTModelForQuestionAnswering.from_pretrained(model_dir, file_name=engine.folder.onnx_path.name)
    qa = pipeline("question-answering", model=model, tokenizer=tokenizer)
    options = engine.resolve()
    settings = options.windows
    # The pipeline's doc_stride is the overlap between windows; ours is the step between them.
    # Both are set so that the pipeline reads the very windows our engine read for this question.
    overlap = ours.window_tokens - min(settings.doc_stride, ours.window_tokens)
    windows = len(
        tokenizer(
            question,
            text,
            truncation="only_second",
            max_length=settings.seq_len,
            stride=overlap,
            return_overflowing_tokens=True,
        )["input_ids"]
    )
    started = time.perf_counter()
    qa(
        question=question,
        context=text,
        max_seq_len=settings.seq_len,
        doc_stride=overlap,
        max_question_len=settings.query_len,
        max_answer_len=options.max_answer_len,
    )
    seconds = time.perf_counter() - started
    return {"windows": windows, "seconds": seconds, "windows_per_second": windows / seconds}


def run_bench(
    engine: QAEngine,
    model_dir: Path,
    dev_path: Path,
    article_questions: int,
    book_questions: int,
    early_windows: int,
    log: Callable[[str], None],
    book_words: int = BOOK_WORDS,
    early_stop_questions: int = 0,
    v2_path: Path = DEFAULT_DEV_V2,
) -> dict:
    dataset = load_squad(dev_path)
    articles = dataset.articles
    book, chapters = book_text(articles, book_words)
    windows = engine.resolve().windows
    report: dict = {
        "model": engine.name,
        "device": engine.device_name,
        "seq_len": windows.seq_len,
        "doc_stride": windows.doc_stride,
    }

    log("preparing the book…")
    # Timed first, while the book is not yet in the engine's cache.
    started = time.perf_counter()
    tokens = engine.prepare(book)
    prepare_seconds = time.perf_counter() - started
    report["book"] = {
        "words": len(book.split()),
        "chapters": chapters,
        "tokens": len(tokens),
        "prepare_seconds": round(prepare_seconds, 3),
    }

    question = next(q for _, q in sample_questions(articles[:chapters], 1))
    everything = MODELS_OWN
    log("book: ranked first answer…")
    # The first answers a reader sees are streamed after the most relevant PARTIAL_WINDOWS windows.
    first_answers = Choices(ranked=True, max_windows=PARTIAL_WINDOWS)
    first_prediction = engine.ask(book, question.question, first_answers)
    first = first_prediction.seconds
    report["book"]["windows"] = first_prediction.total_windows
    log("book: reading every window…")
    full_prediction = engine.ask(book, question.question, everything)
    report["first_answer_seconds"] = round(first, 3)
    report["total_seconds"] = round(full_prediction.seconds, 3)
    report["book"]["engine_windows_per_second"] = round(full_prediction.windows / full_prediction.seconds, 2)

    # Our engine's peak memory reading the book as the app does (one window per call), taken before
    # bigger batches are timed (batch 32 alone holds about 470 MB of activations) and before the
    # baseline imports torch and transformers.
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)

    log("timing batches…")
    per_window = ms_per_window(engine, book, (1, 8, 32), windows=64)
    report["ms_per_window"] = {str(k): round(v, 2) for k, v in per_window.items()}
    report["windows_per_second"] = round(1000 / min(per_window.values()), 2)
    report["peak_rss_mb_after_batch_timing"] = round(peak_rss_mb(), 1)
    log("baseline: Hugging Face pipeline on the book…")
    baseline = baseline_pipeline(model_dir, book, question.question, engine, full_prediction)
    report["baseline"] = baseline
    if isinstance(baseline, dict):
        ours = full_prediction.windows / full_prediction.seconds
        report["baseline_windows_per_second"] = round(baseline["windows_per_second"], 2)
        report["speedup_vs_baseline"] = round(ours / baseline["windows_per_second"], 2)
        report["answer_speedup_vs_baseline"] = round(baseline["seconds"] / first, 1)

    if article_questions:
        log(f"whole-article SQuAD: {article_questions} questions, two modes…")
        cases = [Case(article_text(articles[a]), q) for a, q in sample_questions(articles, article_questions)]
        report["whole_article"] = {
            "read_everything": accuracy(engine, cases, everything),
            **ranked_accuracy(engine, cases, everything, early_windows),
        }
    if book_questions:
        log(f"book: {book_questions} questions, two modes…")
        # As a reader's text file: its chapter titles are headings.
        book_document = text_document(book, "book.txt")
        cases = [Case(book_document, q) for _, q in sample_questions(articles[:chapters], book_questions, seed=11)]
        report["book_accuracy"] = {
            "read_everything": accuracy(engine, cases, everything),
            **ranked_accuracy(engine, cases, everything, early_windows),
        }
    if early_stop_questions and v2_path.exists():
        log(f"book: early stop on a settled 'no answer', {early_stop_questions} SQuAD v2.0 questions…")
        titles = {article.title for article in articles[:chapters]}
        report["early_stop"] = early_stop_replay(engine, book, titles, v2_path, early_stop_questions, early_windows)
    report["peak_rss_mb_with_baseline"] = round(peak_rss_mb(), 1)
    return report


def early_stop_replay(
    engine: QAEngine,
    book: str,
    book_titles: set[str],
    v2_path: Path,
    questions: int,
    early_windows: int = EARLY_WINDOWS,
    seed: int = 5,
) -> dict:
    """What the window's early stop does on the book: SQuAD v2.0 dev questions about its chapters.

    The window stops reading when, after the first ``early_windows`` ranked windows, the model still
    says "no answer" (``has_answer`` False) and offers "Read the rest". The answers shown at that
    point are exactly those of a ranked read budgeted to ``early_windows`` windows, so each question
    is read that far only; the time a stop saves is the rest of the book at the measured speed.
    Half the questions are answerable (a stop there is wrong), half unanswerable (a stop is right).
    The same reads are replayed with other no-answer thresholds on the null odds (the quartiles of
    the unanswerable questions' null odds), to show what a better calibrated "no answer" would do.
    """
    dataset = load_squad(v2_path)
    pool = {False: [], True: []}
    for article in dataset.articles:
        if article.title in book_titles:
            for paragraph in article.paragraphs:
                for question in paragraph.questions:
                    pool[question.is_impossible].append(question)
    rng = random.Random(seed)
    chosen = {kind: rng.sample(items, min(questions // 2, len(items))) for kind, items in pool.items()}
    choices = Choices(max_windows=early_windows).over(EARLY_ANSWERS)
    rows = []
    for impossible, items in chosen.items():
        for question in items:
            prediction = engine.ask(book, question.question, choices)
            rows.append((impossible, prediction, question))
    total_windows = rows[0][1].total_windows if rows else 0
    seconds_per_window = float(np.mean([p.seconds / max(1, p.windows) for _, p, _ in rows])) if rows else 0.0

    def tally(stops: Callable[[Prediction], bool]) -> dict:
        answerable = [(p, q) for impossible, p, q in rows if not impossible]
        unanswerable = [p for impossible, p, _ in rows if impossible]
        wrong = [(p, q) for p, q in answerable if stops(p)]
        right = [p for p in unanswerable if stops(p)]
        saved = sum(p.total_windows - p.windows for p in [*right, *(p for p, _ in wrong)]) * seconds_per_window
        return {
            "answerable_questions": len(answerable),
            "answerable_stopped_wrongly": len(wrong),
            "answerable_stopped_whose_early_answer_was_right": sum(best_f1(p, q) >= 0.5 for p, q in wrong),
            "unanswerable_questions": len(unanswerable),
            "unanswerable_stopped_early": len(right),
            "seconds_saved_total": round(saved, 1),
        }

    def quartiles(impossible: bool) -> list[float]:
        odds = [p.null_odds for i, p, _ in rows if i == impossible]
        return [round(float(q), 2) for q in np.percentile(odds, [0, 25, 50, 75, 100])] if odds else []

    report = {
        "early_windows": early_windows,
        "book_windows": total_windows,
        "seconds_per_window": round(seconds_per_window, 4),
        "seconds_to_read_the_book": round(total_windows * seconds_per_window, 1),
        "model_threshold": tally(lambda p: not p.has_answer),
        "null_odds_quartiles_answerable": quartiles(False),
        "null_odds_quartiles_unanswerable": quartiles(True),
    }
    for name, threshold in zip(("q25", "q50", "q75"), quartiles(True)[1:4], strict=False):
        report[f"threshold_unanswerable_{name}_{threshold:+.2f}"] = tally(lambda p, t=threshold: p.null_odds > t)
    return report


def peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 2**20 if sys.platform == "darwin" else usage / 1024
