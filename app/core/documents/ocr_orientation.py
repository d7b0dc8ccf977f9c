"""How a page lies on its scan: sideways or not, how far its lines lean, and the page turned level.

Detection boxes are axis-aligned, so a line that leans even 0.7 degrees across an A4 page fills too little
of its box and is dropped, or takes part of its neighbours with it; a page scanned sideways has its lines
running down. Both are measured on the detector's probability map (the principal axis of each long
component, weighted by its length): a sideways page is turned a quarter (``np.rot90``), a leaning one
turned level about its centre before boxes are cut (whether a page is upside down is for the
recognizer's direction classifier, see ``ocr.OcrEngine``). The lines are then kept in that upright frame
(centred on the turned image, so layout works as on an upright page), and ``to_image`` turns a point
back onto the page as it was scanned, where its characters are drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

MIN_SKEW = math.radians(0.2)  # below this a line across a page drifts under a quarter of its height
MAX_SKEW = math.radians(15)  # beyond this the page is turned, not slanted (not corrected here)
SIDEWAYS = math.radians(60)  # a line this steep runs down the page
MIN_ELONGATION = 25.0  # a component counts when its long axis's variance is 25 times its short one's (5:1)
MIN_LENGTH = 24.0  # and it is at least this long (map pixels)
MIN_LINES = 2  # a page is turned on two such lines (a note of one line is left as it is)


@dataclass(frozen=True)
class LineAxes:
    """The long components of a detector's map: the angle of each one's long axis (radians, in
    (-pi/2, pi/2]; positive: falling from left to right, y growing down) and its length (image pixels)."""

    angles: np.ndarray
    lengths: np.ndarray


def line_axes(
    rows: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    component: np.ndarray,
    pixel_width: float,
    pixel_height: float,
) -> LineAxes:
    """The axes of the map's line-shaped components, given as runs: run ``i`` covers columns ``starts[i]``
    to ``ends[i] - 1`` of row ``rows[i]`` and belongs to ``component[i]``; a map pixel is ``pixel_width``
    by ``pixel_height`` of the image's pixels (the map's sides are rounded separately)."""
    if not len(rows):
        return LineAxes(np.zeros(0), np.zeros(0))
    count = int(component.max()) + 1
    x0, x1 = starts.astype(np.float64) * pixel_width, ends.astype(np.float64) * pixel_width
    y = (rows.astype(np.float64) + 0.5) * pixel_height
    width = x1 - x0
    # Moments of each run as a segment from x0 to x1 at height y, summed per component.
    pixels = np.bincount(component, width, count)
    sum_x = np.bincount(component, width * (x0 + x1) / 2, count)
    sum_xx = np.bincount(component, (x1**3 - x0**3) / 3, count)
    sum_y = np.bincount(component, width * y, count)
    sum_yy = np.bincount(component, width * y * y, count)
    sum_xy = np.bincount(component, width * y * (x0 + x1) / 2, count)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x, mean_y = sum_x / pixels, sum_y / pixels
        var_x = sum_xx / pixels - mean_x**2
        var_y = sum_yy / pixels - mean_y**2 + pixel_height**2 / 12  # a row has a height
        cov = sum_xy / pixels - mean_x * mean_y
    spread = np.sqrt((var_x - var_y) ** 2 + 4 * cov**2)
    long_axis, short_axis = (var_x + var_y + spread) / 2, (var_x + var_y - spread) / 2
    angles = 0.5 * np.arctan2(2 * cov, var_x - var_y)
    lengths = np.sqrt(12 * np.maximum(long_axis, 0))
    lines = (
        (pixels > 0)
        & (long_axis >= MIN_ELONGATION * np.maximum(short_axis, 1e-9))
        & (lengths >= MIN_LENGTH * min(pixel_width, pixel_height))
    )
    return LineAxes(angles[lines], lengths[lines])


def skew_angle(axes: LineAxes) -> float:
    """The lean of a page's lines in radians (positive: a line falls from left to right, y growing down),
    0.0 when it is too small to matter, too large to be a slant, or not clear."""
    across = np.abs(axes.angles) <= MAX_SKEW
    if across.sum() < MIN_LINES:
        return 0.0
    angle = _weighted_median(axes.angles[across], axes.lengths[across])
    return angle if MIN_SKEW <= abs(angle) <= MAX_SKEW else 0.0


def is_sideways(axes: LineAxes) -> bool:
    """Whether the page's lines run down it: more of their length steep than level, twice over."""
    down = np.abs(axes.angles) >= SIDEWAYS
    across = np.abs(axes.angles) <= math.pi / 2 - SIDEWAYS
    return bool(down.sum() >= MIN_LINES and axes.lengths[down].sum() > 2 * axes.lengths[across].sum())


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def level_size(width: int, height: int, angle: float) -> tuple[int, int]:
    """The size of the level page: the scanned one turned by ``angle``, corners included."""
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    return math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos)


