"""Make the fp16 model that GPUs run from the bundled int8 model, and measure that both agree.

``python -m reading_assistant.training.export_fp16 --model models/minilm-squad-int8 --squad
/work/shared/data/squad/dev-v1.1.json.gz`` writes ``model_fp16.onnx`` beside the int8 ``model.onnx``
(the name ``core.model_folder.GPU_MODEL_NAME`` looks for) and prints the dev-v1.1 F1 of both, the
share of identical first answers and the largest logit difference; ``--sample N`` measures on a
seeded sample of N questions instead of all of them.

The int8 graph is what the CPU runs well: its weights are int8 and every activation is quantized
again at run time (DynamicQuantizeLinear, MatMulInteger, QAttention), which a GPU provider runs
slowly or hands back to the CPU. The fp16 graph is the same network with the same weights, made by
dequantizing them rather than by exporting the trained checkpoint again, so the two answer alike:

- each ``DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul`` becomes one ``MatMul`` on the
  dequantized weights, and each ``QAttention`` a ``com.microsoft`` ``Attention`` (which CUDA and
  DirectML both run fused);
- the encoder from the embeddings' layer norm to the logits runs in fp16, its weights stored as
  fp16 (the int8 value times its scale, rounded once);
- the embedding lookup stays as it is (uint8 tables, dequantized after the lookup, added and
  normalised in fp32): a lookup does no arithmetic worth a GPU, and the tables stay 11 MB rather
  than 24;
- the logits are cast back to fp32, so both files have the same inputs and outputs.

The graph is rebuilt only where it has exactly this pattern: any other model is refused with the
pattern that did not match, never converted half-way. The ``onnx`` package (the dev and train
extras) is needed here, never at run time: the fp16 file ships in the package.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..core.engine import QAEngine
from ..core.model_folder import GPU_MODEL_NAME, ModelFolder
from ..evaluation.evaluate import best_span
from ..evaluation.squad import load_squad, score_question

SEED = 0
# Attention's own default: -3.4e38, the int8 graph's, is not an fp16 number (it would become -inf).
FP16_MASK_FILTER_VALUE = -10000.0


class PatternError(ValueError):
    """The int8 graph is not the dynamically quantized, fused BERT this script knows how to undo."""


@dataclass
class Graph:
    """Where each tensor comes from and goes to, for rewiring the graph node by node."""

    model: onnx.ModelProto

    def __post_init__(self) -> None:
        self.initializers = {i.name: i for i in self.model.graph.initializer}
        self.producer = {out: node for node in self.model.graph.node for out in node.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
        for node in self.model.graph.node:
            for name in node.input:
                self.consumers[name].append(node)

    def made_by(self, tensor: str, op_type: str) -> onnx.NodeProto:
        node = self.producer.get(tensor)
        if node is None or node.op_type != op_type:
            raise PatternError(f"{tensor} should come from a {op_type}, not {node.op_type if node else 'nowhere'}")
        return node

    def only_consumer(self, tensor: str, op_type: str) -> onnx.NodeProto:
        users = self.consumers.get(tensor, [])
        if len(users) != 1 or users[0].op_type != op_type:
            raise PatternError(f"{tensor} should go to one {op_type}, not {[u.op_type for u in users]}")
        return users[0]

    def weight(self, name: str) -> np.ndarray:
        if name not in self.initializers:
            raise PatternError(f"{name} should be a stored weight")
        return numpy_helper.to_array(self.initializers[name])


def dequantized(graph: Graph, weight: str, scale: str, zero_point: str) -> np.ndarray:
    """The float weights an int8 weight stands for: (value - zero point) x scale, per output column."""
    values = graph.weight(weight).astype(np.float32)
    return (values - graph.weight(zero_point).astype(np.float32)) * graph.weight(scale).astype(np.float32)


def to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """The fp16 graph of a fused, dynamically quantized int8 BERT (see the module's note)."""
    model = _copy(model)  # its nodes are rewired in place
    graph = Graph(model)
    removed: set[int] = set()  # ids of the nodes replaced
    replacements: dict[int, onnx.NodeProto] = {}  # id of a node -> what stands in its place
    weights: dict[str, np.ndarray] = {}
    fp16_roots: set[str] = set()  # the float tensors each quantized product reads

    for node in model.graph.node:
        if node.op_type == "MatMulInteger":
            quantize = graph.made_by(node.input[0], "DynamicQuantizeLinear")
            cast = graph.only_consumer(node.output[0], "Cast")
            rescale = graph.only_consumer(cast.output[0], "Mul")
            scales = graph.made_by(next(i for i in rescale.input if i != cast.output[0]), "Mul")
            weight_scale = next((i for i in scales.input if i in graph.initializers), "")
            name = f"{node.input[1]}_fp16"
            weights[name] = dequantized(graph, node.input[1], weight_scale, node.input[3])
            replacements[id(node)] = helper.make_node(
                "MatMul", [quantize.input[0], name], list(rescale.output), name=node.name or rescale.output[0]
            )
            removed.update((id(cast), id(rescale), id(scales)))
            fp16_roots.add(quantize.input[0])
        elif node.op_type == "QAttention":
            quantize = graph.made_by(node.input[0], "DynamicQuantizeLinear")
            name = f"{node.input[1]}_fp16"
            weights[name] = dequantized(graph, node.input[1], node.input[4], node.input[7])
            bias = f"{node.input[2]}_fp16"
            weights[bias] = graph.weight(node.input[2])
            attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            attributes["mask_filter_value"] = FP16_MASK_FILTER_VALUE
            replacements[id(node)] = helper.make_node(
                "Attention",
                [quantize.input[0], name, bias, node.input[5]],
                list(node.output),
                name=node.name or node.output[0],
                domain="com.microsoft",
                **attributes,
            )
            fp16_roots.add(quantize.input[0])
    if not replacements:
        raise PatternError("the graph has no MatMulInteger or QAttention: it is not a dynamically quantized model")

    for node in model.graph.node:
        if node.op_type == "DynamicQuantizeLinear":
            readers = [reader for output in node.output for reader in graph.consumers.get(output, [])]
            kept = [r.op_type for r in readers if id(r) not in replacements and id(r) not in removed]
            if kept:
                raise PatternError(f"{node.name}: a quantized activation is read by {kept}, which stays")
    nodes = []
    for node in model.graph.node:
        if id(node) in replacements:
            nodes.append(replacements[id(node)])
        elif id(node) not in removed and node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
    leftover = [n.op_type for n in nodes if n.op_type in ("MatMulInteger", "QAttention", "DynamicQuantizeLinear")]
    if leftover:
        raise PatternError(f"quantized nodes were left in the graph: {leftover}")
    return _in_fp16(model, nodes, weights, fp16_roots)


def _in_fp16(
    model: onnx.ModelProto, nodes: list[onnx.NodeProto], new_weights: dict[str, np.ndarray], roots: set[str]
) -> onnx.ModelProto:
    """The graph of ``nodes`` (in the int8 graph's order, which runs each node after what it reads)
    with everything downstream of ``roots`` in fp16: the float weights it reads stored as fp16, a
    Cast where fp32 enters it, and the outputs cast back to fp32."""
    consumers: dict[str, list[onnx.NodeProto]] = defaultdict(list)
    for node in nodes:
        for name in node.input:
            consumers[name].append(node)
    region: set[int] = set()
    pending = list(roots)
    while pending:
        for node in consumers.get(pending.pop(), []):
            if id(node) not in region:
                region.add(id(node))
                pending.extend(node.output)
    for node in nodes:
        if id(node) in region and node.op_type in ("Cast", "Constant"):
            raise PatternError(f"{node.name}: a {node.op_type} inside the encoder is not part of the known pattern")
    region_reads = {name for node in nodes if id(node) in region for name in node.input}
    other_reads = {name for node in nodes if id(node) not in region for name in node.input}

    arrays = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer if i.name in region_reads | other_reads}
    arrays.update(new_weights)
    initializers = []
    for name, array in arrays.items():
        if array.dtype == np.float32 and name in region_reads:
            if name in other_reads:
                raise PatternError(f"the weight {name} is read by fp32 and fp16 nodes alike")
            if np.abs(array).max(initial=0.0) > np.finfo(np.float16).max:
                raise PatternError(f"the weight {name} does not fit in fp16")
            array = array.astype(np.float16)
        initializers.append(numpy_helper.from_array(array, name))

    entries: dict[str, onnx.NodeProto] = {}  # an fp32 tensor the encoder reads -> its Cast to fp16
    for root in sorted(roots):
        made_inside = any(id(node) in region and root in node.output for node in nodes)
        if made_inside:
            continue
        entries[root] = helper.make_node("Cast", [root], [f"{root}_fp16"], name=f"{root}_fp16", to=TensorProto.FLOAT16)
        for user in consumers[root]:
            user.input[:] = [f"{root}_fp16" if name == root else name for name in user.input]
    ordered = [entries[i.name] for i in model.graph.input if i.name in entries]
    for node in nodes:
        ordered.append(node)
        ordered.extend(entries[name] for name in node.output if name in entries)
    for output in model.graph.output:
        inner = f"{output.name}_fp16"
        for node in nodes:
            node.output[:] = [inner if name == output.name else name for name in node.output]
        ordered.append(helper.make_node("Cast", [inner], [output.name], name=output.name, to=TensorProto.FLOAT))

    graph = helper.make_graph(
        ordered, model.graph.name, list(model.graph.input), list(model.graph.output), initializers
    )
    fp16 = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name="reading-assistant")
    fp16.ir_version = model.ir_version
    return fp16


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def write_fp16(folder: Path) -> Path:
    """Write the folder's fp16 model beside its int8 one, after onnxruntime has loaded it."""
    import onnxruntime as ort

    int8 = ModelFolder.open(folder).onnx_path
    fp16 = to_fp16(onnx.load(int8))
    target = int8.parent / GPU_MODEL_NAME
    partial = target.with_suffix(".partial")
    onnx.save(fp16, partial)
    try:
        ort.InferenceSession(str(partial), providers=["CPUExecutionProvider"])
    except Exception:
        partial.unlink()
        raise
    partial.replace(target)
    print(f"{target}: {target.stat().st_size / 2**20:.1f} MB (int8: {int8.stat().st_size / 2**20:.1f} MB)")
    return target


