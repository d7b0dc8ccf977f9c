"""Export a fine-tuned checkpoint to ONNX with optimum and quantize it to int8.

``python -m reading_assistant.training.export --run-dir RUN --fp32-dir DIR --int8-dir models/NAME``
reads the training run's checkpoint (or its ``final`` model), writes the fp32 ONNX export to
``--fp32-dir`` (kept out of the repository, for the int8-versus-fp32 check) and the int8 model,
its ``tokenizer.json`` and ``reading_assistant.json`` to ``--int8-dir``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from optimum.onnxruntime import ORTModelForQuestionAnswering, ORTOptimizer
from optimum.onnxruntime.configuration import AutoOptimizationConfig
from transformers import AutoModelForQuestionAnswering

from ..core.model_folder import CONFIG_NAME, TOKENIZER_NAME
from ..core.options import ModelConfig
from .cpu_graph import rewrite_file

INT8_NAME = "model.onnx"


def load_trained(run_dir: Path, base_model: Path) -> torch.nn.Module:
    """The run's final model, or the weights of its latest checkpoint."""
    final = run_dir / "final"
    if (final / "config.json").exists():
        return AutoModelForQuestionAnswering.from_pretrained(final)
    model = AutoModelForQuestionAnswering.from_pretrained(base_model)
    state = torch.load(run_dir / "checkpoint.pt", weights_only=False, map_location="cpu")
    model.load_state_dict(state["model"])
    print(f"using the checkpoint at step {state['step']}")
    return model


def quantize(fp32_model: Path, int8_model: Path) -> None:
    """Fuse the transformer graph, then quantize it to int8 dynamically (no calibration data).

    Fusing first lets the quantizer turn each layer's attention into one QAttention kernel, with
    bias, GELU and residual layer norms fused too: about a third faster per window on a CPU than
    quantizing the plain export, at the same accuracy. The residual layer norms are then given back
    as plain operators (:mod:`.cpu_graph`), which onnxruntime's CPU runs faster than its fused kernel.
    """
    with tempfile.TemporaryDirectory() as scratch:
        optimizer = ORTOptimizer.from_pretrained(fp32_model.parent, file_names=[fp32_model.name])
        optimizer.optimize(save_dir=scratch, optimization_config=AutoOptimizationConfig.O2())
        fused = next(Path(scratch).glob("*optimized.onnx"))
        int8_model.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(
            fused,
            int8_model,
            op_types_to_quantize=["MatMul", "Attention", "Gather"],
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
            # Fused contrib ops hide their output types from shape inference; they are all float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    try:
        rewrite_file(int8_model)  # the residual layer norms as the CPU runs them fastest
    except ValueError as error:  # a graph that uses the fused node's statistics runs as it is
        print(f"the residual layer norms stay fused: {error}")


def export(run_dir: Path, fp32_dir: Path, int8_dir: Path, name: str) -> None:
    config = json.loads((run_dir / "train_config.json").read_text())
    base = Path(config["base_model"])
    model = load_trained(run_dir, base).eval()
    with tempfile.TemporaryDirectory() as scratch:
        model.save_pretrained(scratch)
        shutil.copy(base / TOKENIZER_NAME, Path(scratch) / TOKENIZER_NAME)
        for extra in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
            if (base / extra).exists():
                shutil.copy(base / extra, Path(scratch) / extra)
        ort_model = ORTModelForQuestionAnswering.from_pretrained(scratch, export=True)
        ort_model.save_pretrained(fp32_dir)
    shutil.copy(base / TOKENIZER_NAME, fp32_dir / TOKENIZER_NAME)

    quantize(fp32_dir / "model.onnx", int8_dir / INT8_NAME)
    shutil.copy(base / TOKENIZER_NAME, int8_dir / TOKENIZER_NAME)
    # The transformers config lets optimum (and the benchmark's baseline) open the int8 model too.
    shutil.copy(fp32_dir / "config.json", int8_dir / "config.json")

    model_config = ModelConfig(
        name=name,
        onnx_file=INT8_NAME,
        seq_len=config["seq_len"],
        query_len=config["query_len"],
        doc_stride=config["doc_stride"],
        batch_size=1,  # dynamic quantization: see ModelConfig.batch_size
    )
    existing = int8_dir / CONFIG_NAME
    if existing.exists():
        # Keep what was measured on an earlier export of the same model: the calibrated temperatures,
        # the no-answer threshold and curve and the reading stride (training windows use their own).
        kept = json.loads(existing.read_text())
        temperatures = ("temperature", "many_windows_temperature", "temperature_decay")
        measured = (*temperatures, "null_threshold", "null_scale", "doc_stride")
        model_config = replace(model_config, **{key: kept[key] for key in measured if key in kept})
    existing.write_text(json.dumps(asdict(model_config), indent=2) + "\n")
    fp32_config = replace(model_config, onnx_file="model.onnx", batch_size=ModelConfig.batch_size)
    (fp32_dir / CONFIG_NAME).write_text(json.dumps(asdict(fp32_config), indent=2))
    print(f"fp32: {fp32_dir}\nint8: {int8_dir / INT8_NAME} ({(int8_dir / INT8_NAME).stat().st_size / 2**20:.1f} MB)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--fp32-dir", type=Path, required=True)
    parser.add_argument("--int8-dir", type=Path, required=True)
    parser.add_argument("--name", default="minilm-squad-int8")
    arguments = parser.parse_args(argv)
    export(arguments.run_dir, arguments.fp32_dir, arguments.int8_dir, arguments.name)


if __name__ == "__main__":
    main()
