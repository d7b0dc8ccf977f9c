"""Sentence embeddings for finding passages: an ONNX sentence embedder and its tokenizer.

A model folder holds ``model.onnx`` (inputs ``input_ids``, ``attention_mask`` and optionally
``token_type_ids``; one output ``sentence_embedding``, already pooled and L2-normalised),
``tokenizer.json`` and ``embedder.json`` (its name, width, token limit and texts per model call).
The bundled one is all-MiniLM-L6-v2 in int8 (``models/minilm-embed-int8``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from .errors import Cancelled, ModelError
from .model_folder import TOKENIZER_NAME
from .paths import bundled_embedder_dir
from .runtime import PROVIDER_NAMES, choose_providers, error_line, new_session, quiet_run_options, session_options
from .windows import without_surrogates

log = logging.getLogger(__name__)

QUIET_RUN = quiet_run_options()

CONFIG_NAME = "embedder.json"
MODEL_NAME = "model.onnx"
OUTPUT_NAME = "sentence_embedding"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


class Embedder:
    """Turns texts into vectors of unit length whose dot product says how alike two texts are.

    Safe to call from several threads at once: the tokenizer is configured once and only read, and
    onnxruntime sessions run concurrently; the one change of state (falling back to the CPU when a
    GPU fails) happens under a lock.
    """

    def __init__(
        self,
        session: ort.InferenceSession,
        tokenizer: Tokenizer,
        name: str,
        dimensions: int,
        max_tokens: int,
        texts_per_run: int = 1,
        restart_on_cpu: Callable[[], ort.InferenceSession] | None = None,
    ) -> None:
        self.name = name
        self.dimensions = dimensions
        self.max_tokens = max_tokens
        # An int8 model quantizes its activations over the whole model call: a text run beside others
        # gets a slightly different vector (cosine down to 0.99) than alone, so such a folder says 1.
        self.texts_per_run = texts_per_run
        self.warnings: list[str] = []
        # Set here, never after: a tokenizer changed while another thread encodes raises.
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._session = session
        self._inputs = [i.name for i in session.get_inputs()]
        self._restart_on_cpu = restart_on_cpu
        self._lock = threading.Lock()

    @property
    def device_name(self) -> str:
        provider = self._session.get_providers()[0]
        return PROVIDER_NAMES.get(provider, provider)

    def embed(
        self, texts: Sequence[str], batch_size: int = 32, should_stop: Callable[[], bool] | None = None
    ) -> np.ndarray:
        """float32 embeddings, shape ``(len(texts), dimensions)``, one row of unit length per text.

        Only the first ``max_tokens`` tokens of a text count (256 for the bundled model, about 190
        English words); the rest is ignored, so feed passages, not whole documents. A text with no
        tokens (empty, whitespace, or only characters the tokenizer drops) gets a row of zeros,
        which is alike nothing. Texts are tokenized ``batch_size`` at a time and ``should_stop`` is
        asked before each batch (``Cancelled`` is raised when it says stop). A model call runs at
        most ``texts_per_run`` of a batch (1 for the bundled int8 model, so a text's vector never
        depends on the texts it came with), shortest first so that little of a call is padding.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        result = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            if should_stop is not None and should_stop():
                raise Cancelled("stopped")
            batch = [without_surrogates(text) for text in texts[start : start + batch_size]]
            encodings = self._tokenizer.encode_batch(batch)
            # [CLS] and [SEP] alone would give a vector close to every other short text: zeros instead.
            rows = [i for i, e in enumerate(encodings) if len(e.ids) > sum(e.special_tokens_mask)]
            rows.sort(key=lambda i: len(encodings[i].ids))
            for first in range(0, len(rows), self.texts_per_run):
                run = rows[first : first + self.texts_per_run]
                result[[start + i for i in run]] = self._run([encodings[i] for i in run])
        return result

    def _run(self, encodings: list[Encoding]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUT_NAMES}
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            feed["input_ids"][row, :length] = encoding.ids
            feed["attention_mask"][row, :length] = 1
            feed["token_type_ids"][row, :length] = encoding.type_ids
        feed = {name: feed[name] for name in self._inputs}
        session = self._session
        try:
            (vectors,) = session.run([OUTPUT_NAME], feed, QUIET_RUN)
        except Exception as error:  # onnxruntime raises several unrelated exception types
            vectors = self._run_on_cpu(session, feed, error)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(encodings), self.dimensions) or not np.isfinite(vectors).all():
            raise ModelError(f"the embedder gave invalid vectors (shape {vectors.shape}): it may be damaged")
        return vectors

    def _run_on_cpu(self, failed: ort.InferenceSession, feed: dict[str, np.ndarray], error: Exception) -> np.ndarray:
        """Run ``feed`` again on the CPU after ``failed`` (a GPU session) could not."""
        if failed.get_providers()[0] == "CPUExecutionProvider" or self._restart_on_cpu is None:
            raise ModelError(f"the embedder failed to run: {error}") from error
        with self._lock:
            if self._session is failed:  # another thread may have switched already
                message = f"{self.device_name} failed while embedding ({error}); using the CPU"
                log.warning(message)
                self.warnings.append(message)
                self._session = self._restart_on_cpu()
            session = self._session
        (vectors,) = session.run([OUTPUT_NAME], feed, QUIET_RUN)
        return vectors


