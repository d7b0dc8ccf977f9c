"""How far the CPU's time per window is from what this CPU's int8 arithmetic allows.

``python -m reading_assistant.evaluation.cpu_limit [--model DIR] [--threads N] [--json]`` times,
with the app's own session options:

- the int8 matrix products a window of the model is made of (each layer's query/key/value
  projection, attention output and two feed-forward products, at ``seq_len`` rows), alone, as
  onnxruntime's ``DynamicQuantizeMatMul`` runs them in the model: multiply-adds per second;
- the same products in fp32, which the attention scores themselves are computed in;
- the model on one full window, as the app reads it (batch 1);

and prints the window's multiply-adds, the time the products alone take (the floor for this CPU
and runtime), and the model's time per window against it. Nothing is downloaded or written.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..core.model_folder import ModelFolder
from ..core.model_shape import read_shape
from ..core.paths import bundled_model_dir
from ..core.placement import CPU
from ..core.runtime import new_session, quiet_run_options, session_options
from ..core.windows import TextTokenizer

RUNS = 20  # timed runs of each graph after warming up; the median counts


@dataclass(frozen=True)
class CpuLimit:
    threads: int
    window_tokens: int
    window_gmac: float  # multiply-adds of one window: matrix products and attention scores
    int8_gmac_per_s: float  # the window's int8 products, dynamically quantized as the model runs them
    fp32_gmac_per_s: float  # the same products in fp32
    scores_ms: float  # one layer's attention scores and weighted values, fp32
    products_ms: float  # the window's products alone: int8 projections and fp32 attention, every layer
    model_ms: float  # the model on one full window, batch 1

    @property
    def gap(self) -> float:
        return self.model_ms / self.products_ms


def _median_ms(session: ort.InferenceSession, feed: dict[str, np.ndarray]) -> float:
    options = quiet_run_options()
    for _ in range(3):
        session.run(None, feed, options)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        session.run(None, feed, options)
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def _products_graph(shapes: list[tuple[int, int]], rows: int, quantized: bool) -> bytes:
    """One graph of the products ``rows x k @ k x n`` for each (k, n), each on its own input, as the
    int8 model computes them (``DynamicQuantizeMatMul``: activations quantized at run time, int8
    per-channel weights) or in fp32."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inputs, outputs, weights = [], [], [], []
    for n, (k, width) in enumerate(shapes):
        inputs.append(helper.make_tensor_value_info(f"x{n}", TensorProto.FLOAT, [rows, k]))
        outputs.append(helper.make_tensor_value_info(f"y{n}", TensorProto.FLOAT, [rows, width]))
        if quantized:
            weights += [
                numpy_helper.from_array(rng.integers(-127, 128, (k, width), dtype=np.int8), f"w{n}"),
                numpy_helper.from_array(np.full(width, 0.01, dtype=np.float32), f"s{n}"),
                numpy_helper.from_array(np.zeros(width, dtype=np.int8), f"z{n}"),
            ]
            nodes.append(
                helper.make_node(
                    "DynamicQuantizeMatMul",
                    [f"x{n}", f"w{n}", f"s{n}", f"z{n}"],
                    [f"y{n}"],
                    domain="com.microsoft",
                )
            )
        else:
            weights.append(numpy_helper.from_array(rng.standard_normal((k, width)).astype(np.float32), f"w{n}"))
            nodes.append(helper.make_node("MatMul", [f"x{n}", f"w{n}"], [f"y{n}"]))
    graph = helper.make_graph(nodes, "products", inputs, outputs, weights)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets).SerializeToString()


def _products_ms(shapes: list[tuple[int, int]], rows: int, quantized: bool, threads: int) -> float:
    session = ort.InferenceSession(
        _products_graph(shapes, rows, quantized), session_options([CPU], threads), providers=[CPU]
    )
    rng = np.random.default_rng(1)
    feed = {f"x{n}": rng.standard_normal((rows, k)).astype(np.float32) for n, (k, _) in enumerate(shapes)}
    return _median_ms(session, feed)


