"""The scene mirrors the graph: items are created, moved and removed only from model events
(one slot per event of ``graph.events``).

User gestures (drag a node, drag a wire) become commands pushed on the document's undo stack;
the model then tells the scene what changed. The scene never edits itself in response to a
gesture, so undo, redo, paste and file loading all redraw through the same path.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from modstudio.graph.commands import Connect, MoveNodes
from modstudio.gui.canvas.edge_item import EdgeItem, WireItem
from modstudio.gui.canvas.group_item import GroupItem
from modstudio.gui.canvas.node_item import HEIGHT, WIDTH, NodeItem

GRID = 10.0
_drag_ids = itertools.count(1)


class GraphScene(QGraphicsScene):
    status = Signal(str)  # hints and refusals for the status bar
    group_label_activated = Signal(str)  # group id whose label was double-clicked

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[object, EdgeItem] = {}
        self.groups: dict[str, GroupItem] = {}
        self._node_edges: dict[str, set] = {}
        self._wire: WireItem | None = None
        self._wire_src: str | None = None
        self._wire_target: NodeItem | None = None
        self._move: dict | None = None
        self._dirty_groups: set[str] = set()
        self._group_timer = QTimer(self)
        self._group_timer.setSingleShot(True)
        self._group_timer.timeout.connect(self.flush)
        self._disconnect: list = []
        document.project_replaced.connect(self._on_document_project_replaced)
        document.checked.connect(self._on_document_checked)
        self._on_document_project_replaced()

    # ------------------------------------------------------------------ building

    @property
    def graph(self):
        return self.document.graph

    def _on_document_project_replaced(self) -> None:
        for disconnect in self._disconnect:
            disconnect()
        self.rebuild()
        self._disconnect = self._follow_graph()

    def rebuild(self) -> None:
        """Recreate every item from the model (opening a project)."""
        self.clearSelection()
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        self.groups.clear()
        self._node_edges.clear()
        self._wire = None
        report = self.document.report
        for group_id, label in self.graph.groups.items():
            self._add_group(group_id, label)
        for node in self.graph.nodes.values():
            self._add_node(node, report.nodes.get(node.id) if report else None)
        for edge in self.graph.edges:
            self._add_edge(edge)
        self._dirty_groups.update(self.groups)
        self.flush()
        self.setSceneRect(self.itemsBoundingRect().adjusted(-2000, -2000, 2000, 2000))

    def _add_node(self, node, report=None) -> NodeItem:
        item = NodeItem(node, report)
        self.nodes[node.id] = item
        self._node_edges[node.id] = set()
        self.addItem(item)
        if node.group:
            self._dirty_groups.add(node.group)
        return item

    def _add_edge(self, edge) -> None:
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        item = EdgeItem(edge, src, dst)
        self.edges[edge] = item
        self._node_edges[edge.src].add(edge)
        self._node_edges[edge.dst].add(edge)
        src.connected_outputs += 1
        dst.connected_inputs += 1
        src.update()
        dst.update()
        self.addItem(item)

    def _remove_edge(self, edge) -> None:
        item = self.edges.pop(edge)
        self._node_edges[edge.src].discard(edge)
        self._node_edges[edge.dst].discard(edge)
        item.src_item.connected_outputs -= 1
        item.dst_item.connected_inputs -= 1
        item.src_item.update()
        item.dst_item.update()
        self.removeItem(item)

    def _add_group(self, group_id: str, label: str) -> None:
        item = GroupItem(group_id, label)
        self.groups[group_id] = item
        self.addItem(item)

    # ------------------------------------------------------------------ model events

    def _follow_graph(self) -> list:
        e = self.graph.events
        return [
            e.node_added.connect(self._on_graph_node_added),
            e.node_removed.connect(self._on_graph_node_removed),
            e.node_moved.connect(self._on_graph_node_moved),
            e.param_changed.connect(self._on_graph_param_changed),
            e.node_renamed.connect(self._on_graph_node_renamed),
            e.node_group_changed.connect(self._on_graph_node_group_changed),
            e.edge_added.connect(self._on_graph_edge_added),
            e.edge_removed.connect(self._on_graph_edge_removed),
            e.group_added.connect(self._on_graph_group_added),
            e.group_removed.connect(self._on_graph_group_removed),
            e.group_renamed.connect(self._on_graph_group_renamed),
        ]

    def _on_graph_node_added(self, node_id: str) -> None:
        self._ensure_in_rect(self._add_node(self.graph.nodes[node_id]))
        self._schedule_groups()

    def _on_graph_node_removed(self, node_id: str) -> None:
        item = self.nodes.pop(node_id)
        self._node_edges.pop(node_id, None)
        self.removeItem(item)
        self._dirty_groups.update(self.groups)
        self._schedule_groups()

    def _on_graph_node_moved(self, node_id: str, pos: tuple) -> None:
        item = self.nodes[node_id]
        item.setPos(QPointF(*pos))
        self._ensure_in_rect(item)
        for edge in self._node_edges[node_id]:
            self.edges[edge].update_path()
        self._touch_group(self.graph.nodes[node_id].group)

    def _on_graph_param_changed(self, node_id: str, name: str, value, old) -> None:
        self.nodes[node_id].sync(self.graph.nodes[node_id])

    def _on_graph_node_renamed(self, node_id: str, name: str) -> None:
        self.nodes[node_id].sync(self.graph.nodes[node_id])

    def _on_graph_node_group_changed(self, node_id: str, group_id: str | None) -> None:
        self._dirty_groups.update(self.groups)
        self._schedule_groups()

    def _on_graph_edge_added(self, edge) -> None:
        self._add_edge(edge)

    def _on_graph_edge_removed(self, edge) -> None:
        self._remove_edge(edge)

    def _on_graph_group_added(self, group_id: str, label: str) -> None:
        self._add_group(group_id, label)

    def _on_graph_group_removed(self, group_id: str) -> None:
        self.removeItem(self.groups.pop(group_id))
        self._dirty_groups.discard(group_id)

    def _on_graph_group_renamed(self, group_id: str, label: str) -> None:
        self.groups[group_id].set_label(label)

    def _ensure_in_rect(self, item) -> None:
        """Keep a margin around the nodes so the view can always pan a little past them."""
        rect = item.sceneBoundingRect()
        if not self.sceneRect().contains(rect):
            self.setSceneRect(self.sceneRect().united(rect.adjusted(-2000, -2000, 2000, 2000)))

    def _touch_group(self, group_id: str | None) -> None:
        if group_id:
            self._dirty_groups.add(group_id)
            self._schedule_groups()

    def _schedule_groups(self) -> None:
        if not self._group_timer.isActive():
            self._group_timer.start(0)

    def flush(self) -> None:
        """Refit the group blocks whose members changed (batched: a layout moves many nodes)."""
        if not self._dirty_groups:
            return
        members: dict[str, list[QRectF]] = {g: [] for g in self._dirty_groups if g in self.groups}
        for node in self.graph.nodes.values():
            if node.group in members:
                members[node.group].append(self.nodes[node.id].sceneBoundingRect())
        for group_id, rects in members.items():
            self.groups[group_id].fit(rects)
        self._dirty_groups.clear()

    def set_badges(self, badges: dict) -> None:
        """Overlay badges by node id (a training run's path); nodes not named lose theirs."""
        for node_id, item in self.nodes.items():
            item.set_badge(badges.get(node_id))

    def clear_badges(self) -> None:
        self.set_badges({})

    def _on_document_checked(self, report) -> None:
        for node_id, item in self.nodes.items():
            item.set_report(report.nodes.get(node_id))

    # ------------------------------------------------------------------ queries

    def selected_node_ids(self) -> list[str]:
        """Selected nodes in graph order, with the members of selected groups."""
        ids = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        groups = {i.group_id for i in self.selectedItems() if isinstance(i, GroupItem)}
        if groups:
            ids |= {n.id for n in self.graph.nodes.values() if n.group in groups}
        return [node_id for node_id in self.graph.nodes if node_id in ids]

    def selected_edges(self) -> list:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def selected_groups(self) -> list[str]:
        groups = {i.group_id for i in self.selectedItems() if isinstance(i, GroupItem)}
        groups |= {self.graph.nodes[i].group for i in self.selected_node_ids() if self.graph.nodes[i].group}
        return [g for g in self.graph.groups if g in groups]

    def select_nodes(self, node_ids) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def node_at(self, scene_pos: QPointF, exclude: str | None = None) -> NodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, NodeItem) and item.node_id != exclude:
                return item
        # ports stick out of the card: look a little around the point too
        for item in self.items(QRectF(scene_pos.x() - 8, scene_pos.y() - 8, 16, 16)):
            if isinstance(item, NodeItem) and item.node_id != exclude and item.port_at(scene_pos):
                return item
        return None

    def nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    @staticmethod
    def node_pos_for_centre(centre: QPointF) -> tuple[float, float]:
        """The model position (top-left) that centres a new card on ``centre``, on the grid."""
        return (round((centre.x() - WIDTH / 2) / GRID) * GRID, round((centre.y() - HEIGHT / 2) / GRID) * GRID)

    # ------------------------------------------------------------------ gestures

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.node_at(event.scenePos())
            if item is not None and item.port_at(event.scenePos()) == "out":
                self._start_wire(item)
                event.accept()
                return
        super().mousePressEvent(event)
        grabber = self.mouseGrabberItem()
        if event.button() == Qt.MouseButton.LeftButton and isinstance(grabber, (NodeItem, GroupItem)):
            if isinstance(grabber, GroupItem):  # dragging a block drags its members
                for node in self.graph.nodes.values():
                    if node.group == grabber.group_id:
                        self.nodes[node.id].setSelected(True)
            ids = self.selected_node_ids()
            self._move = {
                "start": event.scenePos(),
                "pos": {node_id: self.graph.nodes[node_id].pos for node_id in ids},
                "key": next(_drag_ids),
                "moved": False,
            }

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None:
            self._update_wire(event.scenePos())
            event.accept()
            return
        if self._move is not None and event.buttons() & Qt.MouseButton.LeftButton:
            delta = event.scenePos() - self._move["start"]
            if not self._move["moved"] and delta.manhattanLength() < 3:
                return
            self._move["moved"] = True
            dx, dy = round(delta.x() / GRID) * GRID, round(delta.y() / GRID) * GRID
            positions = {i: (x + dx, y + dy) for i, (x, y) in self._move["pos"].items()}
            if positions:
                self.document.push(MoveNodes(positions), merge_key=self._move["key"])
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        self._move = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        for item in self.items(event.scenePos()):
            if isinstance(item, GroupItem) and item.label_rect().contains(event.scenePos()):
                self.group_label_activated.emit(item.group_id)
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    # ------------------------------------------------------------------ wiring

    def _start_wire(self, item: NodeItem) -> None:
        self._wire_src = item.node_id
        self._wire = WireItem(item.port_scene_pos("out"))
        self.addItem(self._wire)
        self.status.emit(f"Drag to an input port to connect {self.graph.nodes[item.node_id].name}")

    def _update_wire(self, pos: QPointF) -> None:
        target = self.node_at(pos, exclude=None)
        if target is not None and target.node_id == self._wire_src:
            target = None if not target.port_at(pos) == "in" else target
        if target is not self._wire_target and self._wire_target is not None:
            self._wire_target.set_target_state(None)
        self._wire_target = target
        if target is None:
            self._wire.set_state(None)
            self._wire.set_end(pos)
            return
        reason = self.graph.check_connect(self._wire_src, target.node_id)
        state = "refused" if reason else "ok"
        target.set_target_state(state)
        self._wire.set_state(state)
        self._wire.set_end(target.port_scene_pos("in") if target.has_input() else pos)
        src, dst = self.graph.nodes[self._wire_src].name, self.graph.nodes[target.node_id].name
        self.status.emit(f"Cannot connect: {reason}" if reason else f"Release to connect {src} → {dst}")

    def _finish_wire(self, pos: QPointF) -> None:
        self._update_wire(pos)
        target, src = self._wire_target, self._wire_src
        if self._wire_target is not None:
            self._wire_target.set_target_state(None)
        self.removeItem(self._wire)
        self._wire, self._wire_src, self._wire_target = None, None, None
        if target is None:
            self.status.emit("")
            return
        reason = self.graph.check_connect(src, target.node_id)
        if reason:
            self.status.emit(f"Cannot connect: {reason}")
            return
        if self.document.push(Connect(src, target.node_id)) is None:
            self.status.emit(f"Connected {self.graph.nodes[src].name} → {self.graph.nodes[target.node_id].name}")

    def cancel_gesture(self) -> None:
        if self._wire is not None:
            if self._wire_target is not None:
                self._wire_target.set_target_state(None)
            self.removeItem(self._wire)
            self._wire, self._wire_src, self._wire_target = None, None, None
        self._move = None
