"""An image file's pages for a view (a multi-page TIFF has several): the same face as a PDF's
``PdfPages``. A page is the image upright at its own resolution (its dpi, 72 when it says none),
so the boxes OCR gave its characters, in points, land on it; it has no characters of its own."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InputError
from .images import frame_count, image_dpi, opened_image, upright_frame
from .loading import read_file
from .pages import MAX_RENDER_PIXELS, OutlineEntry, PageInfo, PageText

EXIF_ORIENTATION = 0x0112
TURNED = {5, 6, 7, 8}  # orientations a quarter turn away: width and height swap


class ImagePages:
    def __init__(self, path: str | Path) -> None:
        self.name = Path(path).name
        self._data = read_file(Path(path))
        self._lock = threading.Lock()  # Pillow's image object keeps a current frame
        self._image = opened_image(self._data, self.name)
        self.count = frame_count(self._image, self.name)
        self._frames: dict[int, tuple[np.ndarray, float]] = {}

    def _frame(self, index: int) -> tuple[np.ndarray, float]:
        with self._lock:
            frame = self._frames.get(index)
            if frame is None:
                frame = upright_frame(self._image, index, self.name)
                self._frames = {index: frame}  # one decoded frame kept: pages are drawn one at a time
            return frame

    def sizes(self) -> np.ndarray:
        """Each frame's size in points, from its header (nothing is decoded), turned as EXIF says."""
        sizes = np.zeros((self.count, 2))
        with self._lock:
            for index in range(self.count):
                self._image.seek(index)
                width, height = self._image.size
                if self._image.getexif().get(EXIF_ORIENTATION, 1) in TURNED:
                    width, height = height, width
                points_per_pixel = 72.0 / image_dpi(self._image)
                sizes[index] = width * points_per_pixel, height * points_per_pixel
        return sizes

    def labels(self) -> list[str]:
        return [str(index + 1) for index in range(self.count)]

    def outline(self) -> list[OutlineEntry]:
        return []

    def info(self, index: int) -> PageInfo:
        pixels, points_per_pixel = self._frame(index)
        width, height = pixels.shape[1] * points_per_pixel, pixels.shape[0] * points_per_pixel
        # Points, y up (as OCR's boxes are), onto the shown page, 0 to 1 and y down.
        return PageInfo(width, height, str(index + 1), (1 / width, 0.0, 0.0, -1 / height, 0.0, 1.0))

    def render(self, index: int, scale: float) -> np.ndarray:
        pixels, points_per_pixel = self._frame(index)
        height, width = pixels.shape[:2]
        factor = min(scale * points_per_pixel, (MAX_RENDER_PIXELS / max(1, width * height)) ** 0.5)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        try:
            return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))
        except (OSError, ValueError) as error:
            raise InputError(f"page {index + 1} of {self.name} cannot be drawn") from error

    def text(self, index: int) -> PageText:
        return PageText("", np.zeros((0, 4), dtype=np.float32))

    def close(self) -> None:
        with self._lock:
            self._image.close()
            self._frames = {}
