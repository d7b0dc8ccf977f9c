"""``python -m reading_assistant.evaluation.library_bench``: how well and how fast the library finds
and answers, printed and never asserted.

Every library is built from SQuAD in a temporary folder (text files and a temporary SQLite file)
and deleted afterwards. Hybrid search (BM25 and embeddings fused) is measured beside BM25 alone:
1. retrieval recall@k of the question's paragraph, with the 48 dev-v1.1 articles as the library
   (one text file per article, paragraphs separated by blank lines), then with train paragraphs
   added as distractor documents (one paragraph per file) until it holds about 20,000 passages;
2. end-to-end exact match and F1 (official SQuAD normalisation) asking the whole large library
   (search, then the reader on the found passages with the early-answer choices) versus the
   reader on the right article alone, with the same choices;
3. index build rates (documents and passages per minute, reading and embedding), the library
   file's size and the peak memory while indexing the large library;
4. first-answer latency at 1,000 and 10,000 documents (train paragraphs, one per file, with the
   paragraphs of a few dev articles whose questions are asked), search time shown apart.

A passage is a hit when it is in the question's file and holds the position of one of its gold
answers (``answer_start`` in that file's text). Dev questions are only ever asked and scored here;
nothing is tuned on them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.documents import Document
from ..core.library import READING, Library, PassageHit, ReadingSet
from ..core.library.indexer import TextEmbedder
from ..core.options import EARLY_ANSWERS, Choices
from ..core.reading import Answers, ReadingEngine
from .library_corpus import (
    SEED,
    GoldQuestion,
    LoneParagraph,
    WrittenFile,
    gold_in_file,
    paragraphs_for_passages,
    sample_article_questions,
    shuffled_paragraphs,
    write_article_files,
    write_paragraph_files,
)
from .library_summary import summary
from .squad import load_squad, squad_metrics

# Where the README lays SQuAD out: beside the repository, read from the repository's root.
DEFAULT_DEV = Path("../shared/data/squad/dev-v1.1.json.gz")
DEFAULT_TRAIN = Path("../shared/data/squad/train-v1.1.json.gz")
RECALL_AT = (1, 5, 10, 24)
RECALL_QUESTIONS = 1_000
ANSWER_QUESTIONS = 200
LIBRARY_PASSAGES = 20_000
LATENCY_SIZES = (1_000, 10_000)
LATENCY_QUESTIONS = 30
LATENCY_ARTICLES = 6  # the dev articles whose paragraphs the latency libraries hold, and whose questions they ask
FIRST_ANSWER_TARGET_S = 1.0
SEARCH_LIMIT = max(RECALL_AT)
Log = Callable[[str], None]


# -- building a library -----------------------------------------------------------------------------


class RememberingEmbedder:
    """Embeds each distinct text once and remembers its vector (as float16, as the library keeps it).

    The latency libraries hold mostly the large library's distractor paragraphs: their embeddings
    are taken from here, not made again. The vectors are the same either way (the bundled model
    embeds one text per call); only the large library's build times its embedding.
    """

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        self.vectors: dict[bytes, np.ndarray] = {}
        self.embedded = 0
        self.reused = 0

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, should_stop: Callable[[], bool] | None = None
    ) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest() for t in texts]
        missing = list({k: i for i, k in enumerate(keys) if k not in self.vectors}.values())
        if missing:
            fresh = self.embedder.embed([texts[i] for i in missing], batch_size, should_stop)
            for i, vector in zip(missing, fresh, strict=True):
                self.vectors[keys[i]] = np.asarray(vector, dtype=np.float16)
        self.embedded += len(missing)
        self.reused += len(texts) - len(missing)
        return np.stack([self.vectors[k].astype(np.float32) for k in keys]) if keys else np.zeros((0, 0))


def rss_mb(field: str = "VmRSS") -> float | None:
    """This process's resident memory (``VmRSS``) or its high-water mark (``VmHWM``), in MB (Linux)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def reset_peak_memory() -> bool:
    """Start the high-water mark afresh at the memory held now (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory_mb() -> float | None:
    peak = rss_mb("VmHWM")
    if peak is not None:
        return peak
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / 2**20 if sys.platform == "darwin" else usage / 1024


def per_minute(count: int, seconds: float) -> float | None:
    return round(60 * count / seconds, 1) if seconds > 0 else None


def build_library(library: Library, folders: Sequence[Path], log: Log, embeddings_timed: bool = True) -> dict:
    """Add ``folders``, sync and index: counts, the time each stage took (wall clock, and the CPU time
    of this process, all threads) and the peak memory. ``embeddings_timed`` False: the embeddings
    were mostly reused, so no embedding rate is given."""
    before = library.counts()
    started = time.perf_counter()
    for folder in folders:
        library.add(folder)
    synced = library.sync()
    sync_seconds = time.perf_counter() - started
    peak_is_of_indexing = reset_peak_memory()
    memory_before = rss_mb()
    started = reading_done = last_log = time.perf_counter()
    started_cpu = reading_done_cpu = time.process_time()
    for progress in library.index():
        now = time.perf_counter()
        if progress.stage == READING:
            reading_done, reading_done_cpu = now, time.process_time()
        if now - last_log > 30:
            log(f"  {progress.stage}: {progress.done:,} of {progress.total:,}")
            last_log = now
    finished, finished_cpu = time.perf_counter(), time.process_time()
    after = library.counts()
    documents = after["indexed"] - before["indexed"]
    passages = after["passages"] - before["passages"]
    embedded = after["embedded"] - before["embedded"]
    reading_seconds = reading_done - started
    embedding_seconds = finished - reading_done if embedded else 0.0
    embedding_rates = embedded and embeddings_timed
    return {
        "documents": documents,
        "failed": after["failed"] - before["failed"],
        "passages": passages,
        "embedded": embedded,
        "files_found": synced.added,
        "sync_seconds": round(sync_seconds, 2),
        "reading_seconds": round(reading_seconds, 2),
        "embedding_seconds": round(embedding_seconds, 2),
        "reading_cpu_seconds": round(reading_done_cpu - started_cpu, 2),
        "embedding_cpu_seconds": round(finished_cpu - reading_done_cpu, 2) if embedded else 0.0,
        "reading_documents_per_minute": per_minute(documents, reading_seconds),
        "reading_passages_per_minute": per_minute(passages, reading_seconds),
        "embedding_documents_per_minute": per_minute(documents, embedding_seconds) if embedding_rates else None,
        "embedding_passages_per_minute": per_minute(embedded, embedding_seconds) if embedding_rates else None,
        "load_average": load_average(),
        "rss_before_mb": round(memory_before, 1) if memory_before is not None else None,
        "peak_rss_mb": round(peak, 1) if (peak := peak_memory_mb()) is not None else None,
        "peak_above_start_mb": round(peak - memory_before, 1) if peak is not None and memory_before else None,
        "peak_is_of_indexing": peak_is_of_indexing,  # False: the process's peak since it started
    }


def library_storage(library: Library) -> dict:
    """The file's size once its write-ahead log is folded in, and what takes the room."""
    wal = Path(f"{library.path}-wal")
    wal_mb = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    library.store.read("PRAGMA wal_checkpoint(TRUNCATE)")
    report: dict = {
        "file_mb": round(library.path.stat().st_size / 2**20, 1),
        "wal_mb_before_checkpoint": round(wal_mb, 1),
    }
    try:
        rows = library.store.read("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
    except Exception:  # an SQLite built without the dbstat table
        return report
    report["mb_by_table"] = {name: round(size / 2**20, 1) for name, size in rows[:8]}
    return report


def offsets_match(library: Library, written: Sequence[WrittenFile]) -> int:
    """How many of ``written`` the library holds with the very text (so offsets) of their file."""
    matched = 0
    for file in written:
        document = library.document(file.path)
        matched += document is not None and document.text == file.text
    return matched


# -- measuring --------------------------------------------------------------------------------------


def is_hit(hit: PassageHit, gold: GoldQuestion) -> bool:
    return hit.path == gold.path and any(hit.start <= position < hit.end for position in gold.positions)


def first_hit_rank(hits: Sequence[PassageHit], gold: GoldQuestion) -> int | None:
    """The 1-based rank of the first passage holding a gold answer, None when none does."""
    return next((rank for rank, hit in enumerate(hits, start=1) if is_hit(hit, gold)), None)


def median_and_p90(values: Sequence[float], scale: float = 1.0, digits: int = 3) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None}
    median, p90 = np.percentile(np.asarray(values, dtype=np.float64) * scale, [50, 90])
    return {"median": round(float(median), digits), "p90": round(float(p90), digits)}


