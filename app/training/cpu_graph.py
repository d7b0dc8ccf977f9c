"""Give the CPU's int8 model its residual layer norms as plain operators, which onnxruntime runs faster.

``python -m reading_assistant.training.cpu_graph --model DIR`` rewrites ``DIR``'s ONNX model in
place; ``export`` does the same to every model it quantizes. Each ``com.microsoft``
``SkipLayerNormalization`` (a layer's output plus its bias, plus the residual, layer-normalised)
becomes ``Add``, ``Add`` and the standard ``LayerNormalization``: the same arithmetic, in the same
order. On onnxruntime 1.32's CPU provider the fused kernel took 4.8 of a window's 20.8 ms on this
project's 2-core machine, where the plain operators take about a quarter of that: a window reads in
about 16 ms instead of 19.5. onnxruntime fuses the three back when a session starts, so the app's
CPU sessions leave out that one fusion (``core.runtime.CPU_DISABLED_OPTIMIZERS``); GPU sessions
keep it, as their fused kernel is the fast one there. A graph without the fused node is left as it
is, so the rewrite can run twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import onnx
from onnx import helper

from ..core.model_folder import ModelFolder

FUSED = "SkipLayerNormalization"


def unfuse_skip_layer_norms(model: onnx.ModelProto) -> int:
    """Rewrite every ``SkipLayerNormalization`` of ``model`` as ``Add`` (bias), ``Add`` (residual) and
    ``LayerNormalization``, in place; returns how many were rewritten. Only the node's first output
    may be used: its optional mean, inverse deviation and sum outputs have no plain counterpart here."""
    nodes: list[onnx.NodeProto] = []
    rewritten = 0
    for node in model.graph.node:
        if node.op_type != FUSED or node.domain != "com.microsoft":
            nodes.append(node)
            continue
        if any(output for output in node.output[1:]):
            raise ValueError(f"{node.name}: a {FUSED} whose statistics are used elsewhere cannot be rewritten")
        value, skip, gamma = node.input[:3]
        beta = node.input[3] if len(node.input) > 3 else ""
        bias = node.input[4] if len(node.input) > 4 else ""
        epsilon = next((helper.get_attribute_value(a) for a in node.attribute if a.name == "epsilon"), 1e-12)
        name = node.name or f"{FUSED}_{rewritten}"
        if bias:
            nodes.append(helper.make_node("Add", [value, bias], [f"{name}/biased"], name=f"{name}/bias"))
            value = f"{name}/biased"
        nodes.append(helper.make_node("Add", [value, skip], [f"{name}/sum"], name=f"{name}/residual"))
        norm_inputs = [f"{name}/sum", gamma, *([beta] if beta else [])]
        nodes.append(
            helper.make_node(
                "LayerNormalization", norm_inputs, [node.output[0]], name=f"{name}/norm", axis=-1, epsilon=epsilon
            )
        )
        rewritten += 1
    if rewritten:
        if not any(o.domain in ("", "ai.onnx") and o.version >= 17 for o in model.opset_import):
            raise ValueError("LayerNormalization needs opset 17 or later; the model imports an older one")
        del model.graph.node[:]
        model.graph.node.extend(nodes)
    return rewritten


def rewrite_file(path: Path) -> int:
    """Rewrite the ONNX file at ``path`` in place (unchanged when it has nothing to rewrite)."""
    model = onnx.load(str(path))
    rewritten = unfuse_skip_layer_norms(model)
    if rewritten:
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return rewritten


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the model folder whose CPU model is rewritten")
    arguments = parser.parse_args(argv)
    path = ModelFolder.open(arguments.model).onnx_path
    print(f"{path}: {rewrite_file(path)} {FUSED} nodes rewritten")


if __name__ == "__main__":
    main()
