"""Rebuild a trainable PyTorch model from an exported int8 model folder, to continue training.

``python -m reading_assistant.training.recover --model models/minilm-squad-int8 --output-dir DIR`` reads the
int8 ONNX file that :mod:`reading_assistant.training.export` wrote (fused attention, dynamic quantization) and
writes a ``BertForQuestionAnswering`` folder, with the model's ``tokenizer.json``, that
``reading_assistant.training.train --base-model DIR`` accepts. Each weight is dequantized (``(q - zero) *
scale``), so the result differs from the lost fp32 weights by the quantization error alone; a
further stage of training starts from there. This exists because fp32 checkpoints live outside
the repository and do not always survive a change of machine, while the int8 model is committed.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import BertConfig, BertForQuestionAnswering

from ..core.model_folder import ModelFolder

# Where each MatMulInteger of the exported graph writes, and the Linear layer whose weight it holds.
MATMUL_OUTPUTS = {
    r"/bert/encoder/layer\.(\d+)/attention/output/dense/": "bert.encoder.layer.{}.attention.output.dense",
    r"/bert/encoder/layer\.(\d+)/intermediate/dense/": "bert.encoder.layer.{}.intermediate.dense",
    r"/bert/encoder/layer\.(\d+)/output/dense/": "bert.encoder.layer.{}.output.dense",
    r"/qa_outputs/()": "qa_outputs",
}


def dequantize(initializers: dict[str, np.ndarray], quantized: str) -> np.ndarray:
    """A float tensor from ``NAME_quantized`` and its ``NAME_scale`` / ``NAME_zero_point`` (per column or tensor)."""
    stem = quantized.removesuffix("_quantized")
    values = initializers[quantized].astype(np.float32)
    return (values - initializers[f"{stem}_zero_point"].astype(np.float32)) * initializers[f"{stem}_scale"]


def recovered_state(onnx_path: Path) -> dict[str, torch.Tensor]:
    """The ``BertForQuestionAnswering`` state dict that the int8 graph holds, dequantized."""
    graph = onnx.load(str(onnx_path)).graph
    initializers = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    # Layer norms and biases stay float; their names are the transformers ones.
    state: dict[str, np.ndarray] = {
        name: value
        for name, value in initializers.items()
        if name.startswith(("bert.", "qa_outputs.")) and value.dtype == np.float32
    }
    for table in ("word", "position", "token_type"):
        state[f"bert.embeddings.{table}_embeddings.weight"] = dequantize(
            initializers, f"bert.embeddings.{table}_embeddings.weight_quantized"
        )

    for name in initializers:
        fused = re.fullmatch(r"Attention_(\d+)_qkv_weight_quantized", name)
        if fused:
            layer = int(fused.group(1))
            # ONNX Runtime's attention fusion stacks the query, key and value MatMul weights (in x out) by column.
            weights = np.split(dequantize(initializers, name), 3, axis=1)
            biases = np.split(initializers[f"Attention_{layer}_qkv_bias"], 3)
            for part, weight, bias in zip(("query", "key", "value"), weights, biases, strict=True):
                state[f"bert.encoder.layer.{layer}.attention.self.{part}.weight"] = weight.T
                state[f"bert.encoder.layer.{layer}.attention.self.{part}.bias"] = bias

    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        for pattern, linear in MATMUL_OUTPUTS.items():
            found = re.match(pattern, node.output[0])
            if found:
                state[f"{linear.format(found.group(1))}.weight"] = dequantize(initializers, node.input[1]).T
    return {name: torch.from_numpy(np.array(value, dtype=np.float32)) for name, value in state.items()}


def recover(model_dir: Path, output_dir: Path) -> Path:
    folder = ModelFolder.open(model_dir)
    model = BertForQuestionAnswering(BertConfig.from_pretrained(model_dir))
    state = recovered_state(folder.onnx_path)
    expected = {name for name in model.state_dict() if not name.endswith("position_ids")}
    missing = expected - set(state)
    if missing:
        raise ValueError(f"the ONNX graph does not hold these weights: {sorted(missing)}")
    model.load_state_dict(state, strict=False)
    model.save_pretrained(output_dir)
    shutil.copyfile(folder.tokenizer_path, output_dir / "tokenizer.json")
    return output_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model folder with the int8 model.onnx")
    parser.add_argument("--output-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    print(f"saved {recover(args.model, args.output_dir)}")


if __name__ == "__main__":
    main()
