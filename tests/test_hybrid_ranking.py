"""Ranking a long document's windows by its words and its meaning, once the library has embedded it:
a real library in a temporary folder, the bundled embedder and the bundled reader model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reading_assistant.core.documents import Document, load_document
from reading_assistant.core.embedding import open_embedder
from reading_assistant.core.engine import open_engine
from reading_assistant.core.errors import ModelError
from reading_assistant.core.library import Library
from reading_assistant.core.library.meaning import LibraryMeaning, document_vectors, passage_meanings
from reading_assistant.core.library.passages import passage_spans
from reading_assistant.core.options import Choices
from reading_assistant.core.ranking import TermIndex, bm25_scores, hybrid_order, reading_order, window_meaning
from reading_assistant.core.reading import Answers, Planned
from reading_assistant.core.windows import WindowPlan

# Four paragraphs of about 520 characters: each is a passage of its own (two would pass 1,000).
PARAGRAPHS = (
    "Honey bees carry pollen from flower to flower while they collect nectar, and many crops cannot set fruit "
    "without them. Almond orchards, apple trees, cherries and most berry crops depend on visiting bees, so every "
    "spring beekeepers load their hives onto lorries and rent them to farmers for the few weeks the trees are in "
    "bloom. A strong colony holds tens of thousands of workers, and a single hive can visit millions of blossoms "
    "in a season before it is driven home again. The farmers pay by the hive, and the rent has doubled in ten years.",
    "The volcano erupted for three weeks, sending ash eight kilometres into the sky and darkening towns far "
    "downwind. Flights across the region were cancelled because the fine glassy dust can melt inside jet engines "
    "and stop them in flight. Villages on the lower slopes were evacuated as slow rivers of lava crept toward the "
    "coast, and the fishing harbour closed when the water near the shore began to boil. Scientists camped on a "
    "ridge to measure the gases, and the airports reopened only when the wind turned the ash out to sea.",
    "Chess reached Europe through Persia and the Arab world, carried along trade routes and by travelling "
    "scholars. For centuries the queen was a weak piece that moved a single square diagonally, and games dragged "
    "on for hours. In the late fifteenth century players in Spain let her move any distance along a line, and the "
    "faster game that followed spread across the continent within a generation, giving us the rules that are "
    "still played in clubs today. Printed books of openings soon followed, the first of them in Salamanca.",
    "To bake a sourdough loaf, mix flour, water and salt with an active starter and leave the dough to rise "
    "slowly overnight in a cool kitchen. In the morning, shape it gently so the bubbles survive, let it rest once "
    "more, then bake it in a very hot covered pot. The lid traps steam during the first twenty minutes, which "
    "lets the crust stretch before it sets; uncovered for the rest of the bake, the loaf turns a deep brown and "
    "the crust stays crisp. Cool it on a rack for an hour before slicing, or the crumb will be gummy.",
)
TEXT = "\n\n".join(PARAGRAPHS) + "\n"
QUESTION = "Why were planes kept on the ground?"
ANSWERING = 1  # the paragraph that answers QUESTION
# Small windows, so that the four paragraphs make a dozen of them.
SMALL = Choices(seq_len=64, query_len=16, doc_stride=32, ranked=True)


class CountingEmbedder:
    """The real embedder, remembering every list of texts it was asked to embed."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.calls: list[list[str]] = []

    def embed(self, texts, batch_size=32, should_stop=None):
        self.calls.append(list(texts))
        return self.embedder.embed(texts, batch_size, should_stop)


@pytest.fixture(scope="module")
def embedder():
    return open_embedder(device="cpu", threads=2)


@pytest.fixture(scope="module")
def engine():
    return open_engine(device="cpu", threads=2)


def indexed(tmp_path: Path, embedder) -> tuple[Library, Path]:
    """A library holding ``TEXT`` as a text file, read and (with an embedder) embedded."""
    path = tmp_path / "shelf" / "volcanoes-and-bees.txt"
    path.parent.mkdir(parents=True)
    path.write_text(TEXT, encoding="utf-8")
    library = Library(tmp_path / "data" / "library.sqlite3", embedder)
    library.add(path.parent)
    library.sync()
    for _ in library.index():
        pass
    return library, path.resolve()


@pytest.fixture
def library(tmp_path, embedder):
    opened, path = indexed(tmp_path, CountingEmbedder(embedder))
    yield opened, path
    opened.close()


