"""Tokenization and sliding windows over a document, with every token mapped back to characters.

The windowing follows BERT's SQuAD reference (and TFLite Model Maker's ``BertQaSpec``): the
question is cut to ``query_len`` tokens, the document is split into spans of at most
``seq_len - len(question) - specials`` tokens that advance by ``doc_stride``, and each window is
``<specials> question <specials> span <specials>`` in the tokenizer's own template, so WordPiece,
SentencePiece and byte-level BPE models all get their own special tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .errors import InputError, ModelError
from .stopping import StopCheck, check_stop, slices

# Long texts are tokenized this many characters at a time, a few chunks per call (the tokenizer
# encodes a batch on several threads): a call takes 10 to 30 ms on two cores, and a stop is asked
# between calls. Larger chunks tokenize no faster (measured from 8,000 to 100,000 characters).
CHUNK_CHARS = 16_000
CHUNKS_PER_BATCH = 4
# Short texts (a book's headings) are tokenized this many at a time.
TEXTS_PER_BATCH = 1024
# Tokenized chunks copied into one array between two stop checks (a few megabytes).
PIECES_PER_COPY = 64
_SPACE_AFTER_TEXT = re.compile(r"(?<=\S)\s")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class WindowSettings:
    """How a document is cut into model inputs."""

    seq_len: int = 384
    query_len: int = 64
    doc_stride: int = 128

    def __post_init__(self) -> None:
        if self.query_len < 1 or self.doc_stride < 1:
            raise InputError("query_len and doc_stride must be at least 1")
        if self.seq_len < self.query_len + 8:
            raise InputError(f"seq_len ({self.seq_len}) must exceed query_len ({self.query_len}) by at least 8 tokens")


@dataclass(frozen=True)
class TokenizedText:
    """A text and its tokens; ``offsets[i]`` is the character span of token ``i`` in ``text``."""

    text: str
    ids: np.ndarray  # int32, shape (n,): 8 bytes a token with the offsets' 2 x int32 is all a book keeps
    offsets: np.ndarray  # int32, shape (n, 2)

    def __len__(self) -> int:
        return len(self.ids)

    def char_span_to_tokens(self, start: int, end: int) -> tuple[int, int] | None:
        """The first and last token overlapping characters ``[start, end)``, or None if none does."""
        if len(self) == 0 or end <= start:
            return None
        first = int(np.searchsorted(self.offsets[:, 1], start, side="right"))
        last = int(np.searchsorted(self.offsets[:, 0], end, side="left")) - 1
        if first >= len(self) or last < first:
            return None
        return first, last


@dataclass(frozen=True)
class PairTemplate:
    """Where the tokenizer puts its special tokens around a (question, document) pair."""

    prefix_ids: tuple[int, ...]
    prefix_types: tuple[int, ...]
    question_type: int
    middle_ids: tuple[int, ...]
    middle_types: tuple[int, ...]
    document_type: int
    suffix_ids: tuple[int, ...]
    suffix_types: tuple[int, ...]
    pad_id: int

    @property
    def num_special(self) -> int:
        return len(self.prefix_ids) + len(self.middle_ids) + len(self.suffix_ids)

    @classmethod
    def from_tokenizer(cls, tokenizer: Tokenizer) -> PairTemplate:
        """Read the template off a real pair encoding, so no special token id is hard-coded."""
        encoding = tokenizer.encode("question", "document", add_special_tokens=True)
        segments: list[tuple[int | None, list[int], list[int]]] = []
        for token_id, type_id, sequence in zip(encoding.ids, encoding.type_ids, encoding.sequence_ids, strict=True):
            if segments and segments[-1][0] == sequence:
                segments[-1][1].append(token_id)
                segments[-1][2].append(type_id)
            else:
                segments.append((sequence, [token_id], [type_id]))
        special: dict[str, tuple[list[int], list[int]]] = {
            "prefix": ([], []),
            "middle": ([], []),
            "suffix": ([], []),
        }
        types: dict[int, int] = {}
        place = "prefix"
        for sequence, ids, type_ids in segments:
            if sequence is None:
                special[place][0].extend(ids)
                special[place][1].extend(type_ids)
            else:
                types[sequence] = type_ids[0]
                place = "middle" if sequence == 0 else "suffix"
        if set(types) != {0, 1}:
            raise ModelError("the tokenizer does not encode question/document pairs")
        return cls(
            prefix_ids=tuple(special["prefix"][0]),
            prefix_types=tuple(special["prefix"][1]),
            question_type=types[0],
            middle_ids=tuple(special["middle"][0]),
            middle_types=tuple(special["middle"][1]),
            document_type=types[1],
            suffix_ids=tuple(special["suffix"][0]),
            suffix_types=tuple(special["suffix"][1]),
            pad_id=_pad_id(tokenizer),
        )


def _pad_id(tokenizer: Tokenizer) -> int:
    if tokenizer.padding is not None:
        return int(tokenizer.padding["pad_id"])
    for token in ("[PAD]", "<pad>", "<PAD>"):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    return 0


class TextTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer with truncation and padding switched off."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self.template = PairTemplate.from_tokenizer(tokenizer)

    @classmethod
    def from_file(cls, path: Path) -> TextTokenizer:
        try:
            return cls(Tokenizer.from_file(str(path)))
        except ModelError:
            raise
        except Exception as error:  # tokenizers raises a bare Exception on a bad file
            raise ModelError(f"cannot read the tokenizer {path}: {error}") from error

    def tokenize(
        self, text: str, chunk_chars: int = CHUNK_CHARS, should_stop: StopCheck | None = None
    ) -> TokenizedText:
        """Tokens of ``text``, a chunk of about ``chunk_chars`` characters at a time.

        The tokenizer's own record of a token (its string, masks, word ids) takes about ten times
        the memory of the id and offsets kept here, so a long book is encoded a few chunks at a time,
        and ``should_stop`` is asked between them (a 50 MB text takes about 20 s).
        Chunks are cut at a space between two words, where every pre-tokenizer in use starts a new
        word the same way, so the tokens are the ones the whole text gives.
        """
        text = without_surrogates(text, should_stop)
        cuts = _chunk_starts(text, chunk_chars)
        ids, offsets = [], []
        for first in range(0, len(cuts), CHUNKS_PER_BATCH):
            check_stop(should_stop)
            group = cuts[first : first + CHUNKS_PER_BATCH]
            ends = [*cuts[first + 1 : first + CHUNKS_PER_BATCH + 1], len(text)][: len(group)]
            pieces = [text[start:end] for start, end in zip(group, ends, strict=True)]
            encodings = self._tokenizer.encode_batch(pieces, add_special_tokens=False)
            for start, encoding in zip(group, encodings, strict=True):
                ids.append(np.asarray(encoding.ids, dtype=np.int32))
                offsets.append(np.asarray(encoding.offsets, dtype=np.int32).reshape(-1, 2) + start)
        return TokenizedText(text=text, ids=joined(ids, should_stop), offsets=joined(offsets, should_stop))

    def tokenize_many(self, texts: list[str], should_stop: StopCheck | None = None) -> list[TokenizedText]:
        """Tokenize several short texts at once (the tokenizer parallelises each batch of them)."""
        tokenized = []
        for first in range(0, len(texts), TEXTS_PER_BATCH):
            check_stop(should_stop)
            batch = [without_surrogates(text) for text in texts[first : first + TEXTS_PER_BATCH]]
            encodings = self._tokenizer.encode_batch(batch, add_special_tokens=False)
            tokenized += [
                TokenizedText(
                    text=text,
                    ids=np.asarray(encoding.ids, dtype=np.int32),
                    offsets=np.asarray(encoding.offsets, dtype=np.int32).reshape(-1, 2),
                )
                for text, encoding in zip(batch, encodings, strict=True)
            ]
        return tokenized


def joined(pieces: list[np.ndarray], should_stop: StopCheck | None = None) -> np.ndarray:
    """``np.concatenate(pieces)``, copied a few megabytes at a time with a stop check before each: a
    book's tokens fill 150 MB of new memory, a third of a second of page faults in one call."""
    if len(pieces) == 1:
        return pieces[0]
    whole = np.empty((sum(len(piece) for piece in pieces), *pieces[0].shape[1:]), dtype=pieces[0].dtype)
    position = 0
    for first in range(0, len(pieces), PIECES_PER_COPY):
        check_stop(should_stop)
        for piece in pieces[first : first + PIECES_PER_COPY]:
            whole[position : position + len(piece)] = piece
            position += len(piece)
    return whole