def recall(library: Library, questions: Sequence[GoldQuestion], ks: Sequence[int] = RECALL_AT) -> dict:
    """Recall@k of the gold passage over ``questions`` (one search of ``max(ks)`` per question)."""
    ranks, seconds = [], []
    for gold in questions:
        started = time.perf_counter()
        hits = library.search(gold.question.question, limit=max(ks))
        seconds.append(time.perf_counter() - started)
        ranks.append(first_hit_rank(hits, gold))
    total = max(len(questions), 1)
    report: dict = {f"recall@{k}": round(sum(r is not None and r <= k for r in ranks) / total, 4) for k in ks}
    report["search_ms"] = median_and_p90(seconds, 1000, 1)
    return report


@dataclass(frozen=True)
class TimedRead:
    """One question asked: what was shown first and last, and when (seconds from the question)."""

    search_seconds: float
    first_seconds: float
    final_seconds: float
    first_cpu_seconds: float  # CPU time of this process (all its threads) to the first answers
    final_cpu_seconds: float
    first_answer: str
    final_answer: str
    reading: ReadingSet | None  # None: the article alone was read
    final_top_path: str | None  # the file of the top final answer (library reads only)


def timed_read(
    engine: ReadingEngine,
    question: str,
    library: Library | None = None,
    document: Document | None = None,
    choices: Choices = EARLY_ANSWERS,
) -> TimedRead:
    """Ask ``library`` (search, then read what it found) or read ``document`` alone; times from the
    question to the first and to the final answers the reader streams."""
    started, started_cpu = time.perf_counter(), time.process_time()
    reading = None
    if library is not None:
        reading = ReadingSet(library.search(question))
        document = reading.document
    searched, searched_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    if document is None or not document.text:  # the search found nothing: "not in your library"
        return TimedRead(searched, searched, searched, searched_cpu, searched_cpu, "", "", reading, None)
    first: tuple[float, float, str] | None = None
    for event in engine.read([(document, question)], choices):
        if not isinstance(event, Answers):
            continue
        best = event.prediction.answers[0] if event.prediction.answers else None
        now, now_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        if first is None:
            first = (now, now_cpu, best.text if best else "")
        if event.final:
            top_path = reading.locate(best).path if reading is not None and best is not None else None
            return TimedRead(
                searched, first[0], now, first[1], now_cpu, first[2], best.text if best else "", reading, top_path
            )
    raise AssertionError("a read ends with the answers to its question")


