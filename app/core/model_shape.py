"""What a model's ONNX graph and ``config.json`` say about its size: how many positions it has, how
wide and deep it is, and which files outside the ``.onnx`` hold its weights.

The graph is read straight from its protobuf, field by field, seeking past the weights: the app
does not depend on the ``onnx`` package, and a model of any size is walked in milliseconds
without being loaded. A file that is not a readable graph gives an empty shape (onnxruntime then
says what is wrong with it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

# RoBERTa-style models number positions from pad_token_id + 1.
OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "longformer", "data2vec-text")
# Fused attention operators carry their head count; an unfused graph has one Softmax per layer.
ATTENTION_OPS = ("Attention", "QAttention", "MultiHeadAttention", "PackedAttention", "GroupQueryAttention")
# What a transformer is assumed to be where neither the graph nor config.json tells: BERT-large's
# width, and heads as narrow as MiniLM's, so a model is never thought smaller than it may be.
ASSUMED_HIDDEN = 1024
HEAD_WIDTH = 32
FLOAT_BYTES = 4
# A call's live memory is about this many tensors of (tokens x the wider of the hidden and
# intermediate sizes) and of attention scores (heads x tokens x tokens) a window: fitted to the
# growth measured on the bundled int8 model and an fp32 BERT of its size without fused attention,
# batches of 8 to 96 windows of 128 to 512 tokens, with a margin (the estimate is 1.1 to 1.7
# times what was measured; tests/test_model_store_safety.py measures it again).
ACTIVATION_COPIES = 4
SCORE_COPIES = 2
MAX_VARINT_BYTES = 10
# A transformer's graph has thousands of fields outside its weights; a file with more than this is
# not walked to the end (it is given the assumed shape), so a crafted one cannot hold the app up.
MAX_FIELDS = 500_000
# Settings and config.json files are small: a bigger one is refused rather than read.
MAX_JSON_BYTES = 2**20


@dataclass(frozen=True)
class ModelShape:
    positions: int | None = None  # the longest window the model's position embeddings allow
    hidden: int | None = None
    layers: int | None = None
    heads: int | None = None
    intermediate: int | None = None
    external_files: tuple[str, ...] = ()  # where the graph says some weights are kept, relative to it

    def call_bytes(self, windows: int, seq_len: int) -> int:
        """About the most memory one model call on ``windows`` windows of ``seq_len`` tokens takes,
        beyond the model's weights: one layer's activations and attention scores are live at once."""
        hidden = self.hidden or ASSUMED_HIDDEN
        heads = self.heads or max(1, hidden // HEAD_WIDTH)
        widest = max(hidden, self.intermediate or 4 * hidden)
        per_window = FLOAT_BYTES * (ACTIVATION_COPIES * seq_len * widest + SCORE_COPIES * heads * seq_len * seq_len)
        return windows * per_window


def read_shape(onnx_path: Path) -> ModelShape:
    """The shape of the model in ``onnx_path``, completed by the ``config.json`` beside it."""
    try:
        status = os.stat(onnx_path)
    except OSError:
        return ModelShape()
    return _read_shape(str(onnx_path), status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=8)
def _read_shape(onnx_path: str, modified: int, size: int) -> ModelShape:  # modified and size: the cache key
    path = Path(onnx_path)
    try:
        with open(path, "rb") as stream:
            shape = _graph_shape(_Reader(stream, size))
    except (OSError, _Malformed):
        shape = ModelShape()
    return _with_config(shape, path.parent / "config.json")


def read_small_json(path: Path) -> object:
    """The value in a small JSON file (a model's settings or config.json): a regular file (never a
    pipe that would block) of at most ``MAX_JSON_BYTES``; OSError or ValueError say why not."""
    if not path.is_file():
        raise ValueError("not a regular file")
    with open(path, "rb") as stream:
        data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES // 2**20} MB")
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None


class _Malformed(Exception):
    """The bytes are not an ONNX protobuf."""


class _Reader:
    """Protobuf wire format over a file: varints, and length-delimited fields skipped by seeking."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size
        self.position = 0
        self.fields_read = 0

    def read(self, count: int) -> bytes:
        data = self.stream.read(count)
        if len(data) != count:
            raise _Malformed
        self.position += count
        return data

    def seek(self, position: int) -> None:
        if not self.position <= position <= self.size:
            raise _Malformed
        if position != self.position:
            self.stream.seek(position)
            self.position = position

    def varint(self) -> int:
        value = 0
        for index in range(MAX_VARINT_BYTES):
            byte = self.read(1)[0]
            value |= (byte & 0x7F) << (7 * index)
            if byte < 0x80:
                return value
        raise _Malformed

    def fields(self, end: int):
        """(field number, value) up to ``end``: an int for a varint, the (start, end) of a
        length-delimited field (skipped unless its reader reads it), None for fixed-size ones."""
        while self.position < end:
            self.fields_read += 1
            if self.fields_read > MAX_FIELDS:
                raise _Malformed
            key = self.varint()
            number, wire = key >> 3, key & 7
            if wire == 0:
                yield number, self.varint()
            elif wire == 2:
                length = self.varint()
                start = self.position
                if start + length > end:
                    raise _Malformed
                yield number, (start, start + length)
                self.seek(start + length)
            elif wire in (1, 5):
                self.seek(self.position + (8 if wire == 1 else 4))
                yield number, None
            else:
                raise _Malformed

    def text(self, span: tuple[int, int]) -> str:
        return self.read(span[1] - span[0]).decode("utf-8", "replace")