def planned_and_final(engine, document, question, choices=SMALL, meaning=None):
    """The windows a read plans, in order, and its final answers as (text, start, score)."""
    spans, answers = None, None
    for event in engine.read([(document, question)], choices, meaning=meaning):
        if isinstance(event, Planned):
            spans = event.spans
        elif isinstance(event, Answers) and event.final:
            answers = [(a.text, a.start, round(a.score, 6)) for a in event.prediction.answers]
    return spans, answers


def test_the_meaning_of_an_indexed_document_is_each_passage_with_its_cosine_and_nothing_is_embedded(library, embedder):
    library, path = library
    counting = library.embedder
    counting.calls.clear()
    vector = embedder.embed([QUESTION])[0]

    meanings = passage_meanings(library, str(path), vector)

    assert [(start, end) for start, end, _ in meanings] == passage_spans(TEXT)
    own = embedder.embed([TEXT[start:end] for start, end, _ in meanings]) @ vector
    np.testing.assert_allclose([cosine for _, _, cosine in meanings], own, atol=3e-3)  # kept as float16
    assert int(np.argmax(own)) == ANSWERING
    assert counting.calls == []  # the lookup read the library's vectors: it embedded nothing

    document = library.document(str(path))
    hook = LibraryMeaning(library)
    assert hook(document, QUESTION) == meanings
    assert hook(document, QUESTION) == meanings  # again, from the vectors it kept
    assert counting.calls == [[QUESTION], [QUESTION]]  # only ever the question


def test_a_ranked_read_given_the_meaning_reads_its_windows_by_words_and_meaning(library, engine, embedder):
    library, path = library
    document = library.document(str(path))
    hook = LibraryMeaning(library)

    by_words, _ = planned_and_final(engine, document, QUESTION)
    hybrid, _ = planned_and_final(engine, document, QUESTION, meaning=hook)

    # What the engine should have done, from its parts: BM25 over the windows, each window's best
    # cosine over the passages overlapping it, and the sum of both standardised.
    options = engine.resolve(SMALL)
    tokens = engine.tokenizer.tokenize(TEXT)
    plan = WindowPlan.build(tokens, engine.tokenizer.tokenize(QUESTION), engine.tokenizer.template, options.windows)
    bm25 = bm25_scores(TermIndex(tokens), plan)
    windows = np.array(
        [(tokens.offsets[s, 0], tokens.offsets[s + n - 1, 1]) for s, n in zip(plan.starts, plan.lengths, strict=True)]
    )
    passages = passage_meanings(library, str(path), embedder.embed([QUESTION])[0])
    meaning = [max(c for s, e, c in passages if s < end and e > start) for start, end in windows]
    fused = (bm25 - bm25.mean()) / bm25.std() + (meaning - np.mean(meaning)) / np.std(meaning)
    bm25_rank = {window: rank for rank, window in enumerate(reading_order(bm25))}
    expected = sorted(range(len(windows)), key=lambda w: (-fused[w], bm25_rank[w]))

    assert len(windows) >= 10
    assert by_words == [tuple(windows[w]) for w in reading_order(bm25)]
    assert hybrid == [tuple(windows[w]) for w in expected]
    assert hybrid == [tuple(windows[w]) for w in hybrid_order(bm25, window_meaning(windows, passages))]
    assert hybrid != by_words  # the meaning changed the order here
    # The windows the meaning ranks first lie in the paragraph that answers the question.
    answering = passage_spans(TEXT)[ANSWERING]
    assert answering[0] <= hybrid[0][0] and hybrid[0][1] <= answering[1] + 1

    # A budget reads the first windows of that order.
    budget, _ = planned_and_final(engine, document, QUESTION, Choices(max_windows=3).over(SMALL), hook)
    assert budget == hybrid[:3]


def test_a_document_outside_the_library_reads_exactly_as_before(library, engine, tmp_path):
    library, _ = library
    counting = library.embedder
    counting.calls.clear()
    hook = LibraryMeaning(library)
    elsewhere = tmp_path / "elsewhere" / "notes.txt"
    elsewhere.parent.mkdir()
    elsewhere.write_text(TEXT, encoding="utf-8")
    outside = [
        Document(text=TEXT, name="Pasted text", format="text"),  # no file at all
        load_document(elsewhere),  # a file the library does not hold
        TEXT,  # bare text
    ]
    for document in outside:
        assert hook(document, QUESTION) == []
        before = planned_and_final(engine, document, QUESTION)
        assert planned_and_final(engine, document, QUESTION, meaning=hook) == before
    assert counting.calls == []  # not even the question is embedded for them


