"""The question-answering engine: one object serves the window, the command line, the API, the server
and evaluation.

Like the Hugging Face pipeline it has three stages: preprocess (tokens and windows), forward
(batches through onnxruntime) and postprocess (spans and confidences), and, like the pipeline's
per-call parameters, everything about how a question is read (``Choices``) is an argument of each
read, resolved against the model's own settings: the engine holds only the model, its tokenizer
and the documents it has tokenized. The stages run inside one reading loop, ``QAEngine.read``,
which yields the events of ``core.reading`` and which every caller consumes; ``open_engine`` is
the one way to get an engine. A read may be given the meaning of a document the library has
embedded (``meaning``: ``core.library.meaning.LibraryMeaning``); its windows are then ranked by
their words and their meaning together.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .decoding import SpanCollector
from .documents import Document
from .errors import InputError
from .model_folder import ModelFolder
from .options import MODELS_OWN, Choices, ModelConfig, ReadOptions, resolve
from .paths import bundled_model_dir
from .placement import FP16_PROVIDERS
from .ranking import (
    TermIndex,
    bm25_scores,
    heading_scores,
    hybrid_order,
    reading_order,
    relevance_priors,
    window_meaning,
)
from .reading import (
    Answers,
    DocumentInput,
    KeptTokens,
    Planned,
    Prediction,
    Progress,
    ProgressCallback,
    ReadEvent,
    StopCheck,
)
from .runtime import OnnxQAModel
from .stopping import check_stop, checked
from .windows import TextTokenizer, TokenizedText, WindowPlan, without_surrogates

DOCUMENT_CACHE_SIZE = 4
# Best-so-far answers are streamed every this many windows, whatever the batch size: often enough
# to feel live, rarely enough not to redraw a book at every window.
PARTIAL_WINDOWS = 8
GPU_BATCH = 32  # windows a model call on a GPU (the fp16 model; see QAEngine.resolve)
log = logging.getLogger(__name__)
# What a read may be told of a document's meaning: for a (document, question), the (start, end,
# cosine) of each of the document's passages, in its text's characters; empty when nothing is known.
MeaningLookup = Callable[[DocumentInput, str], Sequence[tuple[int, int, float]]]


def open_engine(model: Path | None = None, device: str = "auto", threads: int | None = None) -> QAEngine:
    """An engine on a model folder (default: the bundled model), running on ``device``."""
    return QAEngine(ModelFolder.open(bundled_model_dir() if model is None else model), device, threads)


class QAEngine:
    def __init__(self, folder: ModelFolder, device: str, threads: int | None = None) -> None:
        started = time.perf_counter()
        self.folder = folder
        self.config: ModelConfig = folder.config
        self.tokenizer = TextTokenizer.from_file(folder.tokenizer_path)
        # A reader asks several questions about one document: tokenize and index it once, whatever
        # each question's window settings.
        self._documents: OrderedDict[str, TokenizedText] = OrderedDict()
        self._indexes: dict[int, TermIndex] = {}
        self._tokenizing: dict[str, threading.Event] = {}
        # The window may start a new question while the old one finishes its batch.
        self._cache_lock = threading.Lock()
        self.model = OnnxQAModel(folder.onnx_path, device=device, threads=threads, gpu_path=folder.gpu_onnx_path)
        log.info(
            "model %s (%s) on %s, %s, loaded in %.2f s",
            self.name,
            self.model.path,
            self.placement,
            self.resolve().windows,
            time.perf_counter() - started,
        )

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def device_name(self) -> str:
        return self.model.device_name

    @property
    def placement(self) -> str:
        """Where the model's work runs, as measured: "GPU (CUDA), 100% of the model's work", "CPU"."""
        return self.model.placement.describe()

    @property
    def model_dir(self) -> Path:
        return self.folder.path

    @property
    def warnings(self) -> list[str]:
        """What the reader should know about how the model runs (a GPU that fell back to the CPU)."""
        return self.model.warnings

    @functools.cached_property
    def tokenizer_fingerprint(self) -> str:
        """The tokenizer, named by its file's content: tokens kept elsewhere (the library) are taken
        again only by an engine with the same one."""
        return hashlib.sha256(self.folder.tokenizer_path.read_bytes()).hexdigest()

    def _remember(self, tokens: TokenizedText) -> None:
        self._documents[tokens.text] = tokens
        if len(self._documents) > DOCUMENT_CACHE_SIZE:
            _, dropped = self._documents.popitem(last=False)
            self._indexes.pop(id(dropped), None)

    @property
    def reads_on_gpu(self) -> bool:
        """The fp16 model on a GPU provider (a fallback to the CPU reads the int8 one)."""
        return self.model.provider in FP16_PROVIDERS and self.model.path == self.model.gpu_path

    def resolve(self, choices: Choices = MODELS_OWN, source: str = "the settings") -> ReadOptions:
        """How a read with these choices goes on this model: each choice made, else the model's own.

        On a GPU the windows are read ``GPU_BATCH`` a call unless the read says otherwise: the fp16
        model's answers do not depend on their batch-mates (the int8 model's do, so the CPU reads
        one window a call), and a GPU runs many windows in about the time of one."""
        config = self.config
        if self.reads_on_gpu and config.batch_size < GPU_BATCH:
            config = replace(config, batch_size=GPU_BATCH)
        return resolve(config, choices, source, self.model.signature.fixed_length)

    # -- preprocess ---------------------------------------------------------------------------

    def prepare(self, text: str, should_stop: StopCheck | None = None, kept: KeptTokens | None = None) -> TokenizedText:
        """Tokenize and index a document ahead of its first question; both are cached. ``kept``
        gives the tokens this tokenizer made of ``text`` before (the library's), if any."""
        tokens = self.tokenize_document(text, should_stop, kept)
        self._term_index(tokens, should_stop)
        return tokens

    def tokenize_document(
        self, text: str, should_stop: StopCheck | None = None, kept: KeptTokens | None = None
    ) -> TokenizedText:
        """Tokens of a document; the last few documents are kept, so asking again is instant.

        A document already being tokenized for another caller (a question asked while the window
        prepares the document) is waited for, not tokenized twice.
        """
        while True:
            with self._cache_lock:
                if text in self._documents:
                    self._documents.move_to_end(text)
                    return self._documents[text]
                underway = self._tokenizing.get(text)
                if underway is None:
                    done = self._tokenizing[text] = threading.Event()
                    break
            while not underway.wait(0.1):
                check_stop(should_stop)
        try:
            if not text or text.isspace():  # not text.strip(): a copy of a whole book
                raise InputError("the document is empty")
            # Looked up while others wait (as for tokenizing): a question asked meanwhile takes them.
            tokens = (kept() if kept is not None else None) or self.tokenizer.tokenize(text, should_stop=should_stop)
            with self._cache_lock:
                self._remember(tokens)
            return tokens
        finally:
            with self._cache_lock:
                del self._tokenizing[text]
            done.set()  # a waiter finds the tokens cached, or tokenizes itself if this one failed

    def _term_index(self, tokens: TokenizedText, should_stop: StopCheck | None = None) -> TermIndex:
        """The document's term index, kept as long as its tokens are cached."""
        with self._cache_lock:
            index = self._indexes.get(id(tokens))
        if index is None:
            index = TermIndex(tokens, should_stop)
            with self._cache_lock:
                if any(cached is tokens for cached in self._documents.values()):
                    self._indexes[id(tokens)] = index
        return index

    def _plan(
        self, document: TokenizedText, question: str, options: ReadOptions, should_stop: StopCheck | None = None
    ) -> WindowPlan:
        question = question.strip()
        if not question:
            raise InputError("the question is empty")
        question_tokens = self.tokenizer.tokenize(question, should_stop=should_stop)
        if len(question_tokens) == 0:
            raise InputError("the question has no words the model can read")
        if len(document) == 0:
            raise InputError("the document has no words the model can read")
        return WindowPlan.build(document, question_tokens, self.tokenizer.template, options.windows)

    # -- forward ------------------------------------------------------------------------------

    def _forward(
        self, plans: list[WindowPlan], work: list[tuple[int, int]], batch_size: int
    ) -> Iterator[tuple[list[tuple[int, int]], np.ndarray, np.ndarray]]:
        """Logits for (plan number, window) pairs, a batch at a time."""
        fixed_batch = self.model.signature.fixed_batch
        if fixed_batch is not None:
            batch_size = fixed_batch
        pad_to = self.model.signature.fixed_length
        for first in range(0, len(work), batch_size):
            chunk = work[first : first + batch_size]
            width = pad_to or max(plans[n].window_length(i) for n, i in chunk)
            parts = [plans[n].encode([i], pad_to=width) for n, i in chunk]
            inputs = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
            if fixed_batch is not None and len(chunk) < fixed_batch:
                inputs = {key: _pad_rows(value, fixed_batch) for key, value in inputs.items()}
            start, end = self.model.run(inputs)
            yield chunk, start[: len(chunk)], end[: len(chunk)]

    # -- postprocess --------------------------------------------------------------------------

    def _postprocess(
        self, question: str, text: str, collector: SpanCollector, top_k: int, document: str = ""
    ) -> Prediction:
        config = self.config
        temperature = config.temperature_for(collector.windows_read)
        answers, no_answer, null_odds = collector.result(
            text, top_k, temperature, config.null_threshold, config.null_scale, document
        )
        return Prediction(
            question=question,
            answers=answers,
            no_answer_score=no_answer,
            null_odds=null_odds,
            has_answer=null_odds <= config.null_threshold,
            windows=collector.windows_read,
            seconds=0.0,
        )

    # -- the reading loop ---------------------------------------------------------------------

    def read(
        self,
        questions: Sequence[tuple[DocumentInput, str]],
        choices: Choices = MODELS_OWN,
        source: str = "the settings",
        meaning: MeaningLookup | None = None,
        should_stop: StopCheck | None = None,
    ) -> Iterator[ReadEvent]:
        """Read documents for their questions, reporting as it goes; stops when the consumer stops,
        and raises Cancelled when ``should_stop`` says so while it prepares (tokenizing, indexing and
        ranking a book take seconds before the first event).

        ``choices`` say how (None: the model's own), checked before anything is read. Each question's
        ``Planned`` comes first; after every batch it yields ``Progress``; a question's settled
        answers follow as ``Answers`` once its last window is read. A single question is read in
        its own order (ranked: the windows most relevant to it first, up to ``max_windows``) and
        streams its best answers so far every ``PARTIAL_WINDOWS`` windows; many questions have
        their windows packed into batches of similar length, so little of each batch is padding.

        ``meaning``, asked once per question of a ranked read, gives the cosine between the question
        and each passage of its document (nothing: the windows are ranked by BM25 as without it);
        the windows are then read in ``hybrid_order``. The relevance priors stay BM25's.
        """
        started = time.perf_counter()
        options = self.resolve(choices, source)
        # A lone surrogate cannot be tokenized or printed: U+FFFD keeps every offset where it was.
        questions = [(document, without_surrogates(question)) for document, question in questions]
        tokens = [self._tokens(document, should_stop) for document, _ in checked(questions, should_stop, 1)]
        names = [document.id if isinstance(document, Document) else "" for document, _ in questions]
        plans = [
            self._plan(t, question, options, should_stop) for t, (_, question) in zip(tokens, questions, strict=True)
        ]
        # Several questions often share a document: index each document once.
        indexes = {id(t): self._term_index(t, should_stop) for t in tokens}
        priors, orders, by_meaning = [], [], []
        for (document, question), t, plan in checked(zip(questions, tokens, plans, strict=True), should_stop, 1):
            relevance = bm25_scores(indexes[id(t)], plan)
            headings = self._heading_scores(document, t, indexes[id(t)], plan, should_stop)
            priors.append(relevance_priors(relevance, options.relevance_weight, headings, options.section_weight))
            meant = _window_meaning(meaning, document, question, t, plan) if options.ranked else None
            orders.append(_windows_to_read(relevance, options, meant))
            by_meaning.append(meant is not None)
        work = [(n, i) for n, order in enumerate(orders) for i in order]
        single = len(questions) == 1
        if not single:
            work.sort(key=lambda item: plans[item[0]].window_length(item[1]))
        for n, (t, plan, order) in enumerate(zip(tokens, plans, orders, strict=True)):
            yield Planned(n, _spans(t, plan, order), len(plan))
        # Every plan has a window and max_windows is 0 or more than 0, so every question is answered.
        remaining = np.bincount([n for n, _ in work], minlength=len(questions))
        collectors = [
            SpanCollector(
                max_answer_len=options.max_answer_len,
                # A table of contents or an index names where things are, never what they are.
                excluded=document.no_answer_spans if isinstance(document, Document) else (),
            )
            for document, _ in questions
        ]

        def answer(n: int) -> Prediction:
            prediction = self._postprocess(questions[n][1], tokens[n].text, collectors[n], options.top_k, names[n])
            seconds = time.perf_counter() - started
            return replace(prediction, seconds=seconds, total_windows=len(plans[n]), window_tokens=plans[n].max_span)

        done = 0
        for chunk, start, end in self._forward(plans, work, options.batch_size):
            settled = []
            for (n, index), s, e in zip(chunk, start, end, strict=True):
                collectors[n].add(plans[n], index, s, e, float(priors[n][index]))
                remaining[n] -= 1
                if remaining[n] == 0:
                    settled.append(n)
            done += len(chunk)
            yield Progress(done, len(work))
            if single and not settled and done // PARTIAL_WINDOWS > (done - len(chunk)) // PARTIAL_WINDOWS:
                yield Answers(0, answer(0), False)
            for n in settled:
                prediction = answer(n)
                log.info(
                    "answered in %.2f s from %d of %d windows (%s), no-answer %.2f",
                    prediction.seconds,
                    prediction.windows,
                    prediction.total_windows,
                    ("ranked by words and meaning" if by_meaning[n] else "ranked") if options.ranked else "in order",
                    prediction.no_answer_score,
                )
                yield Answers(n, prediction, True)

    def _heading_scores(
        self,
        document: DocumentInput,
        tokens: TokenizedText,
        index: TermIndex,
        plan: WindowPlan,
        should_stop: StopCheck | None = None,
    ) -> np.ndarray | None:
        """How well the heading of each window's section matches the question; None without headings
        (bare text, or a document whose sections are only its pages)."""
        sections = document.headings if isinstance(document, Document) else ()
        if not sections:
            return None
        labels = [section.label for section in checked(sections, should_stop)]
        heading_ids = [t.ids for t in self.tokenizer.tokenize_many(labels, should_stop)]
        middles = tokens.offsets[plan.starts + plan.lengths // 2, 0]
        starts = np.array([section.start for section in checked(sections, should_stop)])
        window_headings = np.searchsorted(starts, middles, side="right") - 1
        return heading_scores(index, plan, heading_ids, window_headings, should_stop)

    def _tokens(self, document: DocumentInput, should_stop: StopCheck | None = None) -> TokenizedText:
        if isinstance(document, TokenizedText):
            return document
        return self.tokenize_document(document.text if isinstance(document, Document) else document, should_stop)

    # -- consumers of the reading loop ---------------------------------------------------------

    def ask(
        self,
        document: DocumentInput,
        question: str,
        choices: Choices = MODELS_OWN,
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
        source: str = "the settings",
        meaning: MeaningLookup | None = None,
    ) -> Prediction:
        """Answer one question about one document; a stopped read raises Cancelled."""
        for event in self.read([(document, question)], choices, source, meaning, should_stop):
            if isinstance(event, Progress) and on_progress is not None:
                on_progress(event.done, event.total)
            elif isinstance(event, Answers) and event.final:
                return event.prediction
            check_stop(should_stop)
        raise AssertionError("a read ends with the answers to its question")

    def ask_many(
        self,
        pairs: Sequence[tuple[DocumentInput, str]],
        choices: Choices = MODELS_OWN,
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
        source: str = "the settings",
        meaning: MeaningLookup | None = None,
    ) -> list[Prediction]:
        """Answer many (document, question) pairs, packing windows of different pairs into batches."""
        predictions: list[Prediction | None] = [None] * len(pairs)
        for event in self.read(pairs, choices, source, meaning, should_stop):
            if isinstance(event, Progress) and on_progress is not None:
                on_progress(event.done, event.total)
            elif isinstance(event, Answers) and event.final:
                predictions[event.index] = event.prediction
            check_stop(should_stop)
        return [p for p in predictions if p is not None]


def _windows_to_read(relevance: np.ndarray, options: ReadOptions, meaning: np.ndarray | None = None) -> list[int]:
    """The windows a read takes, in order: the most relevant first when ranked (by their words, and
    their ``meaning`` when known), up to the budget."""
    if not options.ranked:
        order = list(range(len(relevance)))
    else:
        order = reading_order(relevance) if meaning is None else hybrid_order(relevance, meaning)
    return order[: options.max_windows] if options.max_windows else order


def _window_meaning(
    meaning: MeaningLookup | None, document: DocumentInput, question: str, tokens: TokenizedText, plan: WindowPlan
) -> np.ndarray | None:
    """Each window's meaning for the question (``ranking.window_meaning``); None when ``meaning``
    knows nothing of the document."""
    if meaning is None:
        return None
    passages = meaning(document, question)
    if not passages:
        return None
    first = plan.starts
    last = first + plan.lengths - 1
    windows = np.stack([tokens.offsets[first, 0], tokens.offsets[last, 1]], axis=1)
    return window_meaning(windows, passages)


def _spans(tokens: TokenizedText, plan: WindowPlan, order: list[int]) -> list[tuple[int, int]]:
    """The character span of each window in ``order``."""
    first = plan.starts[order]
    last = first + plan.lengths[order] - 1
    return list(zip(tokens.offsets[first, 0].tolist(), tokens.offsets[last, 1].tolist(), strict=True))


def _pad_rows(array: np.ndarray, rows: int) -> np.ndarray:
    padding = np.zeros((rows - array.shape[0], *array.shape[1:]), dtype=array.dtype)
    return np.concatenate([array, padding])
