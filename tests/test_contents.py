"""Tables of contents and indexes in any format: kept in the text, never given as an answer."""

from __future__ import annotations

import pytest

from reading_assistant.core.documents.loading import load_bytes, text_document
from reading_assistant.core.engine import open_engine
from reading_assistant.core.paths import bundled_model_dir

CHAPTERS = {
    "Introduction": "This program reads documents and answers questions about them, all day long.",
    "Installing": "Run the installer and wait for it to finish; it takes about two minutes on a laptop.",
    "Using the program": "Open a file and type a question into the box at the top of the window.",
    "Licence": "The program is free software under the Apache licence, version 2.0, as it says.",
}


def manual(contents: str) -> str:
    body = "\n\n".join(f"{n}. {title}\n\n{text}" for n, (title, text) in enumerate(CHAPTERS.items(), 1))
    return f"A Manual\n\nContents\n\n{contents}\n\n{body}\n"


def marked(text: str, name: str = "manual.txt") -> list[str]:
    document = text_document(text, name)
    return [document.text[start:end] for start, end in document.no_answer_spans]


NUMBERED = "1. Introduction\n2. Installing\n3. Using the program\n4. Licence"
PAGED = "1. Introduction    1\n2. Installing    2\n3. Using the program    4\n4. Licence    9"
LEADERS = "Introduction ........ 1\nInstalling .......... 2\nUsing the program ... 4\nLicence ............. 9"


@pytest.mark.parametrize("contents", [NUMBERED, PAGED, LEADERS], ids=["numbered", "page numbers", "dot leaders"])
def test_a_plain_text_contents_list_is_marked_and_the_chapters_are_not(contents):
    assert marked(manual(contents)) == [contents]
    assert [s.label for s in text_document(manual(contents), "m.txt").headings][-1] == "4. Licence"


def test_a_web_pages_contents_list_is_marked():
    items = "".join(f'<li><a href="#c{n}">{title}</a></li>' for n, title in enumerate(CHAPTERS))
    body = "".join(f'<h2 id="c{n}">{title}</h2><p>{text}</p>' for n, (title, text) in enumerate(CHAPTERS.items()))
    page = f"<html><body><h1>Guide</h1><nav><ul>{items}</ul></nav>{body}</body></html>"
    document = load_bytes(page.encode(), "g.html")
    assert [document.text[s:e] for s, e in document.no_answer_spans] == ["\n".join(CHAPTERS)]


def test_a_markdown_list_of_links_to_its_sections_is_marked():
    links = "\n".join(f"- [{title}](#{title.lower().replace(' ', '-')})" for title in CHAPTERS)
    body = "\n\n".join(f"## {title}\n\n{text}" for title, text in CHAPTERS.items())
    document = load_bytes(f"# Guide\n\n## Contents\n\n{links}\n\n{body}\n".encode(), "README.md")
    assert [document.text[s:e] for s, e in document.no_answer_spans] == [links]


def test_an_index_is_marked():
    index = "Index\n\nA\n\nanchor, 12, 45-47\nattic, 3\n\nB\n\nboat, 7, 9\nbreakwater, 20\nbuoy, 21-22\n"
    assert marked("Harbour notes\n\nThe harbour has a breakwater and a buoy.\n\n" + index) == [
        "anchor, 12, 45-47\nattic, 3\n\nB\n\nboat, 7, 9\nbreakwater, 20\nbuoy, 21-22"
    ]


@pytest.mark.parametrize(
    "text",
    [
        # Steps that name no section, a price list, the chapters named in a sentence, a recipe's list.
        manual("1. Unpack the box\n2. Plug it in\n3. Press the button"),
        "Prices\n\nApples    5\nPears    4\nPlums    3\n\nAll prices are per kilo, paid at the till.",
        manual("The chapters are Introduction, Installing, Using the program and Licence."),
        "Pancakes\n\n- 200 g flour\n- 2 eggs\n- 300 ml milk\n\nMix everything and fry in butter.",
    ],
    ids=["steps", "prices", "sentence", "ingredients"],
)
def test_lists_that_are_no_contents_stay_answerable(text):
    assert marked(text) == []


def test_the_model_never_answers_from_a_text_contents_list():
    document = text_document(manual(PAGED), "manual.txt")
    ((start, end),) = document.no_answer_spans
    engine = open_engine(bundled_model_dir(), device="cpu")
    questions = ("On which page is installing described?", "What is chapter 4 called?", "What licence is it under?")
    for question in questions:
        for answer in engine.ask(document, question).answers:
            assert answer.end <= start or answer.start >= end, (question, answer)