def _scores_ms(heads: int, tokens: int, head: int, threads: int) -> float:
    """The attention's own products in fp32, all heads in one batched product each: queries x keys,
    then the weights x values."""
    from onnx import TensorProto, helper

    def tensor(name: str, dims: list[int]):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["q", "k"], ["w"]), helper.make_node("MatMul", ["w", "v"], ["y"])],
        "scores",
        [tensor("q", [heads, tokens, head]), tensor("k", [heads, head, tokens]), tensor("v", [heads, tokens, head])],
        [tensor("y", [heads, tokens, head])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    session = ort.InferenceSession(model, session_options([CPU], threads), providers=[CPU])
    rng = np.random.default_rng(2)
    shapes = {"q": (heads, tokens, head), "k": (heads, head, tokens), "v": (heads, tokens, head)}
    return _median_ms(session, {name: rng.standard_normal(dims).astype(np.float32) for name, dims in shapes.items()})


def measure(model_dir: Path, threads: int) -> CpuLimit:
    folder = ModelFolder.open(model_dir)
    shape = read_shape(folder.onnx_path)
    if not (shape.hidden and shape.layers and shape.intermediate):
        raise SystemExit(f"{folder.onnx_path.name}: its hidden size, layers and feed-forward width cannot be read")
    tokens = folder.config.seq_len
    hidden, wide = shape.hidden, shape.intermediate
    # One layer's products: queries, keys and values together, attention output, feed-forward in and out.
    layer = [(hidden, 3 * hidden), (hidden, hidden), (hidden, wide), (wide, hidden)]
    layer_mac = tokens * sum(k * n for k, n in layer)
    scores_mac = 2 * tokens * tokens * hidden  # queries x keys, then the weights x values
    window_mac = shape.layers * (layer_mac + scores_mac)

    int8_ms = _products_ms(layer, tokens, quantized=True, threads=threads)
    fp32_ms = _products_ms(layer, tokens, quantized=False, threads=threads)
    heads = shape.heads or max(1, hidden // 32)
    scores_ms = _scores_ms(heads, tokens, hidden // heads, threads)
    products_ms = shape.layers * (int8_ms + scores_ms)

    session = new_session(str(folder.onnx_path), session_options([CPU], threads), [CPU])
    # A window of text as the app tokenizes it (a model's vocabulary may be small).
    words = TextTokenizer.from_file(folder.tokenizer_path).tokenize("the window of a long document " * tokens).ids
    ids = np.array([words[:tokens]], dtype=np.int64)
    names = {i.name for i in session.get_inputs()}
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    model_ms = _median_ms(session, {k: v for k, v in feed.items() if k in names})
    return CpuLimit(
        threads=threads,
        window_tokens=tokens,
        window_gmac=window_mac / 1e9,
        int8_gmac_per_s=layer_mac / 1e9 / (int8_ms / 1000),
        fp32_gmac_per_s=layer_mac / 1e9 / (fp32_ms / 1000),
        scores_ms=scores_ms,
        products_ms=products_ms,
        model_ms=model_ms,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the bundled model)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args(argv)
    limit = measure(a.model or bundled_model_dir(), a.threads)
    if a.json:
        print(json.dumps({**asdict(limit), "gap": round(limit.gap, 2)}))
        return
    print(
        f"a window of {limit.window_tokens} tokens: {limit.window_gmac:.2f} GMAC\n"
        f"this CPU, {limit.threads} threads: int8 products {limit.int8_gmac_per_s:.0f} GMAC/s "
        f"(fp32 {limit.fp32_gmac_per_s:.0f}); one layer's attention scores in fp32: {limit.scores_ms:.2f} ms\n"
        f"the window's products alone: {limit.products_ms:.1f} ms; the model: {limit.model_ms:.1f} ms a window, "
        f"{limit.gap:.1f}x that"
    )


if __name__ == "__main__":
    main()