def without_surrogates(text: str, should_stop: StopCheck | None = None) -> str:
    """``text`` with each lone surrogate (a broken clipboard, bytes that were not UTF-8) as U+FFFD.

    The tokenizer cannot take them; one character for one keeps every offset where it was. A slice
    at a time, and copied only when it holds one.
    """
    if text.isascii() or not any(_SURROGATE.search(text, *piece) for piece in slices(text, should_stop)):
        return text
    return "".join(_SURROGATE.sub("\ufffd", text[start:end]) for start, end in slices(text, should_stop))


def _chunk_starts(text: str, chunk_chars: int) -> list[int]:
    """Where each chunk starts: about ``chunk_chars`` apart, each at a space between two words."""
    starts = [0]
    while len(text) - starts[-1] > chunk_chars:
        target = starts[-1] + chunk_chars
        # The last gap before the target, else the first within a chunk after it; a text with no
        # such gap that long has no words to keep whole, and is cut at the target.
        cut = _word_gap(text, starts[-1] + 1, target, backwards=True)
        if cut is None:
            cut = _word_gap(text, target, min(len(text) - 1, target + chunk_chars), backwards=False)
        if cut is None:  # no single space between words: before any white space (BERT's words still hold)
            spaces = [m.start() for m in _SPACE_AFTER_TEXT.finditer(text, starts[-1] + 1, target)]
            cut = spaces[-1] if spaces else None
        starts.append(target if cut is None else cut)
    return starts