def _graph_shape(reader: _Reader) -> ModelShape:
    for number, value in reader.fields(reader.size):
        if number == 7 and isinstance(value, tuple):  # ModelProto.graph
            return _read_graph(reader, value[1])
    return ModelShape()


def _read_graph(reader: _Reader, end: int) -> ModelShape:
    matrices: list[tuple[str, int, int]] = []
    external: list[str] = []
    fused = softmaxes = 0
    heads = None
    for number, value in reader.fields(end):
        if not isinstance(value, tuple):
            continue
        if number == 1:  # GraphProto.node
            op_type, node_heads = _read_node(reader, value[1])
            if op_type in ATTENTION_OPS:
                fused += 1
                heads = heads or node_heads
            softmaxes += op_type == "Softmax"
        elif number == 5:  # GraphProto.initializer
            name, dims, location = _read_tensor(reader, value[1])
            if len(dims) == 2:
                matrices.append((name.lower(), dims[0], dims[1]))
            if location and location not in external:
                external.append(location)
    return _shape_of(matrices, fused or softmaxes or None, heads, tuple(external))


def _read_node(reader: _Reader, end: int) -> tuple[str, int | None]:
    op_type, heads = "", None
    for number, value in reader.fields(end):
        if number == 4 and isinstance(value, tuple):  # NodeProto.op_type
            op_type = reader.text(value)
        elif number == 5 and isinstance(value, tuple):  # NodeProto.attribute
            name, integer = _read_attribute(reader, value[1])
            if name == "num_heads" and integer and integer > 0:
                heads = integer
    return op_type, heads


def _read_attribute(reader: _Reader, end: int) -> tuple[str, int | None]:
    name, integer = "", None
    for number, value in reader.fields(end):
        if number == 1 and isinstance(value, tuple):
            name = reader.text(value)
        elif number == 3 and isinstance(value, int):
            integer = value
    return name, integer


def _read_tensor(reader: _Reader, end: int) -> tuple[str, list[int], str]:
    name, dims, location = "", [], ""
    for number, value in reader.fields(end):
        if number == 1 and isinstance(value, int):  # TensorProto.dims, one by one
            dims.append(value)
        elif number == 1 and isinstance(value, tuple):  # TensorProto.dims, packed
            while reader.position < value[1]:
                dims.append(reader.varint())
        elif number == 8 and isinstance(value, tuple):
            name = reader.text(value)
        elif number == 13 and isinstance(value, tuple):  # TensorProto.external_data: key, value
            entry = dict(_read_entry(reader, value[1]))
            location = entry.get("location", location)
    return name, dims, location


def _read_entry(reader: _Reader, end: int):
    key = ""
    for number, value in reader.fields(end):
        if number == 1 and isinstance(value, tuple):
            key = reader.text(value)
        elif number == 2 and isinstance(value, tuple):
            yield key, reader.text(value)


def _shape_of(
    matrices: list[tuple[str, int, int]], layers: int | None, heads: int | None, external: tuple[str, ...]
) -> ModelShape:
    """Positions and width from the position (or word) embeddings; the intermediate width from the
    widest matrix that has the hidden width on its other side."""
    positions = hidden = None
    for name, rows, columns in matrices:
        if "position" in name and "embed" in name:
            positions, hidden = rows, columns
            break
    if hidden is None:
        hidden = next((columns for name, _, columns in matrices if "word_embed" in name), None)
    intermediate = None
    if hidden:
        widths = [b if a == hidden else a for name, a, b in matrices if "embed" not in name and hidden in (a, b)]
        intermediate = max(widths, default=None)
    return ModelShape(positions, hidden, layers, heads, intermediate, external)


def _with_config(shape: ModelShape, config_path: Path) -> ModelShape:
    """config.json completes what the graph says, and says how many positions a RoBERTa-style
    model really has (its first pad_token_id + 1 are never used)."""
    try:
        config = read_small_json(config_path)
    except (OSError, ValueError):
        return shape
    if not isinstance(config, dict):
        return shape

    def number(*keys: str) -> int | None:
        for key in keys:
            value = config.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None

    positions = shape.positions or number("max_position_embeddings")
    if positions and config.get("model_type") in OFFSET_POSITIONS:
        pad = config.get("pad_token_id")
        positions -= (pad if isinstance(pad, int) and not isinstance(pad, bool) and pad >= 0 else 1) + 1
    return replace(
        shape,
        positions=positions if positions and positions > 0 else None,
        hidden=_larger(shape.hidden, number("hidden_size", "dim", "d_model")),
        layers=_larger(shape.layers, number("num_hidden_layers", "n_layers")),
        heads=_larger(shape.heads, number("num_attention_heads", "n_heads")),
        intermediate=_larger(shape.intermediate, number("intermediate_size", "hidden_dim")),
    )


def _larger(graph: int | None, config: int | None) -> int | None:
    """Where the graph and config.json both tell, the larger: ALBERT's embeddings are narrower than
    its layers, and a config.json that understates a model must not make it look cheap."""
    return max(graph or 0, config or 0) or None
