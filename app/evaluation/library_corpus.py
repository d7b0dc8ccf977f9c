"""The library bench's documents: SQuAD articles and paragraphs written as text files, and the
questions whose gold answers are known positions in them (``library_bench``)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.library.passages import passage_spans
from .squad import SquadArticle, SquadDataset, SquadQuestion

SEED = 7


@dataclass(frozen=True)
class GoldQuestion:
    """A dev question, the file that holds its paragraph, and where its gold answers start in it."""

    question: SquadQuestion
    path: str
    positions: tuple[int, ...]


@dataclass(frozen=True)
class WrittenFile:
    """A file the bench wrote: its path as the library keeps it, its text, and where each SQuAD
    paragraph it holds starts."""

    path: str
    text: str
    paragraph_starts: tuple[int, ...]


def safe_name(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title).strip("._")[:80] or "untitled"


def write_file(folder: Path, name: str, paragraphs: Sequence[str]) -> WrittenFile:
    """One UTF-8 text file of ``paragraphs`` separated by blank lines (``\\n`` line ends, so the
    library's text of it is the file's characters, offsets included)."""
    starts, offset = [], 0
    for paragraph in paragraphs:
        starts.append(offset)
        offset += len(paragraph) + 2
    text = "\n\n".join(paragraphs)
    path = folder / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return WrittenFile(str(path.resolve()), text, tuple(starts))


def write_article_files(articles: Sequence[SquadArticle], folder: Path) -> list[WrittenFile]:
    """One file per article, named by its title."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_file(folder, f"{number:03d}-{safe_name(a.title)}.txt", [p.context for p in a.paragraphs])
        for number, a in enumerate(articles)
    ]


@dataclass(frozen=True)
class LoneParagraph:
    """A paragraph written as a document of its own."""

    title: str
    number: int  # in its article
    context: str

    @property
    def file_name(self) -> str:
        return f"{safe_name(self.title)}-{self.number:03d}.txt"


def write_paragraph_files(paragraphs: Iterable[LoneParagraph], folder: Path) -> list[WrittenFile]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_file(folder, p.file_name, [p.context]) for p in paragraphs]


def shuffled_paragraphs(dataset: SquadDataset, seed: int = SEED) -> list[LoneParagraph]:
    paragraphs = [
        LoneParagraph(article.title, number, paragraph.context)
        for article in dataset.articles
        for number, paragraph in enumerate(article.paragraphs)
    ]
    random.Random(seed).shuffle(paragraphs)
    return paragraphs


def passages_of(text: str) -> int:
    """How many passages the library makes of a plain text (what its indexer does with a text file
    without a contents list)."""
    return len(passage_spans(text))


def paragraphs_for_passages(paragraphs: Sequence[LoneParagraph], passages: int) -> list[LoneParagraph]:
    """The first paragraphs that make at least ``passages`` passages, each a document."""
    chosen, made = [], 0
    for paragraph in paragraphs:
        if made >= passages:
            break
        chosen.append(paragraph)
        made += passages_of(paragraph.context)
    return chosen


def gold_in_file(question: SquadQuestion, written: WrittenFile, paragraph: int) -> GoldQuestion:
    start = written.paragraph_starts[paragraph]
    return GoldQuestion(question, written.path, tuple(sorted({start + a.start for a in question.answers})))


def sample_article_questions(
    articles: Sequence[SquadArticle], count: int, seed: int = SEED
) -> list[tuple[int, int, SquadQuestion]]:
    """A seeded sample of (article, paragraph, question) over every question of ``articles``."""
    pool = [
        (a, p, q)
        for a, article in enumerate(articles)
        for p, paragraph in enumerate(article.paragraphs)
        for q in paragraph.questions
        if q.answers
    ]
    return random.Random(seed).sample(pool, min(count, len(pool)))
