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


def test_code_lines_stay_unwrapped_and_scroll_sideways_while_prose_wraps(qtbot):
    long_line = "    archive = open_archive(path='/var/lib/vault/keys.tar.bz2', mode='r:bz2', check-sums=True)  # end"
    prose = "The vault keeps every key it ever made, so an old backup can still be read after a rotation. " * 3
    page = f"<html><body><p>{prose}</p><pre>{CODE}\n{long_line}</pre><p>{prose}</p></body></html>"
    document = load_bytes(page.encode(), "a.html")
    view = TextView(pool=QThreadPool())
    qtbot.addWidget(view)
    view.resize(420, 360)
    view.show()
    view.show_document(document)
    qtbot.waitUntil(lambda: view.ready, timeout=5000)

    def block_at(offset: int):
        block = view.document().findBlock(view.positions.to_qt(offset))
        view.blockBoundingRect(block)  # laid out as when it is painted
        return block

    assert block_at(document.text.index("open_archive")).layout().lineCount() == 1
    assert block_at(document.text.index("The vault")).layout().lineCount() > 1
    across = view.horizontalScrollBar()
    assert across.maximum() > 0 and across.value() == 0

    end = document.text.index("# end")
    view.select_span(end, end + len("# end"), reveal=True)
    cursor_box = view.cursorRect()
    assert across.value() > 0
    assert view.viewport().rect().contains(cursor_box.center())
    start = document.text.index("The vault")
    view.select_span(start, start + 3, reveal=True)
    assert across.value() == 0
