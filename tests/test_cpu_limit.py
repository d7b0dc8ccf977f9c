"""The CPU-limit benchmark: its int8 products compute what the model's do, and its figures hold
together on a real (tiny) model."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from reading_assistant.core.model_shape import read_shape
from reading_assistant.core.placement import CPU
from reading_assistant.evaluation import cpu_limit


def test_the_int8_products_are_the_models_products():
    shapes = [(16, 48), (16, 16)]
    session = ort.InferenceSession(cpu_limit._products_graph(shapes, 8, quantized=True), providers=[CPU])
    floats = ort.InferenceSession(cpu_limit._products_graph(shapes, 8, quantized=False), providers=[CPU])
    rng = np.random.default_rng(3)
    feed = {f"x{n}": rng.standard_normal((8, k)).astype(np.float32) for n, (k, _) in enumerate(shapes)}
    for n, (output, float_output) in enumerate(zip(session.run(None, feed), floats.run(None, feed), strict=True)):
        assert output.shape == float_output.shape == (8, shapes[n][1])
    # DynamicQuantizeMatMul: x (quantized at run time) @ (w * scale), w int8 per channel.
    weights = next(t for t in _initializers(cpu_limit._products_graph(shapes, 8, quantized=True)) if t.name == "w0")
    from onnx import numpy_helper

    expected = feed["x0"] @ (numpy_helper.to_array(weights).astype(np.float32) * 0.01)
    got = session.run(["y0"], feed)[0]
    assert np.abs(got - expected).max() < 0.05 * np.abs(expected).max()


def _initializers(model_bytes: bytes):
    import onnx

    return onnx.load_from_string(model_bytes).graph.initializer


def test_the_figures_hold_together(tiny_bert):
    limit = cpu_limit.measure(tiny_bert, threads=1)
    shape = read_shape(tiny_bert / "model.onnx")
    tokens = limit.window_tokens
    layer = tokens * shape.hidden * (4 * shape.hidden + 2 * shape.intermediate) + 2 * tokens * tokens * shape.hidden
    assert abs(limit.window_gmac - shape.layers * layer / 1e9) < 1e-9
    assert limit.int8_gmac_per_s > 0 and limit.fp32_gmac_per_s > 0 and limit.scores_ms > 0
    assert limit.products_ms > 0 and limit.model_ms > 0
    assert limit.gap == limit.model_ms / limit.products_ms
    assert tokens == 384, "the window timed is a full one"
