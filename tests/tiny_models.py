"""Tiny QA models with random weights, built by the test session from real parts.

The tokenizers are really trained (WordPiece as in BERT, byte-level BPE as in RoBERTa) and the
models are real transformers architectures exported to ONNX by torch; only the weights are
random, so answers are arbitrary but every code path from text to highlighted span is exercised.
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

CORPUS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Marie Curie was a physicist and chemist who conducted research on radioactivity.",
    "She was the first woman to win a Nobel Prize, in 1903, and won again in 1911.",
    "Paris is the capital of France; the Seine flows through the city.",
    "Café, naïve, façade and résumé keep their accents in English text.",
    "東京は日本の首都です。 Emoji like 📚 and 🦊 appear in modern writing.",
    "مرحبا بالعالم — right-to-left text also occurs in documents.",
    "Who, what, when, where, why and how are question words.",
] * 20


# Every tiny model has the same small shape: fast to build, export and run in tests.
TINY_BERT_SHAPE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
TINY_DISTILBERT_SHAPE = {"dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 64}


def with_bert_pair_template(tokenizer: Tokenizer) -> Tokenizer:
    """BERT's and ALBERT's pair layout: [CLS] A [SEP] B [SEP], the second segment typed 1."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    return tokenizer


def wordpiece_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tokenizer.train_from_iterator(CORPUS, trainer)
    return with_bert_pair_template(tokenizer)


def byte_level_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.post_processor = processors.RobertaProcessing(
        sep=("</s>", tokenizer.token_to_id("</s>")), cls=("<s>", tokenizer.token_to_id("<s>")), trim_offsets=True
    )
    return tokenizer


def sentencepiece_tokenizer() -> Tokenizer:
    """ALBERT-style: a Unigram model behind a Metaspace pre-tokenizer, [CLS]/[SEP] template."""
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=300, special_tokens=["<pad>", "<unk>", "[CLS]", "[SEP]"], unk_token="<unk>"
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    return with_bert_pair_template(tokenizer)


def export_bert(
    folder: Path,
    *,
    output_names: tuple[str, str] = ("start_logits", "end_logits"),
    fixed_length: int | None = None,
    config: dict | None = None,
    tokenizer: Tokenizer | None = None,
) -> Path:
    """A 2-layer BERT QA model (hidden 32) in ``folder``, with its tokenizer.json and config.

    Models built with the same ``tokenizer`` have the same weights (the seed is fixed).
    """
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tokenizer or wordpiece_tokenizer()
    tokenizer.save(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    model = BertForQuestionAnswering(
        BertConfig(
            vocab_size=tokenizer.get_vocab_size(),
            **TINY_BERT_SHAPE,
            max_position_embeddings=512,
            attn_implementation="eager",
        )
    ).eval()
    length = fixed_length or 16
    dummy = _dummy_inputs(length, 3)
    dynamic = (
        None
        if fixed_length
        else {n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "token_type_ids", *output_names)}
    )
    _export(
        model,
        dummy,
        folder / "model.onnx",
        ["input_ids", "attention_mask", "token_type_ids"],
        list(output_names),
        dynamic,
    )
    if config is not None:
        (folder / "reading_assistant.json").write_text(json.dumps(config))
    return folder


def export_distilbert(folder: Path) -> Path:
    """A DistilBERT-style model (no token_type_ids input) with a RoBERTa-style BPE tokenizer."""
    import torch
    from transformers import DistilBertConfig, DistilBertForQuestionAnswering

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = byte_level_tokenizer()
    tokenizer.save(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    model = DistilBertForQuestionAnswering(
        DistilBertConfig(
            vocab_size=tokenizer.get_vocab_size(),
            **TINY_DISTILBERT_SHAPE,
            attn_implementation="eager",
        )
    ).eval()
    dummy = _dummy_inputs(16, 2)
    names = ["input_ids", "attention_mask"]
    outputs = ["start_logits", "end_logits"]
    _export(
        model, dummy, folder / "model.onnx", names, outputs, {n: {0: "batch", 1: "sequence"} for n in names + outputs}
    )
    return folder


def _dummy_inputs(length: int, count: int) -> tuple:
    """Ids, a mask with padding (so tracing keeps the masking path) and, if asked, type ids."""
    import torch

    ids = torch.ones((1, length), dtype=torch.long)
    mask = torch.ones((1, length), dtype=torch.long)
    mask[0, length // 2 :] = 0
    return (ids, mask, torch.zeros_like(ids))[:count]


def _export(model, dummy, path: Path, inputs: list[str], outputs: list[str], dynamic: dict | None) -> None:
    import torch

    class Logits(torch.nn.Module):
        def __init__(self, wrapped):
            super().__init__()
            self.wrapped = wrapped

        def forward(self, *args):
            result = self.wrapped(**dict(zip(inputs, args, strict=True)))
            return result.start_logits, result.end_logits

    torch.onnx.export(
        Logits(model),
        dummy,
        str(path),
        input_names=inputs,
        output_names=outputs,
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )


def save_checkpoint(folder: Path, architecture: str) -> Path:
    """A tiny Hugging Face QA checkpoint as ``save_pretrained`` writes it: config, safetensors, fast tokenizer.

    ``architecture`` is "bert", "distilbert" (WordPiece, no token types) or "roberta" (byte-level BPE,
    positions offset by the padding id).
    """
    import torch
    from transformers import (
        BertConfig,
        BertForQuestionAnswering,
        DistilBertConfig,
        DistilBertForQuestionAnswering,
        PreTrainedTokenizerFast,
        RobertaConfig,
        RobertaForQuestionAnswering,
    )

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    if architecture == "roberta":
        tokenizer = byte_level_tokenizer()
        special = {"bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>"}
        special |= {"pad_token": "<pad>", "unk_token": "<unk>"}
        model = RobertaForQuestionAnswering(
            RobertaConfig(
                vocab_size=tokenizer.get_vocab_size(),
                **TINY_BERT_SHAPE,
                max_position_embeddings=514,
                pad_token_id=tokenizer.token_to_id("<pad>"),
                bos_token_id=tokenizer.token_to_id("<s>"),
                eos_token_id=tokenizer.token_to_id("</s>"),
                type_vocab_size=1,
            )
        )
    else:
        tokenizer = wordpiece_tokenizer()
        special = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]"}
        special |= {"mask_token": "[MASK]"}
        if architecture == "bert":
            config = BertConfig(
                vocab_size=tokenizer.get_vocab_size(),
                **TINY_BERT_SHAPE,
                max_position_embeddings=512,
            )
            model = BertForQuestionAnswering(config)
        elif architecture == "distilbert":
            config = DistilBertConfig(vocab_size=tokenizer.get_vocab_size(), **TINY_DISTILBERT_SHAPE)
            model = DistilBertForQuestionAnswering(config)
        else:
            raise ValueError(f"unknown architecture {architecture}")
    model.eval().save_pretrained(folder)
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, model_max_length=512, **special).save_pretrained(folder)
    return folder
