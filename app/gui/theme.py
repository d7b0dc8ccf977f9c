"""View > Theme: the system's colours, or light or dark whatever the system says, kept in the settings.

The palette is set for the whole application, so dialogs follow; the colours drawn from it (the
highlights, the margin, the selected answer) are read from the palette when they are drawn, and
the widgets that style themselves once restyle on a palette change.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from .settings import Store

THEMES = {"system": "&System", "light": "&Light", "dark": "&Dark"}
_system_palette: QPalette | None = None  # the palette the app started with, for "system"


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#1b1b1d"),
        (QPalette.ColorRole.AlternateBase, "#26272a"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#2d2e31"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Highlight, "#3d7bd9"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
        (QPalette.ColorRole.ToolTipBase, "#2d2e31"),
        (QPalette.ColorRole.ToolTipText, "#e8eaed"),
        (QPalette.ColorRole.Link, "#8ab4f8"),
    ):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e73"))
    return palette


def apply_theme(theme: str) -> None:
    """Colour the whole application: ``"system"`` (as it started), ``"light"`` or ``"dark"``."""
    global _system_palette
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(app.style().standardPalette())
    else:
        app.setPalette(_system_palette)


def theme_menu(parent: QWidget, store: Store) -> QMenu:
    """View > Theme, its choice applied at once and kept."""
    menu = QMenu("&Theme", parent)
    group = QActionGroup(menu)
    chosen = store.theme()
    for theme, text in THEMES.items():
        action = QAction(text, menu, checkable=True, checked=theme == chosen)
        action.setData(theme)
        action.triggered.connect(lambda checked=False, theme=theme: choose(store, theme))
        group.addAction(action)
        menu.addAction(action)
    return menu


def choose(store: Store, theme: str) -> None:
    store.save_theme(theme)
    apply_theme(theme)
