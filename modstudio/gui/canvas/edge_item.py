"""A wire between two ports, drawn as a horizontal cubic curve (the look of node editors)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from modstudio.gui import theme


SKIP_MIN_DX = 320.0  # a wire this long on one row passes behind the cards between its ends
SKIP_DROP = 64.0  # … so it is routed below them instead


def curve(p1: QPointF, p2: QPointF, route: bool = False) -> QPainterPath:
    """A horizontal S-curve; with ``route``, a long same-row wire dips under the row (skip links)."""
    path = QPainterPath(p1)
    if route and p2.x() - p1.x() > SKIP_MIN_DX and abs(p2.y() - p1.y()) < 30:
        low = max(p1.y(), p2.y()) + SKIP_DROP
        path.cubicTo(QPointF(p1.x() + 45, p1.y()), QPointF(p1.x() + 45, low), QPointF(p1.x() + 90, low))
        path.lineTo(QPointF(p2.x() - 90, low))
        path.cubicTo(QPointF(p2.x() - 45, low), QPointF(p2.x() - 45, p2.y()), p2)
        return path
    dx = max(40.0, abs(p2.x() - p1.x()) * 0.5)
    path.cubicTo(QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2)
    return path


class EdgeItem(QGraphicsItem):
    """Follows its end nodes: the scene calls :meth:`update_path` when either moves.

    A plain item (not a QGraphicsPathItem, whose bounding rectangle strokes the path each time it
    is asked, several times per move): the rectangle is worked out once per new path."""

    Type = QGraphicsItem.UserType + 2

    def __init__(self, edge, src_item, dst_item) -> None:
        super().__init__()
        self.edge, self.src_item, self.dst_item = edge, src_item, dst_item
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setZValue(0.0)
        self._hover = False
        self._drop_target = False
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._stroke: QPainterPath | None = None
        self._pen = QPen()
        self._apply_pen()
        self.update_path()

    def type(self) -> int:  # noqa: A003 - Qt's name
        return self.Type

    def path(self) -> QPainterPath:
        return self._path

    def pen(self) -> QPen:
        return self._pen

    def update_path(self) -> None:
        self.prepareGeometryChange()
        self._path = curve(self.src_item.port_scene_pos("out"), self.dst_item.port_scene_pos("in"), route=True)
        # the curve's control points plus the hit stroke's half-width hold every pixel it covers
        self._bounds = self._path.controlPointRect().adjusted(-6, -6, 6, 6)
        self._stroke = None

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._stroke is None:  # hit tests ask often; the path changes only on a move
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._stroke = stroker.createStroke(self._path)
        return self._stroke

    def paint(self, painter: QPainter, option, widget=None) -> None:
        # far out (the cards are plain blocks there too) smoothing buys nothing and halves the speed
        painter.setRenderHint(QPainter.RenderHint.Antialiasing,
                              option.levelOfDetailFromTransform(painter.worldTransform()) > 0.3)
        painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)

    def set_drop_target(self, on: bool) -> None:
        """Highlight the wire a palette drag would insert its module into."""
        if on != self._drop_target:
            self._drop_target = on
            self._apply_pen()

    def _apply_pen(self) -> None:
        lit = self._hover or self._drop_target
        color = theme.EDGE_SELECTED if self.isSelected() or self._drop_target else (
            theme.EDGE.lighter(130) if lit else theme.EDGE)
        pen = QPen(color, 3.0 if self._drop_target else 2.2 if self.isSelected() or lit else 1.8)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self._pen = pen
        self.update()

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._apply_pen()
        return super().itemChange(change, value)

    def hoverEnterEvent(self, event) -> None:
        self._hover = True
        self._apply_pen()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self._hover = False
        self._apply_pen()
        super().hoverLeaveEvent(event)


class WireItem(QGraphicsPathItem):
    """The dashed wire that follows the cursor while the user connects two ports."""

    def __init__(self, start: QPointF) -> None:
        super().__init__()
        self.start = start
        self.setZValue(10.0)
        self.set_state(None)
        self.set_end(start)

    def set_end(self, end: QPointF) -> None:
        self.setPath(curve(self.start, end))

    def set_state(self, state: str | None) -> None:
        color = theme.OK if state == "ok" else theme.REFUSED if state == "refused" else theme.EDGE.lighter(140)
        pen = QPen(color, 2.0, Qt.PenStyle.DashLine)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)
