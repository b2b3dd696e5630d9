"""A labelled block drawn behind its member nodes; it only reflects where the members are."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from modstudio.gui import theme

PAD = 16.0
LABEL_H = 22.0


class GroupItem(QGraphicsItem):
    Type = QGraphicsItem.UserType + 3

    def __init__(self, group_id: str, label: str) -> None:
        super().__init__()
        self.group_id, self.label = group_id, label
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-10.0)
        self._rect = QRectF()
        self._font = QFont()
        self._font.setPointSizeF(9.0)
        self._font.setBold(True)
        self.setToolTip(f"Group “{label}” — double-click the label to rename")

    def type(self) -> int:  # noqa: A003 - Qt's name
        return self.Type

    def set_label(self, label: str) -> None:
        self.label = label
        self.setToolTip(f"Group “{label}” — double-click the label to rename")
        self.update()

    def fit(self, member_rects: list[QRectF]) -> None:
        """Wrap the members' scene rectangles (or hide when the group has none)."""
        self.setVisible(bool(member_rects))
        if not member_rects:
            return
        rect = member_rects[0]
        for r in member_rects[1:]:
            rect = rect.united(r)
        rect = rect.adjusted(-PAD, -PAD - LABEL_H, PAD, PAD)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect

    def label_rect(self) -> QRectF:
        return QRectF(self._rect.left(), self._rect.top(), self._rect.width(), LABEL_H + 4)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = theme.NODE_SELECTED if self.isSelected() else theme.GROUP_BORDER
        painter.setPen(QPen(border, 1.5, Qt.PenStyle.DashLine if not self.isSelected() else Qt.PenStyle.SolidLine))
        painter.setBrush(theme.GROUP_FILL)
        painter.drawRoundedRect(self._rect, 10, 10)
        painter.setFont(self._font)
        painter.setPen(theme.TEXT)
        text = QFontMetricsF(self._font).elidedText(self.label, Qt.TextElideMode.ElideRight, self._rect.width() - 24)
        painter.drawText(self._rect.adjusted(12, 4, -12, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         text)
