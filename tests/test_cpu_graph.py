"""The CPU model's residual layer norms as plain operators: the same arithmetic, and kept apart by
the app's CPU sessions (onnxruntime would fuse them back into its slower kernel)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from reading_assistant.core.paths import bundled_model_dir
from reading_assistant.core.placement import CPU
from reading_assistant.core.runtime import new_session, session_options

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from reading_assistant.training.cpu_graph import FUSED, unfuse_skip_layer_norms  # noqa: E402

WIDTH = 8


def residual_norm_model(with_bias: bool) -> onnx.ModelProto:
    rng = np.random.default_rng(4)
    weights = [
        numpy_helper.from_array(rng.standard_normal(WIDTH).astype(np.float32), name)
        for name in ("gamma", "beta", "bias")
    ]
    inputs = ["x", "skip", "gamma", "beta", *(["bias"] if with_bias else [])]
    node = helper.make_node(FUSED, inputs, ["y"], name="residual", domain="com.microsoft", epsilon=1e-5)
    graph = helper.make_graph(
        [node],
        "residual",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [2, 3, WIDTH]) for name in ("x", "skip")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, WIDTH])],
        weights,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets)


@pytest.mark.parametrize("with_bias", [True, False])
def test_the_plain_operators_compute_what_the_fused_one_did(with_bias):
    fused = residual_norm_model(with_bias)
    plain = residual_norm_model(with_bias)
    assert unfuse_skip_layer_norms(plain) == 1
    assert [n.op_type for n in plain.graph.node] == [*(["Add"] if with_bias else []), "Add", "LayerNormalization"]
    assert unfuse_skip_layer_norms(plain) == 0, "a second rewrite leaves the graph as it is"
    rng = np.random.default_rng(5)
    feed = {name: rng.standard_normal((2, 3, WIDTH)).astype(np.float32) for name in ("x", "skip")}
    expected = ort.InferenceSession(fused.SerializeToString(), providers=[CPU]).run(None, feed)[0]
    got = new_session(plain.SerializeToString(), session_options([CPU], 1), [CPU]).run(None, feed)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_fused_norm_whose_statistics_are_used_is_refused():
    model = residual_norm_model(True)
    model.graph.node[0].output.append("mean")
    with pytest.raises(ValueError, match="statistics"):
        unfuse_skip_layer_norms(model)


def test_the_bundled_model_keeps_its_norms_apart_on_the_cpu(tmp_path):
    path = bundled_model_dir() / "model.onnx"
    assert FUSED not in {n.op_type for n in onnx.load(str(path)).graph.node}
    options = session_options([CPU], 1)
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    new_session(str(path), options, [CPU])
    operators = [n.op_type for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node]
    assert FUSED not in operators and operators.count("LayerNormalization") == 13
