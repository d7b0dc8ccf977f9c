"""The question-answering engine: one object serves the GUI, the command line and evaluation.

Like the Hugging Face pipeline it has three stages: ``preprocess`` (tokens and windows),
``forward`` (batches through onnxruntime) and ``postprocess`` (spans and confidences).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from reading_assistant.core.decoding import Answer, SpanCollector
from reading_assistant.core.errors import Cancelled, InputError
from reading_assistant.core.model_folder import ModelConfig, ModelFolder
from reading_assistant.core.ranking import RELEVANCE_WEIGHT, TermIndex, bm25_scores, reading_order, relevance_priors
from reading_assistant.core.runtime import OnnxQAModel
from reading_assistant.core.windows import TextTokenizer, TokenizedText, WindowPlan, WindowSettings

DOCUMENT_CACHE_SIZE = 4
# Best-so-far answers are streamed every this many windows, whatever the batch size: often enough
# to feel live, rarely enough not to redraw a book at every window.
PARTIAL_WINDOWS = 8
ProgressCallback = Callable[[int, int], None]
StopCheck = Callable[[], bool]
PartialCallback = Callable[["Prediction"], None]
log = logging.getLogger("reading_assistant.engine")


@dataclass(frozen=True)
class Prediction:
    question: str
    answers: list[Answer]
    no_answer_score: float
    null_odds: float  # no-answer logit minus the best span's logit
    has_answer: bool  # null odds at or below the model's threshold
    windows: int
    seconds: float


@dataclass(frozen=True)
class AskOptions:
    top_k: int = 5
    max_answer_len: int = 30
    batch_size: int = ModelConfig.batch_size
    # Read the windows most relevant to the question first (BM25), streaming answers as they come.
    ranked: bool = False
    # Stop after this many windows (0: read them all); with ``ranked``, the early-answer mode.
    max_windows: int = 0
    # Weight of each window's BM25 relevance in its spans' scores (0: spans compete on logits alone).
    relevance_weight: float = RELEVANCE_WEIGHT


class QAEngine:
    def __init__(
        self,
        folder: ModelFolder,
        device: str = "auto",
        settings: WindowSettings | None = None,
        threads: int | None = None,
    ) -> None:
        started = time.perf_counter()
        self.folder = folder
        self.config: ModelConfig = folder.config
        self.settings = settings or self.config.window_settings()
        self.tokenizer = TextTokenizer.from_file(folder.tokenizer_path)
        # A reader asks several questions about one document: tokenize and index it once.
        self._documents: OrderedDict[str, TokenizedText] = OrderedDict()
        self._indexes: dict[int, TermIndex] = {}
        # The window may start a new question while the old one finishes its batch.
        self._cache_lock = threading.Lock()
        self.model = OnnxQAModel(folder.onnx_path, device=device, threads=threads)
        fixed = self.model.signature.fixed_length
        if fixed is not None and fixed != self.settings.seq_len:
            # A model exported for one length (OpenVINO's 1x384) takes exactly that many tokens.
            self.settings = replace(self.settings, seq_len=fixed)
        log.info(
            "model %s (%s) on %s, %s, loaded in %.2f s",
            self.name,
            folder.onnx_path,
            self.device_name,
            self.settings,
            time.perf_counter() - started,
        )

    @classmethod
    def load(cls, model_dir: Path, device: str = "auto", settings: WindowSettings | None = None) -> QAEngine:
        return cls(ModelFolder.open(model_dir), device=device, settings=settings)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def device_name(self) -> str:
        return self.model.device_name

    def default_options(self) -> AskOptions:
        return AskOptions(max_answer_len=self.config.max_answer_len, batch_size=self.config.batch_size)

    # -- preprocess ---------------------------------------------------------------------------

    def tokenize_document(self, text: str) -> TokenizedText:
        """Tokens of a document; the last few documents are kept, so asking again is instant."""
        with self._cache_lock:
            if text in self._documents:
                self._documents.move_to_end(text)
                return self._documents[text]
        if not text.strip():
            raise InputError("the document is empty")
        tokens = self.tokenizer.tokenize(text)
        with self._cache_lock:
            self._documents[text] = tokens
            if len(self._documents) > DOCUMENT_CACHE_SIZE:
                _, dropped = self._documents.popitem(last=False)
                self._indexes.pop(id(dropped), None)
        return tokens

    def term_index(self, tokens: TokenizedText) -> TermIndex:
        """The document's term index, kept as long as its tokens are cached."""
        with self._cache_lock:
            index = self._indexes.get(id(tokens))
        if index is None:
            index = TermIndex(tokens)
            with self._cache_lock:
                if any(cached is tokens for cached in self._documents.values()):
                    self._indexes[id(tokens)] = index
        return index

    def plan(self, document: TokenizedText, question: str) -> WindowPlan:
        question = question.strip()
        if not question:
            raise InputError("the question is empty")
        question_tokens = self.tokenizer.tokenize(question)
        if len(question_tokens) == 0:
            raise InputError("the question has no words the model can read")
        if len(document) == 0:
            raise InputError("the document has no words the model can read")
        return WindowPlan.build(document, question_tokens, self.tokenizer.template, self.settings)

    # -- forward ------------------------------------------------------------------------------

    def forward(
        self,
        work: list[tuple[WindowPlan, int]],
        batch_size: int,
        should_stop: StopCheck | None = None,
    ) -> Iterator[tuple[list[tuple[WindowPlan, int]], np.ndarray, np.ndarray]]:
        """Logits for (plan, window) pairs, a batch at a time; stops between batches if asked."""
        fixed_batch = self.model.signature.fixed_batch
        if fixed_batch is not None:
            batch_size = fixed_batch
        pad_to = self.model.signature.fixed_length
        for first in range(0, len(work), batch_size):
            if should_stop is not None and should_stop():
                raise Cancelled("stopped")
            chunk = work[first : first + batch_size]
            width = pad_to or max(plan.window_length(i) for plan, i in chunk)
            parts = [plan.encode([i], pad_to=width) for plan, i in chunk]
            inputs = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
            if fixed_batch is not None and len(chunk) < fixed_batch:
                inputs = {key: _pad_rows(value, fixed_batch) for key, value in inputs.items()}
            start, end = self.model.run(inputs)
            yield chunk, start[: len(chunk)], end[: len(chunk)]

    # -- postprocess --------------------------------------------------------------------------

    def postprocess(self, question: str, text: str, collector: SpanCollector, top_k: int) -> Prediction:
        answers, no_answer, null_odds = collector.result(text, top_k, self.config.temperature)
        return Prediction(
            question=question,
            answers=answers,
            no_answer_score=no_answer,
            null_odds=null_odds,
            has_answer=null_odds <= self.config.null_threshold,
            windows=collector.windows_read,
            seconds=0.0,
        )

    # -- the whole pipeline -------------------------------------------------------------------

    def ask(
        self,
        document: str | TokenizedText,
        question: str,
        options: AskOptions | None = None,
        on_progress: ProgressCallback | None = None,
        should_stop: StopCheck | None = None,
        on_partial: PartialCallback | None = None,
    ) -> Prediction:
        """Answer one question about one document.

        ``on_partial`` receives the best answers so far every ``PARTIAL_WINDOWS`` windows; if the reader stops,
        the last of them stands (the call raises Cancelled).
        """
        started = time.perf_counter()
        options = options or self.default_options()
        tokens = document if isinstance(document, TokenizedText) else self.tokenize_document(document)
        plan = self.plan(tokens, question)
        relevance = bm25_scores(self.term_index(tokens), plan)
        priors = relevance_priors(relevance, options.relevance_weight)
        order = reading_order(relevance) if options.ranked else list(range(len(plan)))
        if options.max_windows:
            order = order[: options.max_windows]
        collector = SpanCollector(max_answer_len=options.max_answer_len)
        work = [(plan, i) for i in order]
        done = 0
        for chunk, start, end in self.forward(work, options.batch_size, should_stop):
            for (p, index), s, e in zip(chunk, start, end, strict=True):
                collector.add(p, index, s, e, float(priors[index]))
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, len(work))
            streamed = done // PARTIAL_WINDOWS > (done - len(chunk)) // PARTIAL_WINDOWS
            if on_partial is not None and streamed and done < len(work):
                partial = self.postprocess(question, tokens.text, collector, options.top_k)
                on_partial(replace(partial, seconds=time.perf_counter() - started))
        prediction = self.postprocess(question, tokens.text, collector, options.top_k)
        seconds = time.perf_counter() - started
        log.info(
            "answered in %.2f s from %d of %d windows (%s), no-answer %.2f",
            seconds,
            done,
            len(plan),
            "ranked" if options.ranked else "in order",
            prediction.no_answer_score,
        )
        return replace(prediction, seconds=seconds)

    def ask_many(
        self,
        pairs: list[tuple[TokenizedText, str]],
        options: AskOptions | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> list[Prediction]:
        """Answer many (document, question) pairs, packing windows of different pairs into batches."""
        options = options or self.default_options()
        plans = [self.plan(tokens, question) for tokens, question in pairs]
        collectors = [SpanCollector(max_answer_len=options.max_answer_len) for _ in plans]
        # Several questions often share a document: index each document once.
        indexes = {id(tokens): TermIndex(tokens) for tokens, _ in pairs}
        priors = [
            relevance_priors(bm25_scores(indexes[id(tokens)], plan), options.relevance_weight)
            for (tokens, _), plan in zip(pairs, plans, strict=True)
        ]
        owner = {id(plan): n for n, plan in enumerate(plans)}
        # Windows of similar length share a batch, so little of each batch is padding.
        work = sorted(((p, i) for p in plans for i in range(len(p))), key=lambda w: w[0].window_length(w[1]))
        done = 0
        for chunk, start, end in self.forward(work, options.batch_size):
            for (plan, index), s, e in zip(chunk, start, end, strict=True):
                n = owner[id(plan)]
                collectors[n].add(plan, index, s, e, float(priors[n][index]))
            done += len(chunk)
            if on_progress is not None:
                on_progress(done, len(work))
        return [
            self.postprocess(question, tokens.text, collector, options.top_k)
            for (tokens, question), collector in zip(pairs, collectors, strict=True)
        ]


def _pad_rows(array: np.ndarray, rows: int) -> np.ndarray:
    padding = np.zeros((rows - array.shape[0], *array.shape[1:]), dtype=array.dtype)
    return np.concatenate([array, padding])
