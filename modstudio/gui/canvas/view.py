"""The canvas view: zoom around the cursor, pan with the middle button or Space-drag, rubber-band
selection, a light grid, drops from the palette (a module kind; the wire it would go into lights
up) or the desktop (files), and the right-click menu its ``menu_provider`` builds."""

from __future__ import annotations

import math
from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView, QMenu

from modstudio.gui import theme

KIND_MIME = "application/x-modstudio-kind"
MIN_ZOOM, MAX_ZOOM = 0.05, 3.0


class CanvasView(QGraphicsView):
    kind_dropped = Signal(str, QPointF)  # module kind, scene position of the drop
    files_dropped = Signal(list)  # local paths
    zoom_changed = Signal(float)

    def __init__(self, scene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        # Repaint only what changed; a dragged node must not repaint a thousand others.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setBackgroundBrush(theme.CANVAS_BG)
        theme.notifier().changed.connect(self._on_theme_changed)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space = False
        self._drop_edge = None  # the wire highlighted under a palette drag
        # fn(scene_pos) -> QMenu for a right-click (the canvas editor's context_menu); None: no menu
        self.menu_provider: Callable[[QPointF], QMenu] | None = None

    # ------------------------------------------------------------------ zoom

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        factor = zoom / self.zoom
        if not math.isclose(factor, 1.0):
            # The scale itself, not a factor on the current one: products drift (100 % became
            # 0.9999999999999999). setTransform keeps the transformation anchor as scale() does.
            self.setTransform(QTransform.fromScale(zoom, zoom))
            self.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom * factor)

    def zoom_in(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(1.25)
        self.setTransformationAnchor(anchor)

    def zoom_out(self) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(0.8)
        self.setTransformationAnchor(anchor)

    def fit(self, rect: QRectF | None = None) -> None:
        """Show ``rect`` (default: all nodes) with a margin, never zooming in past 100 %."""
        rect = rect if rect is not None else self.scene().nodes_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(self.zoom)
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:
            self.set_zoom(1.0)
            self.centerOn(rect.center())
        elif self.zoom < MIN_ZOOM:
            self.set_zoom(MIN_ZOOM)
        self.zoom_changed.emit(self.zoom)

    def centre_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(math.pow(1.0015, delta))
        event.accept()

    # ------------------------------------------------------------------ panning

    def _pan_start(self, pos: QPointF) -> None:
        self._pan_from = pos
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def _pan_to(self, pos: QPointF) -> None:
        delta = pos - self._pan_from
        self._pan_from = pos
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
                self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_start(event.position())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_to(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.scene().cancel_gesture()
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def contextMenuEvent(self, event) -> None:
        if self.menu_provider is None or self._pan_from is not None:
            super().contextMenuEvent(event)
            return
        self.scene().cancel_gesture()
        self.show_menu(self.menu_provider(self.mapToScene(event.pos())), event.globalPos())
        event.accept()

    def show_menu(self, menu: QMenu, global_pos) -> None:
        """Run ``menu`` at ``global_pos`` (modal; tests replace this and trigger the actions)."""
        menu.exec(global_pos)
        menu.deleteLater()

    # ------------------------------------------------------------------ drops

    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasFormat(KIND_MIME) or mime.hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)
        if event.mimeData().hasFormat(KIND_MIME):  # the wire a module would be inserted into
            self._set_drop_edge(self.scene().edge_at(self.mapToScene(event.position().toPoint())))

    def dragLeaveEvent(self, event) -> None:
        self._set_drop_edge(None)
        super().dragLeaveEvent(event)

    def _set_drop_edge(self, edge) -> None:
        if edge is not self._drop_edge:
            if self._drop_edge is not None and self._drop_edge.scene() is not None:
                self._drop_edge.set_drop_target(False)
            if edge is not None:
                edge.set_drop_target(True)
            self._drop_edge = edge

    def dropEvent(self, event) -> None:
        self._set_drop_edge(None)
        mime = event.mimeData()
        if mime.hasFormat(KIND_MIME):
            kind = bytes(mime.data(KIND_MIME)).decode("utf-8")
            self.kind_dropped.emit(kind, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        elif mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                self.files_dropped.emit(paths)
            event.acceptProposedAction()
        else:
            event.ignore()

    # ------------------------------------------------------------------ background

    def _on_theme_changed(self, name: str = "") -> None:
        """Repaint in the new colours now: the cached background (CacheBackground) and the nodes'
        pixmap caches would otherwise keep the old theme until a pan or an edit redrew them."""
        try:
            self.setBackgroundBrush(theme.CANVAS_BG)
            self.resetCachedContent()
            for item in self.items():
                item.update()
            self.viewport().update()
        except RuntimeError:  # the C++ view is gone
            pass

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, theme.CANVAS_BG)
        zoom = self.zoom
        if zoom < 0.25:
            return
        for step, color in ((20.0, theme.GRID_MINOR), (100.0, theme.GRID_MAJOR)):
            if step * zoom < 8:
                continue
            painter.setPen(QPen(color, 0))
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            x = left
            lines = []
            while x < rect.right():
                lines.append((QPointF(x, rect.top()), QPointF(x, rect.bottom())))
                x += step
            y = top
            while y < rect.bottom():
                lines.append((QPointF(rect.left(), y), QPointF(rect.right(), y)))
                y += step
            for a, b in lines:
                painter.drawLine(a, b)