def _to_image_affine(width: int, height: int, angle: float, x_scale: float, y_scale: float) -> tuple[float, ...]:
    """Pillow's affine data: where each pixel of the level page lies on the image turned by ``angle``, both
    measured in pixels of which an image pixel holds ``x_scale`` across and ``y_scale`` down (1 and 1 for
    the image itself, the map's resolution for the detector's map)."""
    level_w, level_h = level_size(width, height, angle)
    cos, sin = math.cos(angle), math.sin(angle)
    # image = R(angle) (level - level centre) + image centre, in image pixels; the map's pixels are scaled.
    return (
        cos,
        -sin * x_scale / y_scale,
        x_scale * (width / 2 - cos * level_w / 2 + sin * level_h / 2),
        sin * y_scale / x_scale,
        cos,
        y_scale * (height / 2 - sin * level_w / 2 - cos * level_h / 2),
    )


def level_image(image: np.ndarray, angle: float) -> np.ndarray:
    """``image`` (H, W, 3 uint8) turned level, its new corners filled with the colour of its border."""
    height, width = image.shape[:2]
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    fill = tuple(int(value) for value in np.median(border, axis=0))
    turned = Image.fromarray(image).transform(
        level_size(width, height, angle),
        Image.Transform.AFFINE,
        _to_image_affine(width, height, angle, 1.0, 1.0),
        resample=Image.Resampling.BILINEAR,
        fillcolor=fill,
    )
    return np.asarray(turned)


def level_map(probability: np.ndarray, width: int, height: int, angle: float) -> np.ndarray:
    """The detector's map of an image ``width`` by ``height`` turned level as ``level_image`` turns the image,
    at the map's own resolution."""
    map_h, map_w = probability.shape
    x_scale, y_scale = map_w / width, map_h / height
    level_w, level_h = level_size(width, height, angle)
    turned = Image.fromarray(probability.astype(np.float32), mode="F").transform(
        (max(1, round(level_w * x_scale)), max(1, round(level_h * y_scale))),
        Image.Transform.AFFINE,
        _to_image_affine(width, height, angle, x_scale, y_scale),
        resample=Image.Resampling.BILINEAR,
        fillcolor=0.0,
    )
    return np.asarray(turned)


def level_offset(width: int, height: int, angle: float) -> tuple[float, float]:
    """What to subtract from a level page's pixel so that the level frame is centred on the image."""
    level_w, level_h = level_size(width, height, angle)
    return (level_w - width) / 2, (level_h - height) / 2


def to_image(
    x: np.ndarray, y: np.ndarray, width: float, height: float, angle: float, turns: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Points of the upright frame on the image as scanned (``width`` by ``height``): the image was turned
    ``turns`` quarter turns counter-clockwise (``np.rot90``), then by ``angle`` about its centre, and the
    frame is centred on the turned image (see ``level_offset``)."""
    turned_w, turned_h = (height, width) if turns % 2 else (width, height)
    if angle:
        cos, sin = math.cos(angle), math.sin(angle)
        dx, dy = x - turned_w / 2, y - turned_h / 2
        x, y = cos * dx - sin * dy + turned_w / 2, sin * dx + cos * dy + turned_h / 2
    # np.rot90(image, k)'s pixel (x, y) is the image's pixel:
    return {
        0: (x, y),
        1: (width - y, x),
        2: (width - x, height - y),
        3: (y, height - x),
    }[turns % 4]
