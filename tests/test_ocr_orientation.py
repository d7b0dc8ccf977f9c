"""The lean of a page's lines, measured on masks drawn here, and the level frame's round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reading_assistant.core.documents import ocr_orientation
from reading_assistant.core.documents.ocr import labelled_runs


def bars(degrees: float, count: int = 4, length: int = 400, thickness: int = 9, size=(300, 500)) -> np.ndarray:
    """A mask of ``count`` parallel bars (lines of text as the detector marks them) leaning ``degrees``
    (positive: falling to the right, y down)."""
    height, width = size
    y, x = np.mgrid[0:height, 0:width]
    slope = math.tan(math.radians(degrees))
    mask = np.zeros(size, dtype=bool)
    for n in range(count):
        centre = 60 + 50 * n + slope * (x - 50)
        mask |= (np.abs(y - centre) <= thickness / 2) & (x >= 50) & (x < 50 + length)
    return mask


def axes(mask: np.ndarray, pixel_width: float = 1.0, pixel_height: float = 1.0) -> ocr_orientation.LineAxes:
    return ocr_orientation.line_axes(*labelled_runs(mask)[:4], pixel_width, pixel_height)


def lean(mask: np.ndarray, pixel_width: float = 1.0, pixel_height: float = 1.0) -> float:
    return math.degrees(ocr_orientation.skew_angle(axes(mask, pixel_width, pixel_height)))


@pytest.mark.parametrize("degrees", [-6.0, -1.0, 0.5, 2.0, 12.0])
def test_the_lean_of_parallel_lines_is_measured(degrees):
    assert lean(bars(degrees)) == pytest.approx(degrees, abs=0.05)


def test_a_level_page_a_sideways_page_and_one_line_are_left_alone():
    assert lean(bars(0.0)) == 0.0
    assert lean(bars(0.1)) == 0.0  # under MIN_SKEW: not worth a turn
    assert lean(bars(40.0, length=150, size=(500, 500))) == 0.0  # a turned page, not a slant
    assert lean(bars(3.0, count=1)) == 0.0  # one line alone says too little
    assert lean(np.zeros((50, 50), dtype=bool)) == 0.0
    # Vertical rules (a table's) have no lean to give.
    rules = np.zeros((300, 300), dtype=bool)
    rules[20:280, 50:53] = rules[20:280, 150:153] = rules[20:280, 250:253] = True
    assert lean(rules) == 0.0


def test_the_lean_is_measured_in_the_images_pixels_when_the_map_is_squeezed():
    # The map's sides are rounded apart: a map pixel twice as tall as wide halves the lean seen on it.
    assert lean(bars(2.0)[::2], pixel_height=2.0) == pytest.approx(2.0, abs=0.15)


def test_the_level_frame_turns_back_onto_the_image():
    width, height, angle = 800, 600, math.radians(3)
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    image[300, 400] = image[100, 700] = 0  # two dark dots
    level = ocr_orientation.level_image(image, angle)
    offset = ocr_orientation.level_offset(width, height, angle)
    ys, xs = np.nonzero(level[..., 0] < 200)
    # Each dark pixel of the level image, turned back, lands near one of the dots.
    x, y = ocr_orientation.to_image(xs - offset[0], ys - offset[1], width, height, angle)
    dots = np.array([[400, 300], [700, 100]])
    distances = np.min(np.hypot(x[:, None] - dots[:, 0], y[:, None] - dots[:, 1]), axis=1)
    assert len(xs) and distances.max() < 1.5
    assert level.shape[:2] == ocr_orientation.level_size(width, height, angle)[::-1]


def test_lines_that_run_down_the_page_make_it_sideways():
    assert ocr_orientation.is_sideways(axes(bars(0.0).T.copy()))
    assert ocr_orientation.is_sideways(axes(bars(3.0).T.copy()))
    assert not ocr_orientation.is_sideways(axes(bars(3.0)))
    # A table's vertical rules among its rows of text leave it as it is.
    table = bars(0.0, count=5, length=420, size=(320, 520))
    table[20:300, 40:43] = table[20:300, 480:483] = True
    assert not ocr_orientation.is_sideways(axes(table))
    assert not ocr_orientation.is_sideways(axes(bars(0.0, count=1).T.copy()))  # one line says too little


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_a_pixel_of_the_turned_image_is_found_on_the_image(turns):
    image = np.zeros((30, 50), dtype=bool)
    image[7, 41] = True  # row 7, column 41
    ys, xs = np.nonzero(np.rot90(image, turns))
    # The pixel's centre in the turned image, back on the image as it is.
    x, y = ocr_orientation.to_image(xs + 0.5, ys + 0.5, 50, 30, 0.0, turns)
    assert (float(x[0]), float(y[0])) == pytest.approx((41.5, 7.5))
