"""Image files (PNG, JPEG, TIFF) read by OCR: every frame of a multi-page TIFF is a page, EXIF orientation
is applied, and a page is the image at its own resolution (its dpi; 72 dpi when it says none), so the
source map's boxes are in points of that page.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError, ModelError
from . import ocr, ocr_cache
from .document import Document
from .load_options import NO_OPTIONS, LoadOptions
from .ocr_text import page_text
from .page_document import document_from_pages

# What may be decoded, checked from the header before any pixel is: a page of 40 megapixels is A4 at
# 600 dpi (and some 120 MB in memory as RGB); the whole file is bounded as well.
MAX_PAGE_PIXELS = 40_000_000
MAX_FILE_PIXELS = 400_000_000
MAX_FRAMES = 2000
DEFAULT_DPI = 72.0
PLAUSIBLE_DPI = (30.0, 2400.0)
FORMATS = ("PNG", "JPEG", "TIFF")  # "JPEG" also opens a camera's MPO (a JPEG with a preview inside)


def load_image(data: bytes, name: str, options: LoadOptions = NO_OPTIONS) -> Document:
    digest = ocr_cache.file_digest(data)
    try:
        ocr.models_dir()  # "OCR is not installed" before anything else
    except ModelError as error:
        # The loaders' caller passes InputError on as it is (anything else reads "may be damaged").
        raise InputError(str(error)) from error
    pages, boxes = [], {}
    with opened_image(data, name) as image:
        frames = frame_count(image, name)
        for index in range(frames):
            options.check_stop()
            options.report(index, frames, f"reading page {index + 1} of {frames} by OCR")
            key = ocr_cache.entry_key(digest, f"image frame {index}")
            text = page_text(ocr_cache.read_through(key, lambda index=index: read_frame(image, index, name, options)))
            pages.append(text.lines)
            if len(text.boxes):
                boxes[index] = text.boxes
        options.report(frames, frames, f"read {frames} page{'s' if frames > 1 else ''} by OCR")
    labels = [str(n) for n in range(1, frames + 1)]
    document = document_from_pages(pages, labels, name, "image", boxes, options.should_stop)
    if not document.text.strip():
        raise InputError(f"no text was found in {name} (OCR reads printed text; this image may have none)")
    return document


def read_frame(image: Image.Image, index: int, name: str, options: LoadOptions) -> ocr.OcrPage:
    pixels, points_per_pixel = upright_frame(image, index, name)
    return ocr.engine().read(pixels, points_per_pixel, options=options)


def opened_image(data: bytes, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Our own budget, checked next, is below Pillow's bomb limit; its warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)  # reads the header only
    except Image.DecompressionBombError as error:
        raise _too_large(name) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InputError(f"{name} is not a PNG, JPEG or TIFF image that can be read (it may be damaged)") from error
    width, height = image.size
    if width * height > MAX_PAGE_PIXELS:
        image.close()
        raise _too_large(name, width, height)
    return image


def _too_large(name: str, width: int = 0, height: int = 0) -> InputError:
    size = f" ({width} x {height} pixels)" if width else ""
    return InputError(
        f"{name} is too large an image to read{size}: the limit is {MAX_PAGE_PIXELS // 1_000_000} megapixels a page"
    )


def frame_count(image: Image.Image, name: str) -> int:
    frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
    width, height = image.size
    if frames > MAX_FRAMES or frames * width * height > MAX_FILE_PIXELS:
        raise InputError(f"{name} has too many pages to read ({frames}); the limit is {MAX_FRAMES}")
    return frames


def upright_frame(image: Image.Image, index: int, name: str) -> tuple[np.ndarray, float]:
    """Frame ``index`` decoded, upright and RGB, and the size of its pixels in points."""
    try:
        image.seek(index)
        width, height = image.size  # a TIFF's frames each have their own size
        if width * height > MAX_PAGE_PIXELS:
            raise _too_large(name, width, height)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
                upright = upright.point(lambda value: value / 256).convert("L")  # 16-bit scans
            if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
                # Transparent pixels are paper, not black.
                background = Image.new("RGB", upright.size, "white")
                background.paste(upright.convert("RGBA"), mask=upright.convert("RGBA").getchannel("A"))
                upright = background
            pixels = np.asarray(upright.convert("RGB"))
    except InputError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        where = f"page {index + 1} of {name}" if getattr(image, "n_frames", 1) > 1 else name
        raise InputError(f"{where} cannot be decoded: the image is truncated or damaged") from error
    return pixels, 72.0 / image_dpi(image)


def image_dpi(image: Image.Image) -> float:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else DEFAULT_DPI
    except (TypeError, ValueError, IndexError):
        return DEFAULT_DPI
    return value if PLAUSIBLE_DPI[0] <= value <= PLAUSIBLE_DPI[1] else DEFAULT_DPI
