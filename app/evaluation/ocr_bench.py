"""OCR figures on this machine (printed, not asserted): seconds a page, words recovered (upright and
scanned at a slant), model size.

python -m reading_assistant.evaluation.ocr_bench
"""

from __future__ import annotations

import math
import os
import re
import time
from collections import Counter

import numpy as np
from PIL import Image

from ..core.documents import ocr

TEXT = (
    "The harbour master of the old town counted forty ships in the year of the great storm. Every morning he "
    "walked along the quay and wrote the names of the boats in a green book. His daughter later copied the book "
    "by hand, and her copy is kept in the library today. Reading a scanned page is slower than reading a text "
    "layer, because every word must be recognised from the picture of the page. "
)
DPI = 200
RUNS = 3
SLANTS = (0.7, -2.0, 5.0)  # a scanner's feed, a photo (counter-clockwise positive, as Pillow turns)


def rendered_page() -> np.ndarray:
    """An A4 page of 11 pt prose (about 500 words) written by fpdf2 and rendered by pdfium."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, TEXT * 8)
    document = pdfium.PdfDocument(bytes(pdf.output()))
    try:
        return np.asarray(document[0].render(scale=DPI / 72).to_pil().convert("RGB"))
    finally:
        document.close()


def words(text: str) -> Counter:
    return Counter(re.findall(r"[a-z0-9]+", text.casefold()))


def main() -> None:
    folder = ocr.models_dir()
    size = sum((folder / name).stat().st_size for name in ocr.MODELS)
    image = rendered_page()
    started = time.perf_counter()
    engine = ocr.engine()
    load = time.perf_counter() - started
    times, lines = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        lines = engine.read(image).lines
        times.append(time.perf_counter() - started)
    want, got = words(TEXT * 8), words(" ".join(line.text for line in lines))
    print(f"OCR models: {' + '.join(ocr.MODELS)}, {size / 2**20:.1f} MiB on disk, in {folder}")
    print(f"loading the models: {load:.2f} s")
    print(
        f"an A4 page at {DPI} dpi ({image.shape[1]} x {image.shape[0]} pixels, {sum(want.values())} words, "
        f"{len(lines)} lines) on {os.cpu_count()} CPU cores: {min(times):.2f} s best, {np.median(times):.2f} s median"
    )
    print(f"words recovered: {100 * sum((want & got).values()) / sum(want.values()):.1f}%")
    for degrees in SLANTS:
        slanted = np.asarray(
            Image.fromarray(image).rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
        )
        started = time.perf_counter()
        page = engine.read(slanted)
        seconds = time.perf_counter() - started
        got = words(" ".join(line.text for line in page.lines))
        print(
            f"the page scanned {degrees:+.1f} degrees off level: measured {-math.degrees(page.skew):+.2f}, "
            f"{100 * sum((want & got).values()) / sum(want.values()):.1f}% of words in {seconds:.2f} s"
        )
    print(f"languages: {ocr.LANGUAGES}")


if __name__ == "__main__":
    main()
