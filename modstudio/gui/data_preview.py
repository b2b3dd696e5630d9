"""Small previews of a dataset: a grid of sample images, a table of rows, class-count bars."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QTableWidget, QTableWidgetItem, QWidget

from modstudio.gui import theme

CELL = 36


def is_image_shape(shape: tuple[int, ...]) -> bool:
    return (len(shape) == 2 and min(shape) >= 4) or (len(shape) == 3 and shape[0] in (1, 3) and min(shape[1:]) >= 4)


def sample_image(sample: np.ndarray) -> QImage:
    """One sample as an 8-bit image, scaled to its own min/max so faint data is visible."""
    a = np.asarray(sample, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    a = np.ascontiguousarray((a * 255).astype(np.uint8))
    if a.ndim == 3:  # 3×H×W → H×W×3
        rgb = np.ascontiguousarray(np.transpose(a, (1, 2, 0)))
        h, w, _ = rgb.shape
        return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def image_grid(x: np.ndarray, y: np.ndarray, class_names: list[str], per_class: int = 4,
               max_classes: int = 10) -> QPixmap:
    """Rows of samples, one row per class (the first ``per_class`` samples of each)."""
    classes = list(range(min(len(class_names), max_classes)))
    label_w = max(QFontMetrics(_font()).horizontalAdvance(class_names[c][:12])
                  for c in classes) + 12 if classes else 0
    pixmap = QPixmap(label_w + per_class * (CELL + 4), len(classes) * (CELL + 4))
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setFont(_font())
    for row, c in enumerate(classes):
        top = row * (CELL + 4)
        painter.setPen(theme.TEXT_DIM)
        painter.drawText(QRectF(0, top, label_w - 6, CELL), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         class_names[c][:12])
        for col, index in enumerate(np.flatnonzero(y == c)[:per_class]):
            image = sample_image(x[index]).scaled(CELL, CELL, Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.FastTransformation)
            painter.drawImage(label_w + col * (CELL + 4), top, image)
    painter.end()
    return pixmap


def _font():
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPointSizeF(8.5)
    return font


def rows_table(x: np.ndarray, y: np.ndarray, class_names: list[str], feature_names: list[str] | None = None,
               rows: int = 8, cols: int = 8) -> QTableWidget:
    """The first rows, headed with the source's own column names (a CSV's header) when it has them."""
    flat = x.reshape(len(x), -1)
    n_cols = min(cols, flat.shape[1])
    more = flat.shape[1] > n_cols
    table = QTableWidget(min(rows, len(flat)), n_cols + 1 + more)
    names = feature_names if feature_names is not None and len(feature_names) == flat.shape[1] else None
    headers = ([names[j] if names else f"x{j}" for j in range(n_cols)] + (["…"] if more else [])
               + ["label"])
    table.setHorizontalHeaderLabels(headers)
    for i in range(table.rowCount()):
        for j in range(n_cols):
            table.setItem(i, j, QTableWidgetItem(f"{flat[i, j]:.4g}"))
        if more:
            table.setItem(i, n_cols, QTableWidgetItem("…"))
        table.setItem(i, table.columnCount() - 1, QTableWidgetItem(class_names[int(y[i])]))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.resizeColumnsToContents()
    return table


class ClassCounts(QWidget):
    """Horizontal bars, one per class: balance problems are visible at a glance."""

    MAX_ROWS = 16

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts: list[tuple[str, int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_counts(self, names: list[str], counts) -> None:
        self.counts = [(str(n), int(c)) for n, c in zip(names, counts)]
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        rows = min(len(self.counts), self.MAX_ROWS) + (len(self.counts) > self.MAX_ROWS)
        return QSize(260, max(1, rows) * 16 + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event) -> None:
        if not self.counts:
            return
        painter = QPainter(self)
        painter.setFont(_font())
        fm = painter.fontMetrics()
        label_w = min(110, max(fm.horizontalAdvance(n[:14]) for n, _ in self.counts) + 8)
        num_w = fm.horizontalAdvance("000000") + 6
        top = max(c for _, c in self.counts) or 1
        bar_w = max(20, self.width() - label_w - num_w - 4)
        shown = self.counts[:self.MAX_ROWS]
        for i, (name, count) in enumerate(shown):
            y = 2 + i * 16
            painter.setPen(theme.TEXT_DIM)
            painter.drawText(QRectF(0, y, label_w - 6, 14), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             name[:14])
            painter.fillRect(QRectF(label_w, y + 2, bar_w * count / top, 10), QColor("#3d7bd9"))
            painter.setPen(theme.TEXT)
            painter.drawText(QRectF(label_w + bar_w * count / top + 4, y, num_w, 14), Qt.AlignmentFlag.AlignVCenter,
                             f"{count:,}")
        if len(self.counts) > self.MAX_ROWS:
            painter.setPen(theme.TEXT_DIM)
            painter.drawText(QRectF(label_w, 2 + len(shown) * 16, bar_w, 14), Qt.AlignmentFlag.AlignVCenter,
                             f"… and {len(self.counts) - self.MAX_ROWS} more classes")
        painter.end()
