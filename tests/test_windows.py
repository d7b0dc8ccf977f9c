"""Tokenization, windows and offsets on hard text, with property tests over random documents."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reading_assistant.core.errors import InputError
from reading_assistant.core.windows import TextTokenizer, WindowPlan, WindowSettings, span_starts
from tests.tiny_models import byte_level_tokenizer, sentencepiece_tokenizer

HARD_TEXTS = {
    "accents": "Café naïve façade résumé — déjà vu.",
    "cjk": "東京は日本の首都です。京都は古い都です。",
    "emoji": "I love 📚 books and 🦊 foxes 👩‍👩‍👧 family.",
    "combining": "Cafe\u0301 and nai\u0308ve use combining marks.",
    "rtl": "مرحبا بالعالم and שלום עולם mixed with English.",
    "crlf": "First line.\r\nSecond line.\r\n\r\nThird paragraph.",
    "long word": "Pneumono" + "ultramicroscopicsilicovolcanoconiosis" * 30 + " is long.",
}


@pytest.fixture(scope="module")
def tokenizer(shared_wordpiece) -> TextTokenizer:
    return TextTokenizer(shared_wordpiece)


def test_pair_template_uses_the_tokenizers_special_tokens(tokenizer, shared_wordpiece):
    template = tokenizer.template
    assert template.prefix_ids == (shared_wordpiece.token_to_id("[CLS]"),)
    assert template.middle_ids == (shared_wordpiece.token_to_id("[SEP]"),)
    assert template.suffix_ids == (shared_wordpiece.token_to_id("[SEP]"),)
    assert (template.question_type, template.document_type) == (0, 1)
    assert template.pad_id == shared_wordpiece.token_to_id("[PAD]")


@pytest.mark.parametrize("name", sorted(HARD_TEXTS))
def test_offsets_index_the_original_text(tokenizer, name):
    text = HARD_TEXTS[name]
    tokens = tokenizer.tokenize(text)
    assert len(tokens) > 0
    starts, ends = tokens.offsets[:, 0], tokens.offsets[:, 1]
    assert np.all(starts < ends)
    assert np.all(ends <= len(text))
    assert np.all(starts[1:] >= starts[:-1])
    # No token covers white space at its edges, so every span is a visible piece of the text.
    for start, end in tokens.offsets:
        piece = text[start:end]
        assert piece == piece.strip()


@pytest.mark.parametrize("make", [sentencepiece_tokenizer, byte_level_tokenizer], ids=["sentencepiece", "bpe"])
def test_other_tokenizer_families_get_their_own_template_and_offsets(make):
    raw = make()
    tokenizer = TextTokenizer(raw)
    template = tokenizer.template
    if raw.token_to_id("[CLS]") is not None:  # ALBERT-style
        assert template.prefix_ids == (raw.token_to_id("[CLS]"),)
        assert (template.question_type, template.document_type) == (0, 1)
    else:  # RoBERTa-style: <s> A </s></s> B </s>, one segment type
        assert template.middle_ids == (raw.token_to_id("</s>"),) * 2
        assert template.pad_id == raw.token_to_id("<pad>")
    for text in HARD_TEXTS.values():
        document = tokenizer.tokenize(text)
        plan = WindowPlan.build(document, tokenizer.tokenize("who?"), template, WindowSettings(32, 4, 8))
        for index in range(len(plan)):
            for first in range(int(plan.lengths[index])):
                start, end = plan.char_span(index, plan.doc_offset + first, plan.doc_offset + first)
                assert 0 <= start <= end <= len(text)
                if start == end:
                    continue  # a zero-width byte-level token: never an answer (see decoding)
                # Pieces of one character (NFKD marks, UTF-8 bytes) share its offsets, so the
                # character maps back to all of them: the token is among them.
                low, high = plan.answer_positions(index, start, end)
                if (low, high) == (plan.null_index, plan.null_index):
                    # Only when the character's pieces run past this window's edge.
                    tokens = document.char_span_to_tokens(start, end)
                    window = range(int(plan.starts[index]), int(plan.starts[index] + plan.lengths[index]))
                    assert tokens[0] not in window or tokens[1] not in window
                else:
                    assert low <= plan.doc_offset + first <= high


@pytest.mark.parametrize("name", sorted(HARD_TEXTS))
def test_window_spans_round_trip_to_characters(tokenizer, name):
    text = HARD_TEXTS[name]
    document = tokenizer.tokenize(text)
    question = tokenizer.tokenize("what is it?")
    plan = WindowPlan.build(
        document, question, tokenizer.template, WindowSettings(seq_len=40, query_len=8, doc_stride=6)
    )
    for index in range(len(plan)):
        length = int(plan.lengths[index])
        for first in range(length):
            last = min(length - 1, first + 2)
            start, end = plan.char_span(index, plan.doc_offset + first, plan.doc_offset + last)
            assert plan.answer_positions(index, start, end) == (plan.doc_offset + first, plan.doc_offset + last)


def test_document_shorter_than_one_window(tokenizer):
    document = tokenizer.tokenize("Paris is the capital of France.")
    plan = WindowPlan.build(document, tokenizer.tokenize("capital?"), tokenizer.template, WindowSettings())
    assert len(plan) == 1
    inputs = plan.encode([0])
    length = plan.window_length(0)
    assert inputs["input_ids"].shape == (1, length)
    assert inputs["attention_mask"].sum() == length
    ids = inputs["input_ids"][0]
    t = tokenizer.template
    assert ids[0] == t.prefix_ids[0] and ids[-1] == t.suffix_ids[0]
    np.testing.assert_array_equal(ids[plan.doc_offset : plan.doc_offset + len(document)], document.ids)
    types = inputs["token_type_ids"][0]
    assert set(types[: plan.doc_offset]) == {0} and set(types[plan.doc_offset :]) == {1}


def test_question_longer_than_query_len_is_cut(tokenizer):
    settings = WindowSettings(seq_len=64, query_len=10, doc_stride=16)
    question = tokenizer.tokenize("who " * 50)
    document = tokenizer.tokenize("The quick brown fox jumps over the lazy dog. " * 20)
    plan = WindowPlan.build(document, question, tokenizer.template, settings)
    assert len(plan.question_ids) == 10
    assert all(plan.window_length(i) <= settings.seq_len for i in range(len(plan)))
    assert max(plan.window_length(i) for i in range(len(plan))) == settings.seq_len


def test_settings_are_checked():
    with pytest.raises(InputError):
        WindowSettings(seq_len=40, query_len=64)
    with pytest.raises(InputError):
        WindowSettings(doc_stride=0)


def test_span_starts_follow_the_reference():
    # 1000 tokens, 317 per window, stride 128: 0, 128, ..., until one window reaches the end.
    starts = span_starts(1000, 317, 128)
    assert starts.tolist() == [0, 128, 256, 384, 512, 640, 768]
    assert starts[-1] + 317 >= 1000 > starts[-2] + 317
    assert span_starts(0, 317, 128).size == 0
    assert span_starts(10, 317, 128).tolist() == [0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(
        st.sampled_from(["fox", "Curie", "café", "東京", "📚", "1903", "river,", "naïve."]), min_size=1, max_size=300
    ),
    seq_len=st.integers(min_value=24, max_value=96),
    query_len=st.integers(min_value=1, max_value=12),
    stride=st.integers(min_value=1, max_value=40),
)
def test_windows_cover_every_token_once_with_most_context(tokenizer, words, seq_len, query_len, stride):
    document = tokenizer.tokenize(" ".join(words))
    question = tokenizer.tokenize("who won the prize in what year and where")
    plan = WindowPlan.build(document, question, tokenizer.template, WindowSettings(seq_len, query_len, stride))
    assert len(plan) >= 1
    # Contiguous: starts rise by the stride (or the span, if shorter); the last window ends the text.
    steps = np.diff(plan.starts)
    assert np.all(steps == min(stride, plan.max_span))
    assert plan.starts[0] == 0
    assert plan.starts[-1] + plan.lengths[-1] == len(document)
    assert np.all(plan.lengths <= plan.max_span)
    assert all(plan.window_length(i) <= seq_len for i in range(len(plan)))
    # Each token lies in a window, and exactly one window is where it has the most context.
    owners = np.zeros(len(document), dtype=int)
    for index in range(len(plan)):
        start, length = int(plan.starts[index]), int(plan.lengths[index])
        owners[start : start + length] += plan.max_context(index)
    assert np.all(owners == 1)
    # Offsets round-trip: every token's characters map back to that token.
    for token, (start, end) in enumerate(document.offsets):
        assert document.char_span_to_tokens(int(start), int(end)) == (token, token)
