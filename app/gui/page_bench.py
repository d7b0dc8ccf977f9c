"""Figures for the page view on a long PDF (printed, not asserted):

    python -m reading_assistant.gui.page_bench FILE.pdf [--pages 300]

The file's pages are repeated into a PDF of ``--pages`` pages. Printed: the time from opening it
to its first page drawn on screen; the GUI thread's busy time per event-loop turn while scrolling
through it, page by page (the longest and the 95th percentile: the window stays responsive if
both stay under 50 ms); and the memory the pictures of pages take (the view's own count and the
process's resident set).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PySide6.QtCore import QAbstractEventDispatcher, QEventLoop, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from ..core.documents.pdfium_lock import PDFIUM
from .page_view import IMAGE_BUDGET_BYTES, PageView


def long_pdf(source: Path, pages: int, folder: Path) -> Path:
    with PDFIUM:
        original = pdfium.PdfDocument(str(source))
        built = pdfium.PdfDocument.new()
        while len(built) < pages:
            built.import_pages(original, list(range(min(len(original), pages - len(built)))))
        path = folder / f"{source.stem}-{pages}.pdf"
        built.save(str(path))
        built.close()
        original.close()
    return path


def resident_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


class TurnTimer:
    """The GUI thread's busy time per event-loop turn: from waking to blocking again."""

    def __init__(self) -> None:
        self.turns: list[float] = []
        self._awake = time.perf_counter()
        dispatcher = QAbstractEventDispatcher.instance()
        dispatcher.awake.connect(self._woke)
        dispatcher.aboutToBlock.connect(self._blocks)

    def _woke(self) -> None:
        self._awake = time.perf_counter()

    def _blocks(self) -> None:
        self.turns.append(time.perf_counter() - self._awake)


def run(path: Path, pages: int) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as folder:
        pdf = long_pdf(path, pages, Path(folder))
        view = PageView(QThreadPool())
        view.resize(900, 1000)
        view.show()
        before = resident_mb()

        def wait_for(condition, seconds: float = 60.0) -> None:
            deadline = time.monotonic() + seconds
            while not condition() and time.monotonic() < deadline:
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)

        started = time.perf_counter()
        view.open_file(str(pdf))
        wait_for(lambda: 0 in view._images)
        view.viewport().repaint()
        first_page = time.perf_counter() - started
        timer = TurnTimer()
        largest_images = 0
        scrolled = time.perf_counter()
        bar = view.verticalScrollBar()
        step = max(1, bar.pageStep() // 2)
        loop = QEventLoop()

        def tick() -> None:
            nonlocal largest_images
            largest_images = max(largest_images, view._image_bytes)
            if bar.value() >= bar.maximum() or time.perf_counter() - scrolled > 600:
                loop.quit()
            bar.setValue(bar.value() + step)

        # A reader paging down twice a second... thirty times a second: the worker cannot keep up,
        # so this measures the window while pictures lag behind the scrolling.
        ticker = QTimer(interval=33)
        ticker.timeout.connect(tick)
        ticker.start()
        loop.exec()
        ticker.stop()
        scroll_s = time.perf_counter() - scrolled
        turns = np.array(timer.turns) * 1000
        view.shutdown()
        print(f"PDF: {path.name}, repeated to {view.page_count} pages")
        print(f"first page on screen: {first_page:.3f} s")
        print(f"scrolled through in {scroll_s:.1f} s, {len(turns)} event-loop turns")
        print(f"GUI thread per turn: longest {turns.max():.1f} ms, 95th percentile {np.percentile(turns, 95):.1f} ms")
        print(f"pictures of pages: at most {largest_images / 2**20:.0f} MB (budget {IMAGE_BUDGET_BYTES // 2**20} MB)")
        print(f"process memory: {before:.0f} MB before, {resident_mb():.0f} MB after scrolling")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    run(args.pdf, args.pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