def _word_gap(text: str, low: int, high: int, backwards: bool) -> int | None:
    """A single space between two words in ``text[low:high]``, the last or the first one.

    There every tokenizer in use (BERT's, byte-level BPE's with or without a prefix space,
    SentencePiece's) starts the next word by itself. Linear in the spaces it passes.
    """
    position = text.rfind(" ", low, high) if backwards else text.find(" ", low, high)
    while position > 0:
        if position + 1 < len(text) and not text[position - 1].isspace() and not text[position + 1].isspace():
            return position
        position = text.rfind(" ", low, position) if backwards else text.find(" ", position + 1, high)
    return None


def span_starts(num_tokens: int, max_span: int, stride: int) -> np.ndarray:
    """Start token of every document span, as BERT's reference computes them."""
    if num_tokens <= 0:
        return np.zeros(0, dtype=np.int64)
    step = min(stride, max_span)
    count = 1 + max(0, -(-(num_tokens - max_span) // step))
    return np.arange(count, dtype=np.int64) * step


@dataclass(frozen=True)
class WindowPlan:
    """The windows of one (question, document) pair; their arrays are built only when asked for."""

    document: TokenizedText
    question_ids: np.ndarray
    template: PairTemplate
    settings: WindowSettings
    starts: np.ndarray = field(init=False)
    lengths: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        max_span = self.max_span
        starts = span_starts(len(self.document), max_span, self.settings.doc_stride)
        lengths = np.minimum(len(self.document) - starts, max_span)
        object.__setattr__(self, "starts", starts)
        object.__setattr__(self, "lengths", lengths)

    @classmethod
    def build(
        cls,
        document: TokenizedText,
        question: TokenizedText,
        template: PairTemplate,
        settings: WindowSettings,
    ) -> WindowPlan:
        question_ids = question.ids[: settings.query_len]
        return cls(document, question_ids, template, settings)

    @property
    def max_span(self) -> int:
        return self.settings.seq_len - len(self.question_ids) - self.template.num_special

    @property
    def doc_offset(self) -> int:
        """Position of the first document token inside every window."""
        return len(self.template.prefix_ids) + len(self.question_ids) + len(self.template.middle_ids)

    @property
    def null_index(self) -> int:
        """The position whose start and end logits mean 'no answer' (BERT's [CLS])."""
        return 0

    def __len__(self) -> int:
        return len(self.starts)

    def window_length(self, index: int) -> int:
        return self.doc_offset + int(self.lengths[index]) + len(self.template.suffix_ids)

    def encode(self, indices: list[int] | range, pad_to: int | None = None) -> dict[str, np.ndarray]:
        """Model inputs for the given windows, padded to ``pad_to`` or to the longest of them."""
        width = pad_to or max(self.window_length(i) for i in indices)
        batch = len(indices)
        t = self.template
        input_ids = np.full((batch, width), t.pad_id, dtype=np.int64)
        token_type_ids = np.zeros((batch, width), dtype=np.int64)
        attention_mask = np.zeros((batch, width), dtype=np.int64)
        head_ids = np.concatenate(
            [np.asarray(t.prefix_ids, dtype=np.int64), self.question_ids, np.asarray(t.middle_ids, dtype=np.int64)]
        )
        head_types = np.concatenate(
            [
                np.asarray(t.prefix_types, dtype=np.int64),
                np.full(len(self.question_ids), t.question_type, dtype=np.int64),
                np.asarray(t.middle_types, dtype=np.int64),
            ]
        )
        suffix_ids = np.asarray(t.suffix_ids, dtype=np.int64)
        suffix_types = np.asarray(t.suffix_types, dtype=np.int64)
        head = len(head_ids)
        for row, index in enumerate(indices):
            start, length = int(self.starts[index]), int(self.lengths[index])
            end = head + length
            total = end + len(suffix_ids)
            input_ids[row, :head] = head_ids
            input_ids[row, head:end] = self.document.ids[start : start + length]
            input_ids[row, end:total] = suffix_ids
            token_type_ids[row, :head] = head_types
            token_type_ids[row, head:end] = t.document_type
            token_type_ids[row, end:total] = suffix_types
            attention_mask[row, :total] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}

    def max_context(self, index: int) -> np.ndarray:
        """For each token of window ``index``: is this the window where it has the most context?

        A token's context in a window is min(tokens left, tokens right) + 0.01 * window length;
        the first window with the highest score wins, as in the reference implementation.
        """
        start, length = int(self.starts[index]), int(self.lengths[index])
        positions = np.arange(start, start + length)
        own = _context_score(positions, start, length)
        is_best = np.ones(length, dtype=bool)
        # Spans are sorted with non-decreasing ends, so only neighbours can overlap this one.
        for step in (-1, 1):
            other = index + step
            while 0 <= other < len(self):
                o_start, o_length = int(self.starts[other]), int(self.lengths[other])
                if o_start >= start + length or o_start + o_length <= start:
                    break
                inside = (positions >= o_start) & (positions < o_start + o_length)
                score = _context_score(positions, o_start, o_length)
                beaten = score > own if other > index else score >= own
                is_best &= ~(inside & beaten)
                other += step
        return is_best

    def answer_positions(self, index: int, char_start: int, char_end: int) -> tuple[int, int]:
        """Window positions of the answer's first and last token; the null index if not inside."""
        tokens = self.document.char_span_to_tokens(char_start, char_end)
        start, length = int(self.starts[index]), int(self.lengths[index])
        if tokens is None or tokens[0] < start or tokens[1] >= start + length:
            return self.null_index, self.null_index
        return self.doc_offset + tokens[0] - start, self.doc_offset + tokens[1] - start

    def char_span(self, index: int, first: int, last: int) -> tuple[int, int]:
        """Character span of window positions ``first..last`` (inclusive, document tokens)."""
        base = int(self.starts[index]) - self.doc_offset
        return int(self.document.offsets[base + first, 0]), int(self.document.offsets[base + last, 1])


def _context_score(positions: np.ndarray, start: int, length: int) -> np.ndarray:
    left = positions - start
    right = start + length - 1 - positions
    return np.minimum(left, right) + 0.01 * length
