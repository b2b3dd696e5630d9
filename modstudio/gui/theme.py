"""Colours and the style sheet: one place, so the canvas, palette and panels agree."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from modstudio.gui.resources import resource_file

CATEGORY_COLORS = {
    "Input / output": "#3a9d6e",
    "Dense": "#3d7bd9",
    "Convolution": "#7a5bd6",
    "Pooling": "#a35bc9",
    "Shape": "#6b7a8f",
    "Activation": "#e0912f",
    "Normalization": "#2ba3b8",
    "Regularization": "#d06b8f",
    "Merge": "#8a9a2b",
    "Blocks": "#4a5fc1",
}
FALLBACK_COLOR = "#7d8590"

CANVAS_BG = QColor("#1d2025")
GRID_MINOR = QColor("#24282e")
GRID_MAJOR = QColor("#2c3138")
NODE_BODY = QColor("#2a2f37")
NODE_BORDER = QColor("#3b424c")
NODE_SELECTED = QColor("#f2c94c")
TEXT = QColor("#e6e9ed")
TEXT_DIM = QColor("#9aa4b1")
EDGE = QColor("#8792a2")
EDGE_SELECTED = QColor("#f2c94c")
PORT = QColor("#c9d1db")
OK = QColor("#4cc38a")
REFUSED = QColor("#e5484d")
ERROR = QColor("#e5484d")
GROUP_FILL = QColor(120, 150, 200, 28)
GROUP_BORDER = QColor(140, 170, 220, 120)


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_COLOR))


def apply(app: QApplication) -> None:
    """Fusion with a dark palette, plus a small style sheet for the panels."""
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor("#1f2228"), QColor("#272b32"), QColor("#e6e9ed")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#252930"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#30353d"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#7d8590"))
    p.setColor(QPalette.ColorRole.Button, QColor("#2d323a"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ff6b6b"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d6fb6"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor("#8fb4ff"))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    app.setPalette(p)
    qss = resource_file("styles", "studio.qss")
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