def open_embedder(folder: Path | None = None, device: str = "auto", threads: int | None = None) -> Embedder:
    """The embedder in ``folder`` (the bundled one by default) on ``device`` ("auto", "cpu" or "gpu").

    Raises ``ModelError`` when the folder is missing, incomplete or holds something else.
    """
    folder = bundled_embedder_dir() if folder is None else Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelError(f"embedding model folder not found: {folder}")
    name, dimensions, max_tokens, texts_per_run = _read_config(folder / CONFIG_NAME)
    model, tokenizer_path = folder / MODEL_NAME, folder / TOKENIZER_NAME
    for path in (model, tokenizer_path):
        if not path.is_file():
            raise ModelError(f"the embedding model folder {folder} has no {path.name}")
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
    except Exception as error:  # tokenizers raises a bare Exception on a bad file
        raise ModelError(f"cannot read the tokenizer {tokenizer_path}: {error}") from error

    threads = threads or os.cpu_count() or 1
    providers = choose_providers(device, ort.get_available_providers())
    warnings: list[str] = []
    try:
        session = _start(model, providers, threads)
    except ModelError as error:
        if providers == ["CPUExecutionProvider"]:
            raise
        warnings.append(f"{PROVIDER_NAMES[providers[0]]} failed to start ({error}); using the CPU")
        session = _start(model, ["CPUExecutionProvider"], threads)
    _check_signature(session, model, dimensions)
    embedder = Embedder(
        session,
        tokenizer,
        name,
        dimensions,
        max_tokens,
        texts_per_run,
        restart_on_cpu=lambda: _start(model, ["CPUExecutionProvider"], threads),
    )
    for message in warnings:
        log.warning(message)
        embedder.warnings.append(message)
    return embedder


def _read_config(path: Path) -> tuple[str, int, int, int]:
    """The name, width, token limit and texts per model call that ``embedder.json`` gives."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelError(f"the embedding model folder {path.parent} has no {path.name}") from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"cannot read {path}: {error}") from error
    if not isinstance(raw, dict):
        raise ModelError(f"{path} must hold a JSON object")
    name = raw.get("name") or path.parent.name
    dimensions, max_tokens = raw.get("dimensions"), raw.get("max_tokens")
    texts_per_run = raw.get("texts_per_run", 1)  # one unless the folder says otherwise: never wrong
    for key, value in (("dimensions", dimensions), ("max_tokens", max_tokens), ("texts_per_run", texts_per_run)):
        # bool is an int to Python, never a width.
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65_536:
            raise ModelError(f"{path} needs a whole number {key} from 1 to 65536, not {value!r}")
    if not isinstance(name, str):
        raise ModelError(f"{path} has a name that is not text: {name!r}")
    return name, dimensions, max_tokens, texts_per_run


def _start(model: Path, providers: list[str], threads: int) -> ort.InferenceSession:
    try:
        return new_session(str(model), session_options(providers, threads), providers)
    except Exception as error:  # onnxruntime raises several unrelated exception types
        log.info("onnxruntime could not start %s on %s: %s", model, providers[0], error)
        raise ModelError(f"cannot load the embedding model {model.name}: {error_line(error)}") from error


def _check_signature(session: ort.InferenceSession, model: Path, dimensions: int) -> None:
    """Token ids in, one pooled vector per text out: anything else is not an embedder this app can run."""
    inputs = {i.name: i for i in session.get_inputs()}
    if "input_ids" not in inputs or "attention_mask" not in inputs or set(inputs) - set(INPUT_NAMES):
        raise ModelError(
            f"the embedding model {model.name} needs inputs {', '.join(INPUT_NAMES)}, not {', '.join(inputs)}"
        )
    for name, tensor in inputs.items():
        if tensor.type != "tensor(int64)":
            raise ModelError(f"the embedding model's input {name} is {tensor.type}, where tensor(int64) is needed")
    outputs = {o.name: o for o in session.get_outputs()}
    if OUTPUT_NAME not in outputs:
        raise ModelError(f"the embedding model {model.name} has no {OUTPUT_NAME} output (it has {', '.join(outputs)})")
    shape = outputs[OUTPUT_NAME].shape
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != dimensions):
        raise ModelError(
            f"the embedding model gives vectors of shape {shape}, where embedder.json says {dimensions} wide"
        )
