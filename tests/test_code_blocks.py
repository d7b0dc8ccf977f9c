"""Code in a document (a web page's <pre>, a Markdown fence) is marked and shown in a monospace font."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QFontDatabase, QTextCursor

from reading_assistant.core.documents.loading import load_bytes
from reading_assistant.gui.text_view import TextView

CODE = "def rotate(vault):\n    key = new_key()\n    return vault.reencrypt(key)"


def test_a_web_pages_pre_block_and_a_markdown_fence_are_code():
    page = load_bytes(
        f"<html><body><p>Rotate the key:</p><pre>\n{CODE}\n</pre><p>Done.</p></body></html>".encode(), "a.html"
    )
    ((start, end),) = page.code_spans
    assert page.text[start:end] == CODE
    markdown = load_bytes(f"# Keys\n\nRotate the key:\n\n```python\n{CODE}\n```\n\nDone.\n".encode(), "a.md")
    ((start, end),) = markdown.code_spans
    assert markdown.text[start:end] == f"```python\n{CODE}\n```"
    unclosed = load_bytes(f"Intro\n\n```\n{CODE}\n".encode(), "b.md")
    assert unclosed.text[unclosed.code_spans[0][0] :].startswith("```") and unclosed.code_spans[0][1] == len(
        unclosed.text
    )


def test_the_text_view_shows_code_in_a_monospace_font_and_prose_in_its_own(qtbot):
    document = load_bytes(f"<html><body><p>Rotate the key:</p><pre>{CODE}</pre></body></html>".encode(), "a.html")
    view = TextView(pool=QThreadPool())
    qtbot.addWidget(view)
    view.show_document(document)
    qtbot.waitUntil(lambda: view.ready, timeout=5000)

    def font_at(offset: int):
        cursor = QTextCursor(view.document())
        cursor.setPosition(view.positions.to_qt(offset) + 1)
        return cursor.charFormat()

    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    code = font_at(document.text.index("reencrypt"))
    assert code.fontFixedPitch() and code.fontFamilies() == [fixed]
    assert not font_at(document.text.index("Rotate")).fontFixedPitch()