@dataclass(frozen=True)
class Agreement:
    questions: int
    int8_f1: float
    fp16_f1: float
    int8_exact: float
    fp16_exact: float
    same_first_answer: float  # percent of questions whose first answers are the same span
    largest_logit_gap: float  # between the first answers' logits, where they are the same span
    int8_seconds: float
    fp16_seconds: float


def measure(folder: Path, squad: Path, sample: int = 0, threads: int | None = None) -> Agreement:
    """Both models of the folder on the CPU, on SQuAD (all its questions, or a seeded sample)."""
    pairs = load_squad(squad).questions()
    if sample and sample < len(pairs):
        pairs = [pairs[i] for i in sorted(random.Random(SEED).sample(range(len(pairs)), sample))]
    int8_folder = ModelFolder.open(folder)
    fp16_folder = replace(int8_folder, onnx_path=int8_folder.path / GPU_MODEL_NAME)
    runs = []
    for model_folder in (int8_folder, fp16_folder):
        engine = QAEngine(model_folder, "cpu", threads)
        started = time.perf_counter()
        predictions = engine.ask_many([(paragraph.context, question.question) for paragraph, question in pairs])
        runs.append((predictions, time.perf_counter() - started))
    (int8, int8_seconds), (fp16, fp16_seconds) = runs
    scores = {
        name: np.array([score_question(best_span(p), q) for p, (_, q) in zip(run, pairs, strict=True)])
        for name, run in (("int8", int8), ("fp16", fp16))
    }
    same = [
        (a.answers[0], b.answers[0])
        for a, b in zip(int8, fp16, strict=True)
        if a.answers and b.answers and (a.answers[0].start, a.answers[0].end) == (b.answers[0].start, b.answers[0].end)
    ]
    return Agreement(
        questions=len(pairs),
        int8_f1=100 * float(scores["int8"][:, 1].mean()),
        fp16_f1=100 * float(scores["fp16"][:, 1].mean()),
        int8_exact=100 * float(scores["int8"][:, 0].mean()),
        fp16_exact=100 * float(scores["fp16"][:, 0].mean()),
        same_first_answer=100 * len(same) / len(pairs),
        largest_logit_gap=max((abs(a.logit - b.logit) for a, b in same), default=0.0),
        int8_seconds=int8_seconds,
        fp16_seconds=fp16_seconds,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/minilm-squad-int8"), help="the int8 model folder")
    parser.add_argument("--squad", type=Path, help="a SQuAD file to measure both models on (read, never copied)")
    parser.add_argument("--sample", type=int, default=0, help="measure on this many seeded questions (0: all)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--measure-only", action="store_true", help="measure the fp16 model already written")
    arguments = parser.parse_args(argv)
    if not arguments.measure_only:
        write_fp16(arguments.model)
    if arguments.squad:
        result = measure(arguments.model, arguments.squad, arguments.sample, arguments.threads)
        print(
            f"{result.questions:,} questions of {arguments.squad.name}, on the CPU\n"
            f"int8: EM {result.int8_exact:.2f}, F1 {result.int8_f1:.2f} ({result.int8_seconds:.0f} s)\n"
            f"fp16: EM {result.fp16_exact:.2f}, F1 {result.fp16_f1:.2f} ({result.fp16_seconds:.0f} s)\n"
            f"F1 difference {result.fp16_f1 - result.int8_f1:+.2f}; the same first answer for "
            f"{result.same_first_answer:.2f}% of the questions (their logits differ by at most "
            f"{result.largest_logit_gap:.3f})"
        )


if __name__ == "__main__":
    main()
