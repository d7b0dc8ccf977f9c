"""The window's colours, from the palette, so they read on light and dark themes alike."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette

# A widget's palette changed, its own or the application's (View > Theme).
PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


def blend(foreground: QColor, background: QColor, amount: float) -> QColor:
    """``amount`` of the foreground over the background."""
    pairs = zip(foreground.getRgbF()[:3], background.getRgbF()[:3], strict=True)
    color = QColor()
    color.setRgbF(*(amount * f + (1 - amount) * b for f, b in pairs))
    return color


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def highlight_color(palette: QPalette, confidence: float) -> QColor:
    """Amber, stronger for higher confidence, readable on light and dark backgrounds."""
    color = QColor(255, 170, 0) if is_dark(palette) else QColor(255, 196, 0)
    color.setAlphaF(0.18 + 0.6 * max(0.0, min(1.0, confidence)))
    return color


def find_color(palette: QPalette) -> QColor:
    return QColor(64, 160, 120, 150) if is_dark(palette) else QColor(120, 210, 170, 150)


def muted(palette: QPalette) -> QColor:
    """Secondary text that still reads (about 5:1 on the base colour), unlike a disabled grey."""
    return blend(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base), 0.72)