def test_a_document_not_embedded_yet_or_changed_since_gives_no_meaning(library, tmp_path, embedder):
    library, path = library
    counting = library.embedder
    vector = embedder.embed([QUESTION])[0]

    # The file changed since it was indexed: the library's offsets are not the text's.
    changed = Document(text=TEXT + "\nA postscript.\n", name=path.name, format="text", origin=str(path))
    counting.calls.clear()
    assert LibraryMeaning(library)(changed, QUESTION) == []
    assert passage_meanings(library, str(path), vector, text=changed.text) == []
    assert counting.calls == []

    # Read by words only (no embedder while it was indexed): nothing, and nothing is embedded now.
    words_only, other_path = indexed(tmp_path / "words", None)
    try:
        assert words_only.counts()["embedded"] == 0
        assert document_vectors(words_only, str(other_path)) is None
        assert passage_meanings(words_only, str(other_path), vector) == []
        document = words_only.document(str(other_path))
        assert LibraryMeaning(words_only, embedder=counting)(document, QUESTION) == []
        assert counting.calls == []
        assert words_only.counts()["embedded"] == 0
    finally:
        words_only.close()


def test_a_read_in_document_order_never_asks_for_the_meaning(library, engine):
    library, path = library
    document = library.document(str(path))
    asked = []

    def meaning(document, question):
        asked.append(question)
        return LibraryMeaning(library)(document, question)

    in_order = Choices(ranked=False).over(SMALL)
    assert planned_and_final(engine, document, QUESTION, in_order, meaning) == planned_and_final(
        engine, document, QUESTION, in_order
    )
    assert asked == []


def test_window_meaning_takes_the_best_overlapping_passage_and_fills_windows_without_one():
    windows = np.array([(0, 100), (50, 150), (100, 200), (150, 250)])
    passages = [(0, 60, 0.2), (60, 140, 0.7), (210, 300, 0.1)]
    # (150, 250) overlaps only the last; (100, 200) only the second; none overlaps nothing here.
    np.testing.assert_allclose(window_meaning(windows, passages), [0.7, 0.7, 0.7, 0.1])
    # A window no passage overlaps (a contents list) gets the lowest of the others.
    np.testing.assert_allclose(window_meaning(windows, [(0, 40, 0.5), (120, 140, 0.3)]), [0.5, 0.3, 0.3, 0.3])
    np.testing.assert_allclose(window_meaning(windows, []), [0, 0, 0, 0])


def test_hybrid_order_sums_standardised_scores_and_ties_keep_the_bm25_order():
    bm25 = np.array([3.0, 1.0, 0.0, 2.0])
    assert hybrid_order(bm25, np.full(4, 0.4)) == reading_order(bm25)  # a flat meaning changes nothing
    assert hybrid_order(np.zeros(4), np.array([0.1, 0.9, 0.5, 0.2])) == [1, 2, 3, 0]  # nor flat words
    # z(bm25) = [1.34, -0.45, -1.34, 0.45] and z(meaning) = [-1.41, 1.41, 0, 0] sum to
    # [-0.07, 0.97, -1.34, 0.45]: the window BM25 put third comes first, the first comes third.
    assert hybrid_order(bm25, np.array([0.0, 1.0, 0.5, 0.5])) == [1, 3, 0, 2]
    # Sums that tie (0 and 0 here) keep BM25's order, whichever way round.
    assert hybrid_order(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == [0, 1]
    assert hybrid_order(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == [1, 0]


def test_an_embedder_that_fails_leaves_the_read_to_the_words(library, engine):
    library, path = library
    document = library.document(str(path))

    class Failing:
        def embed(self, texts, batch_size=32, should_stop=None):
            raise ModelError("the embedder failed to run")

    hook = LibraryMeaning(library, embedder=Failing())
    assert hook(document, QUESTION) == []
    assert planned_and_final(engine, document, QUESTION, meaning=hook) == planned_and_final(engine, document, QUESTION)