def answer_accuracy(reads: Sequence[TimedRead], questions: Sequence[GoldQuestion]) -> dict:
    """Official EM and F1 of the final and of the first answers, with the times they took."""
    squad = [gold.question for gold in questions]
    final = squad_metrics({g.question.id: r.final_answer for g, r in zip(questions, reads, strict=True)}, squad)
    first = squad_metrics({g.question.id: r.first_answer for g, r in zip(questions, reads, strict=True)}, squad)
    report = {
        "exact_match": round(final["exact_match"], 2),
        "f1": round(final["f1"], 2),
        "first_answer_exact_match": round(first["exact_match"], 2),
        "first_answer_f1": round(first["f1"], 2),
        "first_answer_seconds": median_and_p90([r.first_seconds for r in reads]),
        "final_answer_seconds": median_and_p90([r.final_seconds for r in reads]),
        "final_answer_cpu_seconds": median_and_p90([r.final_cpu_seconds for r in reads]),
    }
    library_reads = [(r, g) for r, g in zip(reads, questions, strict=True) if r.reading is not None]
    if library_reads:
        total = len(library_reads)
        report["search_ms"] = median_and_p90([r.search_seconds for r, _ in library_reads], 1000, 1)
        report["passages_read_median"] = float(np.median([len(r.reading.hits) for r, _ in library_reads]))
        report["gold_passage_read"] = round(
            sum(first_hit_rank(r.reading.hits, g) is not None for r, g in library_reads) / total, 4
        )
        report["top_answer_from_gold_file"] = round(
            sum(r.final_top_path == g.path for r, g in library_reads) / total, 4
        )
    return report


