"""One module on the canvas: a card with a coloured header, key params, output shape and
parameter count, and its ports. Painted in one item (ports included) and cached per device, so a
thousand of them build and scroll quickly."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from modstudio.graph import catalog
from modstudio.graph.catalog import fmt_shape
from modstudio.gui import theme
from modstudio.gui.numbers import compact_count

WIDTH = 188.0
HEADER = 26.0
LINE = 17.0
HEIGHT = HEADER + 2 * LINE + 10.0
PORT_R = 6.0
PORT_HIT = 12.0
BADGE_R = 8.0
PILL = 18.0  # height of an overlay badge under the card


@dataclass(frozen=True)
class NodeBadge:
    """An overlay under a card (what a training run did with the module): a coloured pill with
    ``text`` on the left and ``detail`` on the right, and the card outlined in the same colour."""

    text: str
    color: str = "#4e9af1"
    detail: str = ""
    tooltip: str = ""


def _fonts() -> tuple[QFont, QFont]:
    title = QFont()
    title.setPointSizeF(9.0)
    title.setBold(True)
    body = QFont()
    body.setPointSizeF(8.5)
    return title, body


def fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return fmt_shape(tuple(value)) if value else "auto"
    return str(value)


def fmt_count(n: int | None) -> str:
    return "" if n is None else f"{compact_count(n)} params"


# How a key param reads on a card: short, value first ("16 ch · k3 · max pool").
KEY_FORMATS = {
    "out_channels": "{} ch", "kernel_size": "k{}", "out_features": "{} out", "hidden": "{}",
    "activation": "{}", "pool": "{} pool", "classes": "{} classes", "shape": "{}", "p": "p {}", "dim": "dim {}",
}


def fmt_key_param(name: str, value: Any) -> str:
    if name == "classes" and value == 0:
        return "classes from task"
    if name == "shape" and not value:
        return "shape from task"
    if name == "pool" and value == "none":
        return "no pool"
    if name == "hidden" and isinstance(value, list):
        return "–".join(map(str, value))
    return KEY_FORMATS.get(name, name + " {}").format(fmt_value(value))


class NodeItem(QGraphicsItem):
    """Position mirrors ``node.pos`` (the card's top-left corner); never moved by Qt itself."""

    Type = QGraphicsItem.UserType + 1

    def __init__(self, node, report=None) -> None:
        super().__init__()
        self.node_id = node.id
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1.0)
        self.target_state: str | None = None  # "ok" / "refused" while a wire hovers it
        self.connected_inputs = 0
        self.connected_outputs = 0
        self._report = None
        self.badge: NodeBadge | None = None
        self._errors: tuple = ()  # every problem the check found on this node (the report keeps the first)
        self._bounds = self._make_bounds()
        self._title_font, self._body_font = _fonts()
        self._lines: tuple[str, str] = ("", "")
        self._error: str | None = None
        self.sync(node, report)

    def type(self) -> int:  # noqa: A003 - Qt's name
        return self.Type

    # ------------------------------------------------------------------ model → item

    def sync(self, node, report=None) -> None:
        """Take name, kind and params from the model node (and shape/count from a check report)."""
        self.setPos(QPointF(*node.pos))
        self._node = node
        try:
            self.spec = catalog.get(node.kind)
        except KeyError:
            self.spec = None
        if report is not None:
            self._report = report
        self._refresh_text()

    def set_report(self, report, errors=()) -> None:
        """The check's word on this node: ``report`` (shape, count, first error) and ``errors``, all
        the problems found on it, which the tooltip lists."""
        old = self._key()
        self._report = report
        self._errors = tuple(e.message for e in errors)
        self._refresh_text(old)

    def _key(self):
        r = self._report
        err = r.error.message if r is not None and r.error is not None else None
        shape = r.shape if r is not None else None
        count = r.param_count if r is not None else None
        return (self._node.name, tuple(sorted((k, repr(v)) for k, v in self._node.params.items())), shape, count, err,
                self._errors)

    def _refresh_text(self, old_key=None) -> None:
        key = self._key()
        if old_key is not None and key == old_key:
            return
        name, _, shape, count, err, errors = key
        spec = self.spec
        title = spec.title if spec else f"unknown: {self._node.kind}"
        key_params = [fmt_key_param(p, self._node.params.get(p)) for p in (spec.key_params if spec else ())]
        line1 = "  ·  ".join([title, *key_params])
        if err:
            line2 = err
        elif shape is not None:
            line2 = f"→ {fmt_shape(shape)}" + (f"   {fmt_count(count)}" if count else "")
        else:
            line2 = "→ ?"
        fm_title, fm_body = QFontMetricsF(self._title_font), QFontMetricsF(self._body_font)
        room = WIDTH - 20
        self._name = fm_title.elidedText(name, Qt.TextElideMode.ElideRight, room - (2 * BADGE_R + 6 if err else 0))
        self._lines = (fm_body.elidedText(line1, Qt.TextElideMode.ElideRight, room),
                       fm_body.elidedText(line2, Qt.TextElideMode.ElideRight, room))
        self._error = err
        doc = spec.doc if spec else "This module kind is not in the catalog."
        tip = f"<b>{name}</b> ({title})<br>{doc}"
        problems = list(dict.fromkeys([err, *errors] if err else errors))
        if problems:
            tip += "".join(f"<br><span style='color:#ff7b7f'>⚠ {html.escape(p)}</span>" for p in problems)
        self.setToolTip(tip)
        self.update()

    def set_badge(self, badge: NodeBadge | None) -> None:
        if badge == self.badge:
            return
        self.prepareGeometryChange()  # the pill sits below the card
        self.badge = badge
        self._bounds = self._make_bounds()
        self.update()

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def category(self) -> str:
        return self.spec.category if self.spec else ""

    # ------------------------------------------------------------------ ports

    def has_input(self) -> bool:
        return bool(self.spec and self.spec.inputs)

    def has_output(self) -> bool:
        return bool(self.spec and self.spec.outputs)

    def input_multi(self) -> bool:
        return bool(self.spec and self.spec.inputs and self.spec.inputs[0].multi)

    def port_pos(self, port: str) -> QPointF:
        """Port centre in item coordinates: ``"in"`` on the left edge, ``"out"`` on the right."""
        return QPointF(0.0 if port == "in" else WIDTH, HEIGHT / 2)

    def port_scene_pos(self, port: str) -> QPointF:
        return self.mapToScene(self.port_pos(port))

    def port_at(self, scene_pos: QPointF) -> str | None:
        local = self.mapFromScene(scene_pos)
        for port, present in (("out", self.has_output()), ("in", self.has_input())):
            if present and (local - self.port_pos(port)).manhattanLength() <= PORT_HIT:
                return port
        return None

    def set_target_state(self, state: str | None) -> None:
        if state != self.target_state:
            self.target_state = state
            self.update()

    # ------------------------------------------------------------------ painting

    @property
    def errors(self) -> tuple[str, ...]:
        return self._errors

    def boundingRect(self) -> QRectF:
        return self._bounds  # asked thousands of times per drag: computed when the badge changes

    def _make_bounds(self) -> QRectF:
        m = PORT_R + 2
        below = PILL + 6 if self.badge is not None else 0.0
        return QRectF(-m, -BADGE_R / 2 - 1, WIDTH + 2 * m, HEIGHT + BADGE_R / 2 + 1 + max(m, below + 2))

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-PORT_R, 0, WIDTH + 2 * PORT_R, HEIGHT), 6, 6)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        color = theme.category_color(self.category)
        rect = QRectF(0, 0, WIDTH, HEIGHT)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod > 0.3)
        badge_color = QColor(self.badge.color) if self.badge is not None else None
        if lod < 0.35:  # far away: a coloured block is all the eye can use
            painter.setPen(QPen(theme.NODE_SELECTED, 4) if selected else
                           QPen(badge_color, 6) if badge_color is not None else Qt.PenStyle.NoPen)
            painter.setBrush(theme.ERROR if self._error else color)
            painter.drawRect(rect)
            return
        border = theme.NODE_SELECTED if selected else theme.NODE_BORDER
        if self.target_state == "ok":
            border = theme.OK
        elif self.target_state == "refused":
            border = theme.REFUSED
        if badge_color is not None and not (selected or self.target_state):
            border = badge_color
        painter.setPen(QPen(border, 2.0 if (selected or self.target_state or badge_color is not None) else 1.0))
        painter.setBrush(theme.NODE_BODY)
        painter.drawRoundedRect(rect, 6, 6)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0.5, 0.5, WIDTH - 1, HEADER), 5.5, 5.5)
        square = QPainterPath()
        square.addRect(QRectF(0.5, HEADER / 2, WIDTH - 1, HEADER / 2))
        painter.fillPath(header.united(square), color)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(self._title_font)
        painter.drawText(QRectF(10, 0, WIDTH - 20, HEADER), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         self._name)
        if lod > 0.45:
            painter.setFont(self._body_font)
            painter.setPen(theme.TEXT_DIM)
            painter.drawText(QRectF(10, HEADER + 4, WIDTH - 20, LINE),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self._lines[0])
            painter.setPen(theme.ERROR.lighter(130) if self._error else theme.TEXT)
            painter.drawText(QRectF(10, HEADER + 4 + LINE, WIDTH - 20, LINE),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self._lines[1])
        self._paint_ports(painter)
        if self.badge is not None:
            self._paint_badge(painter, badge_color)
        if self._error:
            centre = QPointF(WIDTH - BADGE_R - 4, HEADER / 2)
            painter.setPen(QPen(QColor("#ffffff"), 1.5))
            painter.setBrush(theme.ERROR)
            painter.drawEllipse(centre, BADGE_R, BADGE_R)
            painter.setFont(self._title_font)
            painter.drawText(QRectF(centre.x() - BADGE_R, centre.y() - BADGE_R, 2 * BADGE_R, 2 * BADGE_R),
                             Qt.AlignmentFlag.AlignCenter, "!")

    def _paint_badge(self, painter: QPainter, color: QColor) -> None:
        pill = QRectF(8, HEIGHT + 4, WIDTH - 16, PILL)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(pill, PILL / 2, PILL / 2)
        painter.setFont(self._body_font)
        painter.setPen(QColor("#ffffff") if color.lightnessF() < 0.62 else QColor("#15181c"))
        inner = pill.adjusted(9, 0, -9, 0)
        fm = QFontMetricsF(self._body_font)
        detail = self.badge.detail
        room = inner.width() - (fm.horizontalAdvance(detail) + 8 if detail else 0)
        painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(self.badge.text, Qt.TextElideMode.ElideRight, room))
        if detail:
            painter.drawText(inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, detail)

    def _paint_ports(self, painter: QPainter) -> None:
        for port, present, connected in (("in", self.has_input(), self.connected_inputs),
                                         ("out", self.has_output(), self.connected_outputs)):
            if not present:
                continue
            c = self.port_pos(port)
            fill = theme.PORT if connected else theme.NODE_BODY
            pen = QPen(theme.PORT, 1.6)
            if port == "in" and self.target_state:
                fill = theme.OK if self.target_state == "ok" else theme.REFUSED
                pen = QPen(fill.lighter(130), 2)
            painter.setPen(pen)
            painter.setBrush(QBrush(fill))
            if port == "in" and self.input_multi():
                painter.drawRoundedRect(QRectF(c.x() - PORT_R + 1, c.y() - 2 * PORT_R, 2 * PORT_R - 2, 4 * PORT_R),
                                        PORT_R - 1, PORT_R - 1)
            else:
                painter.drawEllipse(c, PORT_R, PORT_R)
