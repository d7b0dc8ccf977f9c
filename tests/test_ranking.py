"""Ranked reading of long documents: BM25 over windows, early answers, streaming, and the bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reading_assistant.core.documents import Document, Section
from reading_assistant.core.engine import open_engine
from reading_assistant.core.errors import Cancelled
from reading_assistant.core.options import Choices
from reading_assistant.core.paths import bundled_model_dir
from reading_assistant.core.ranking import (
    RELEVANCE_WEIGHT,
    TermIndex,
    bm25_scores,
    heading_scores,
    reading_order,
    relevance_priors,
)
from reading_assistant.core.reading import Answers, Planned
from reading_assistant.core.windows import TextTokenizer, TokenizedText, WindowPlan, WindowSettings
from reading_assistant.evaluation.bench import article_text
from reading_assistant.evaluation.squad import load_squad

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "squad" / "dev-v1.1.json.gz"
FILLER = "The quick brown fox jumps over the lazy dog near the river bank. " * 30
NEEDLE = "Marie Curie was a physicist and chemist who conducted research on radioactivity. "


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=400))
def test_term_index_finds_every_position(ids):
    document = TokenizedText("", np.asarray(ids, dtype=np.int64), np.zeros((len(ids), 2), dtype=np.int64))
    index = TermIndex(document)
    for token_id in range(22):
        expected = [i for i, t in enumerate(ids) if t == token_id]
        assert index.positions(token_id).tolist() == expected


def test_the_window_holding_the_question_words_ranks_first(shared_wordpiece):
    tokenizer = TextTokenizer(shared_wordpiece)
    text = FILLER * 3 + NEEDLE + FILLER * 3
    document = tokenizer.tokenize(text)
    plan = WindowPlan.build(
        document, tokenizer.tokenize("What did Marie Curie research?"), tokenizer.template, WindowSettings(64, 16, 32)
    )
    scores = bm25_scores(TermIndex(document), plan)
    best = reading_order(scores)[0]
    needle = text.index("Marie Curie")
    start, end = plan.char_span(best, plan.doc_offset, plan.doc_offset + int(plan.lengths[best]) - 1)
    assert start <= needle < end
    assert scores[best] > np.median(scores)


def test_relevance_priors_run_from_zero_for_the_best_window_to_minus_the_weight():
    np.testing.assert_allclose(relevance_priors(np.array([0.0, 2.0, 4.0]), 4.0), [-4.0, -2.0, 0.0])
    np.testing.assert_allclose(relevance_priors(np.array([3.0])), [0.0])
    # A question sharing no term with the document: every window is equally (ir)relevant.
    np.testing.assert_allclose(relevance_priors(np.zeros(3)), [0.0, 0.0, 0.0])


def test_a_heading_scores_the_share_of_the_question_weight_it_holds(shared_wordpiece):
    tokenizer = TextTokenizer(shared_wordpiece)
    text = FILLER + NEEDLE + FILLER
    document = tokenizer.tokenize(text)
    plan = WindowPlan.build(
        document, tokenizer.tokenize("What did Marie Curie research?"), tokenizer.template, WindowSettings(64, 16, 32)
    )
    index = TermIndex(document)
    headings = [t.ids for t in tokenizer.tokenize_many(["Marie Curie", "The lazy dog", "Marie Curie research"])]
    windows = np.arange(len(plan.starts)) % 4 - 1  # -1: before the first heading
    scores = heading_scores(index, plan, headings, windows)
    by_heading = {int(w): float(scores[windows == w][0]) for w in np.unique(windows)}
    assert by_heading[-1] == by_heading[1] == 0.0
    assert 0.0 < by_heading[0] < by_heading[2] <= 1.0
    assert heading_scores(index, plan, [], windows).tolist() == [0.0] * len(windows)
    # The prior: 0 under the best heading, minus the weight times the shortfall elsewhere.
    priors = relevance_priors(np.zeros(len(windows)), 4.0, scores, 2.0)
    np.testing.assert_allclose(priors, 2.0 * (scores - scores.max()))


def test_the_engine_takes_headings_from_a_documents_sections_but_not_its_pages(tiny_bert):
    engine = open_engine(tiny_bert)
    text = "Gulls\n\n" + FILLER + "\n\nRadioactivity\n\n" + FILLER
    sections = (Section(0, "Gulls"), Section(text.index("Radio"), "Radioactivity"))
    question = "What is radioactivity?"
    options = engine.resolve(SMALL_WINDOWS)
    tokens = engine.prepare(text)
    plan = engine._plan(tokens, question, options)
    index = engine._term_index(tokens)
    headed = Document(text, "birds.txt", "text", sections)
    scores = engine._heading_scores(headed, tokens, index, plan)
    middles = tokens.offsets[plan.starts + plan.lengths // 2, 0]
    assert scores is not None and ((scores > 0) == (middles >= text.index("Radio"))).all()
    paged = Document(text, "birds.pdf", "pdf", (Section(0, "page 1"), Section(text.index("Radio"), "page 2")))
    assert engine._heading_scores(paged, tokens, index, plan) is None
    assert engine._heading_scores(text, tokens, index, plan) is None
    # With a heavy section weight, every span of a window under the other heading pays for it, so
    # the (random) tiny model's first answer comes from a window under the matching heading.
    first_matching = int(np.flatnonzero(scores > 0)[0])
    weighted = engine.ask(headed, question, Choices(relevance_weight=0.0, section_weight=50.0).over(SMALL_WINDOWS))
    assert weighted.answers[0].start >= tokens.offsets[plan.starts[first_matching], 0]


@pytest.mark.skipif(not DEV.exists(), reason="needs ../shared/data/squad/dev-v1.1.json.gz")
def test_a_confident_distractor_elsewhere_in_the_book_does_not_outvote_the_matching_passage():
    # Two dev-v1.1 articles joined (118 windows), as chapters of a book. On logits alone the bundled
    # model answers with another cause from a passage that does not name the embargo; counting how
    # well each span's window matches the question keeps the embargo's passage ahead. (A case the
    # bundled model gets wrong on logits alone: each new model needs one.)
    articles = {a.title: a for a in load_squad(DEV).articles}
    chapters = [articles["1973_oil_crisis"], articles["Victoria_and_Albert_Museum"]]
    book = "\n\n\n".join(article_text(a) for a in chapters)
    question = "What has a negative influence over the US economy?"
    right = "embargo"
    engine = open_engine(bundled_model_dir(), device="cpu")
    fused = engine.ask(book, question, Choices(batch_size=32))
    logits_only = engine.ask(book, question, Choices(batch_size=32, relevance_weight=0.0))
    assert engine.resolve().relevance_weight == RELEVANCE_WEIGHT > 0
    assert right in fused.answers[0].text
    assert right not in logits_only.answers[0].text


SMALL_WINDOWS = Choices(seq_len=64, query_len=16, doc_stride=32)


def test_ranked_reading_matches_reading_in_order(tiny_bert):
    engine = open_engine(tiny_bert)
    text = FILLER * 2 + NEEDLE + FILLER * 2
    in_order = engine.ask(text, "What did Marie Curie research?", SMALL_WINDOWS)
    ranked = engine.ask(text, "What did Marie Curie research?", Choices(ranked=True).over(SMALL_WINDOWS))
    assert ranked.windows == in_order.windows
    assert [(a.start, a.end) for a in ranked.answers] == [(a.start, a.end) for a in in_order.answers]
    np.testing.assert_allclose([a.score for a in ranked.answers], [a.score for a in in_order.answers], atol=1e-5)


def test_early_answer_mode_reads_only_the_best_windows_and_streams(tiny_bert):
    engine = open_engine(tiny_bert)
    text = FILLER * 8 + NEEDLE + FILLER * 8
    choices = Choices(ranked=True, max_windows=20, batch_size=3).over(SMALL_WINDOWS)
    events = list(engine.read([(text, "What did Marie Curie research?")], choices))
    (planned,) = [e for e in events if isinstance(e, Planned)]
    answers = [e for e in events if isinstance(e, Answers)]
    partials, final = [e.prediction for e in answers if not e.final], answers[-1]
    assert events[0] is planned and len(planned.spans) == 20 and planned.total_windows > 20
    assert final.final and final.prediction.windows == 20
    assert [p.windows for p in partials] == [9, 18]  # the first batches past 8 and 16 windows
    assert all(p.answers for p in partials)


def test_stopping_a_ranked_read_keeps_the_partial_answers(tiny_bert):
    engine = open_engine(tiny_bert)
    partials = []
    events = engine.read([(FILLER * 12, "Where is the fox?")], Choices(ranked=True, batch_size=2).over(SMALL_WINDOWS))
    for event in events:
        if isinstance(event, Answers):
            assert not event.final
            partials.append(event.prediction)
            if len(partials) == 2:
                break  # the reader stops: the read goes no further
    events.close()
    assert len(partials) == 2 and partials[-1].answers
    with pytest.raises(Cancelled):
        engine.ask(FILLER * 12, "Where is the fox?", SMALL_WINDOWS, should_stop=lambda: True)


def test_the_term_index_is_cached_with_the_document(tiny_bert):
    engine = open_engine(tiny_bert)
    tokens = engine.prepare(FILLER)
    assert engine.prepare(FILLER) is tokens
    # The index itself is the engine's business; its cache is what makes asking again instant.
    assert engine._term_index(tokens) is engine._term_index(tokens)


@pytest.mark.skipif(not DEV.exists(), reason="needs ../shared/data/squad/dev-v1.1.json.gz")
def test_bench_prints_its_figures(tiny_bert):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reading_assistant",
            "bench",
            "--json",
            "--model",
            str(tiny_bert),
            "--article-questions",
            "2",
            "--book-questions",
            "1",
            "--early-windows",
            "12",
            "--book-words",
            "20000",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["ms_per_window"]) == {"1", "8", "32"}
    assert report["book"]["words"] >= 20_000 and report["book"]["windows"] > 100
    assert 0 < report["first_answer_seconds"] < report["total_seconds"]
    assert report["peak_rss_mb"] > 0
    # One ranked reading per question reports what was shown after 8 windows and after all 12.
    assert set(report["whole_article"]) == {"read_everything", "ranked_first_8_windows", "ranked_first_12_windows"}
    early, later = report["whole_article"]["ranked_first_8_windows"], report["whole_article"]["ranked_first_12_windows"]
    assert early["mean_seconds"] <= later["mean_seconds"]
    assert set(report["book_accuracy"]) == set(report["whole_article"])
    assert "baseline" in report