def end_to_end(
    engine: ReadingEngine,
    libraries: dict[str, Library],
    questions: Sequence[GoldQuestion],
    articles: dict[str, Document],
    log: Log,
) -> dict:
    """The same questions asked of each library and of their right article alone, one question at a
    time in every way (so a busy spell of the machine slows them alike)."""
    report: dict = {
        "questions": len(questions),
        "choices": "EARLY_ANSWERS (ranked, 24 windows)",
        "load_average_at_start": load_average(),
    }
    reads: dict[str, list[TimedRead]] = {f"library_{name}": [] for name in libraries} | {"article_alone": []}
    last_log = time.perf_counter()
    for done, gold in enumerate(questions, start=1):
        question = gold.question.question
        for name, library in libraries.items():
            reads[f"library_{name}"].append(timed_read(engine, question, library=library))
        reads["article_alone"].append(timed_read(engine, question, document=articles[gold.path]))
        if time.perf_counter() - last_log > 60:
            log(f"  {done} of {len(questions)} questions")
            last_log = time.perf_counter()
    for key, timed in reads.items():
        report[key] = answer_accuracy(timed, questions)
    return report


def latency(
    engine: ReadingEngine | None,
    libraries: dict[str, Library],
    questions: Sequence[GoldQuestion],
    warm_up: str,
) -> dict:
    """Times to the first and the final answers (search apart), recall@24 and F1, per search kind;
    each question is asked in every way before the next (so a busy spell slows them alike)."""
    report: dict = {"load_average_at_start": load_average()}
    for name, library in libraries.items():
        started = time.perf_counter()
        library.search(warm_up)  # the first search loads the library's embeddings into memory
        report[name] = {"first_search_ms": round(1000 * (time.perf_counter() - started), 1)}
        if engine is None:
            report[name].update(recall(library, questions, (SEARCH_LIMIT,)))
        else:
            timed_read(engine, warm_up, library=library)
    if engine is None:
        return report
    reads: dict[str, list[TimedRead]] = {name: [] for name in libraries}
    for gold in questions:
        for name, library in libraries.items():
            reads[name].append(timed_read(engine, gold.question.question, library=library))
    for name, timed in reads.items():
        total = max(len(timed), 1)
        report[name] |= {
            "search_ms": median_and_p90([r.search_seconds for r in timed], 1000, 1),
            "first_answer_seconds": median_and_p90([r.first_seconds for r in timed]),
            "final_answer_seconds": median_and_p90([r.final_seconds for r in timed]),
            "first_answer_cpu_seconds": median_and_p90([r.first_cpu_seconds for r in timed]),
            "final_answer_cpu_seconds": median_and_p90([r.final_cpu_seconds for r in timed]),
            "first_answer_within_target": round(
                sum(r.first_seconds <= FIRST_ANSWER_TARGET_S for r in timed) / total, 4
            ),
            f"recall@{SEARCH_LIMIT}": round(
                sum(first_hit_rank(r.reading.hits, g) is not None for r, g in zip(timed, questions, strict=True))
                / total,
                4,
            ),
            "f1": answer_accuracy(timed, questions)["f1"],
            "passages_read_median": float(np.median([len(r.reading.hits) for r in timed])),
        }
    report["load_average_at_end"] = load_average()
    return report


# -- the whole bench ----------------------------------------------------------------------------------


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: other work on the machine slows every time measured."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average_at_start": load_average(),
    }


def searchers(path: Path, embedder: TextEmbedder | None) -> dict[str, Library]:
    """The library at ``path`` opened for hybrid search (with ``embedder``) and for BM25 alone."""
    opened = {"bm25": Library(path, None, verify=False)}
    if embedder is not None:
        opened = {"hybrid": Library(path, embedder, verify=False), **opened}
    return opened


def close_all(libraries: dict[str, Library]) -> None:
    for library in libraries.values():
        library.close()


