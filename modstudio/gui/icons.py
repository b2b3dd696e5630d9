"""Icons by name, loaded once from ``modstudio/resources/icons`` (SVG) with a drawn fallback if missing."""

from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from modstudio.gui import theme
from modstudio.gui.resources import resource_file


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    path = resource_file("icons", f"{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


@lru_cache(maxsize=None)
def category_icon(category: str) -> QIcon:
    """The category's SVG, or a plain rounded square in its colour."""
    found = icon(f"category-{_slug(category)}")
    if not found.isNull():
        return found
    pixmap = QPixmap(24, 24)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(theme.category_color(category)))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(1, 1, 22, 22, 5, 5)
    painter.end()
    return QIcon(pixmap)


def app_icon() -> QIcon:
    return icon("modstudio")
