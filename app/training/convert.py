"""Turn a Hugging Face question-answering checkpoint into a model folder the app reads.

Used by ``reading-assistant models add CHECKPOINT`` (``convert_checkpoint`` is the converter the
command line hands ``core.model_store.add_model``), never at run
time: it needs torch, transformers and optimum (the ``models`` extra). Any architecture that
``AutoModelForQuestionAnswering`` and optimum's ONNX exporter know (BERT, DistilBERT, ALBERT,
RoBERTa, ELECTRA, DeBERTa...) is exported to fp32 ONNX, then fused and quantized to int8 exactly as
the bundled model is (``training.export.quantize``).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from optimum.onnxruntime import ORTModelForQuestionAnswering
from transformers import AutoTokenizer

from ..core.model_folder import TOKENIZER_NAME
from .export import quantize

# Beside the model: the fast tokenizer the app reads, and the transformers config optimum reads.
KEPT = (TOKENIZER_NAME, "config.json")


def export_checkpoint(source: Path, fp32_dir: Path) -> None:
    """The checkpoint's fp32 ONNX export (optimum's layout) with its fast tokenizer's tokenizer.json."""
    model = ORTModelForQuestionAnswering.from_pretrained(source, export=True)
    model.save_pretrained(fp32_dir)
    if (source / TOKENIZER_NAME).is_file():
        shutil.copy(source / TOKENIZER_NAME, fp32_dir / TOKENIZER_NAME)
        return
    # A checkpoint with only a slow tokenizer's files (vocab.txt, spiece.model): transformers
    # converts it to a fast one, whose tokenizer.json the app reads.
    tokenizer = AutoTokenizer.from_pretrained(source, use_fast=True)
    if not tokenizer.is_fast:
        return
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer.save_pretrained(scratch)
        if (Path(scratch) / TOKENIZER_NAME).is_file():
            shutil.copy(Path(scratch) / TOKENIZER_NAME, fp32_dir / TOKENIZER_NAME)


def quantize_folder(fp32_dir: Path, int8_dir: Path, log: Callable[[str], None] = print) -> None:
    """int8 as the bundled model: fused graph, dynamic quantization; plain quantization if fusion fails."""
    int8_dir.mkdir(parents=True, exist_ok=True)
    try:
        quantize(fp32_dir / "model.onnx", int8_dir / "model.onnx")
    except Exception as error:  # ORTOptimizer refuses architectures onnxruntime cannot fuse
        log(
            f"fusion is not available for this model ({str(error).splitlines()[0] if str(error) else error}); "
            "quantizing without it"
        )
        quantize_dynamic(
            fp32_dir / "model.onnx",
            int8_dir / "model.onnx",
            op_types_to_quantize=["MatMul", "Gather"],
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    for name in KEPT:
        if (fp32_dir / name).is_file():
            shutil.copy(fp32_dir / name, int8_dir / name)


def convert_checkpoint(source: Path, fp32_dir: Path, int8_dir: Path, log: Callable[[str], None] = print) -> None:
    """A checkpoint exported to fp32 ONNX in ``fp32_dir``, then fused and quantized into ``int8_dir``."""
    log(f"exporting {source} to ONNX with optimum")
    with _quiet():
        export_checkpoint(source, fp32_dir)
        log("fusing and quantizing to int8")
        quantize_folder(fp32_dir, int8_dir, log)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters' deprecation warnings and advice are for their developers, not for the reader."""
    loggers = [logging.getLogger(name) for name in ("", "transformers", "optimum", "torch", "onnxruntime")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