def run_library_bench(
    dev_path: Path = DEFAULT_DEV,
    train_path: Path = DEFAULT_TRAIN,
    embedder: TextEmbedder | None = None,
    engine: ReadingEngine | None = None,
    questions: int = RECALL_QUESTIONS,
    answer_questions: int = ANSWER_QUESTIONS,
    sizes: Sequence[int] = LATENCY_SIZES,
    latency_questions: int = LATENCY_QUESTIONS,
    library_passages: int = LIBRARY_PASSAGES,
    seed: int = SEED,
    log: Log = lambda message: None,
) -> dict:
    """Build the bench's libraries in a temporary folder, measure them, and delete them.

    ``embedder`` None measures BM25 alone; ``engine`` None leaves out what needs the reader (the
    end-to-end answers and the times to answers: the latency libraries are then only searched).
    """
    bench_started = time.perf_counter()
    report: dict = {"machine": machine()}
    report["settings"] = {
        "seed": seed,
        "recall_questions": questions,
        "answer_questions": answer_questions,
        "latency_questions": latency_questions,
        "latency_sizes": list(sizes),
        "library_passages": library_passages,
        "recall_at": list(RECALL_AT),
        "embedder": getattr(embedder, "name", None) if embedder is not None else None,
        "reader": getattr(engine, "name", None) if engine is not None else None,
        "reader_device": getattr(engine, "device_name", None) if engine is not None else None,
    }
    log("loading SQuAD…")
    dev = load_squad(dev_path)
    distractors = shuffled_paragraphs(load_squad(train_path), seed)
    remembering = RememberingEmbedder(embedder) if embedder is not None else None

    with tempfile.TemporaryDirectory(prefix="library-bench-") as temporary:
        work = Path(temporary).resolve()
        # 1. The dev articles as the library.
        log(f"writing the {len(dev.articles)} dev articles and indexing them…")
        article_files = write_article_files(dev.articles, work / "dev-articles")
        library_path = work / "large.sqlite3"
        builder = Library(library_path, remembering)
        dev_build = build_library(builder, [work / "dev-articles"], log)
        sampled = sample_article_questions(dev.articles, questions, seed)
        golds = [gold_in_file(q, article_files[a], p) for a, p, q in sampled]
        report["dev_library"] = {
            "documents": dev_build["documents"],
            "passages": dev_build["passages"],
            "files_whose_library_text_matches": offsets_match(builder, article_files),
            "build": dev_build,
        }
        libraries = searchers(library_path, embedder)
        log(f"recall on the dev articles, {len(golds)} questions…")
        report["recall_dev_articles"] = {"questions": len(golds)} | {
            name: recall(library, golds) for name, library in libraries.items()
        }

        # 1 (continued) and 3. Train paragraphs added until the library holds about ``library_passages``.
        added = paragraphs_for_passages(distractors, max(0, library_passages - dev_build["passages"]))
        log(f"writing {len(added):,} train paragraphs as distractor documents and indexing them…")
        write_paragraph_files(added, work / "train-paragraphs")
        large_build = build_library(builder, [work / "train-paragraphs"], log)
        counts = builder.counts()
        report["large_library"] = {
            "documents": counts["indexed"],
            "distractor_documents": large_build["documents"],
            "passages": counts["passages"],
            "embedded": counts["embedded"],
            "build": large_build,
            "indexing": whole_build(dev_build, large_build),
            "storage": library_storage(builder),
        }
        builder.close()
        log(f"recall on the large library, {len(golds)} questions…")
        report["recall_large_library"] = {"questions": len(golds)} | {
            name: recall(library, golds) for name, library in libraries.items()
        }

        # 2. End to end, on the large library.
        if engine is not None and answer_questions:
            answering = golds[:answer_questions]
            articles = {file.path: libraries["bm25"].document(file.path) for file in article_files}
            log(f"end to end, {len(answering)} questions…")
            report["end_to_end"] = end_to_end(engine, libraries, answering, articles, log)
        close_all(libraries)
        library_path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{library_path}{suffix}").unlink(missing_ok=True)

        # 4. Latency at each size.
        rng = random.Random(seed + 1)
        chosen = sorted(rng.sample(range(len(dev.articles)), min(LATENCY_ARTICLES, len(dev.articles))))
        per_article = -(-latency_questions // max(len(chosen), 1))
        asked = []
        for a in chosen:
            article = dev.articles[a]
            pool = [(p, q) for p, paragraph in enumerate(article.paragraphs) for q in paragraph.questions if q.answers]
            asked += [(a, p, q) for p, q in rng.sample(pool, min(per_article, len(pool)))]
        asked = asked[:latency_questions]
        dev_paragraphs = [
            LoneParagraph(dev.articles[a].title, p, paragraph.context)
            for a in chosen
            for p, paragraph in enumerate(dev.articles[a].paragraphs)
        ]
        warm_up = next((g.question.question for g in golds if g.question not in {q for _, _, q in asked}), "warm up")
        report["latency"] = {
            "questions": len(asked),
            "dev_articles": len(chosen),
            "dev_paragraph_documents": len(dev_paragraphs),
            "target_first_answer_seconds": FIRST_ANSWER_TARGET_S,
        }
        for size in sizes:
            log(f"latency at {size:,} documents…")
            folder = work / f"latency-{size}"
            dev_files = write_paragraph_files(dev_paragraphs, folder)
            write_paragraph_files(distractors[: max(0, size - len(dev_paragraphs))], folder)
            by_paragraph = {(p.title, p.number): f for p, f in zip(dev_paragraphs, dev_files, strict=True)}
            latency_golds = [gold_in_file(q, by_paragraph[(dev.articles[a].title, p)], 0) for a, p, q in asked]
            path = work / f"latency-{size}.sqlite3"
            builder = Library(path, remembering)
            reused_before = remembering.reused if remembering is not None else 0
            build = build_library(builder, [folder], log, embeddings_timed=False)
            build["embeddings_reused"] = (remembering.reused - reused_before) if remembering is not None else 0
            builder.close()
            started = time.perf_counter()
            opened = searchers(path, embedder)
            verified = Library(path, None)  # as the app opens it: reading the whole file once to find damage
            verified.close()
            entry = {
                "documents": build["documents"],
                "passages": build["passages"],
                "build": build,
                "open_seconds_with_check": round(time.perf_counter() - started, 3),
            }
            entry |= latency(engine, opened, latency_golds, warm_up)
            report["latency"][str(size)] = entry
            close_all(opened)

    report["machine"]["load_average_at_end"] = load_average()
    report["seconds"] = round(time.perf_counter() - bench_started, 1)
    return report


def whole_build(*builds: dict) -> dict:
    """Rates over several builds of one library taken together."""
    documents = sum(b["documents"] for b in builds)
    passages = sum(b["passages"] for b in builds)
    embedded = sum(b["embedded"] for b in builds)
    reading = sum(b["reading_seconds"] for b in builds)
    embedding = sum(b["embedding_seconds"] for b in builds)
    reading_cpu = sum(b["reading_cpu_seconds"] for b in builds)
    embedding_cpu = sum(b["embedding_cpu_seconds"] for b in builds)
    peaks = [b["peak_rss_mb"] for b in builds if b["peak_rss_mb"] is not None]
    return {
        "documents": documents,
        "passages": passages,
        "reading_seconds": round(reading, 1),
        "embedding_seconds": round(embedding, 1),
        "reading_cpu_seconds": round(reading_cpu, 1),
        "embedding_cpu_seconds": round(embedding_cpu, 1),
        "reading_documents_per_minute": per_minute(documents, reading),
        "reading_passages_per_minute": per_minute(passages, reading),
        "embedding_documents_per_minute": per_minute(documents, embedding) if embedded else None,
        "embedding_passages_per_minute": per_minute(embedded, embedding) if embedded else None,
        "peak_rss_mb": max(peaks) if peaks else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reading_assistant.evaluation.library_bench",
        description="Recall, answers, indexing speed and latency of the library, on SQuAD (printed, not asserted).",
    )
    parser.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="SQuAD dev-v1.1 (evaluation only)")
    parser.add_argument("--train", type=Path, default=DEFAULT_TRAIN, help="SQuAD train-v1.1 (the distractors)")
    parser.add_argument("--questions", type=int, default=RECALL_QUESTIONS, help="dev questions for recall")
    parser.add_argument("--answer-questions", type=int, default=ANSWER_QUESTIONS, help="for end-to-end F1")
    parser.add_argument("--latency-questions", type=int, default=LATENCY_QUESTIONS)
    parser.add_argument("--sizes", default=",".join(str(s) for s in LATENCY_SIZES), help="latency library sizes")
    parser.add_argument("--passages", type=int, default=LIBRARY_PASSAGES, help="passages of the large library")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--bm25-only", action="store_true", help="no embedding model: BM25 alone")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    arguments = parser.parse_args(argv)
    sizes = [int(size) for size in arguments.sizes.split(",") if size.strip()]
    from ..core.embedding import open_embedder
    from ..core.engine import open_engine

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    embedder = None if arguments.bm25_only else open_embedder()
    engine = open_engine()
    report = run_library_bench(
        arguments.dev,
        arguments.train,
        embedder,
        engine,
        questions=arguments.questions,
        answer_questions=arguments.answer_questions,
        sizes=sizes,
        latency_questions=arguments.latency_questions,
        library_passages=arguments.passages,
        seed=arguments.seed,
        log=log,
    )
    print(json.dumps(report, indent=2) if arguments.json else summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
