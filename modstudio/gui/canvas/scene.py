"""The scene mirrors the graph: items are created, moved and removed only from model events
(one slot per event of ``graph.events``).

User gestures (drag a node, drag a wire) become commands pushed on the document's undo stack;
the model then tells the scene what changed, so undo, redo, paste and file loading all redraw
through the same path. The one transient exception is a drag's preview: while the mouse moves,
the dragged cards and their wires follow it (redrawn at most once per frame), and the release
pushes one ``MoveNodes``, whose events then find the cards already in place.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent

from modstudio.graph.commands import Connect, Disconnect, Macro, MoveNodes
from modstudio.graph.layout import LAYER_SPACING
from modstudio.gui.canvas.edge_item import EdgeItem, WireItem
from modstudio.gui.canvas.group_item import GroupItem
from modstudio.gui.canvas.node_item import HEIGHT, WIDTH, NodeItem

LAYOUT_GAP = LAYER_SPACING - WIDTH  # a card placed beside another sits where auto-layout would put it

GRID = 10.0
GAP = 30.0  # free room kept around a placed card


class GraphScene(QGraphicsScene):
    status = Signal(str)  # hints and refusals for the status bar
    group_label_activated = Signal(str)  # group id whose label was double-clicked
    background_activated = Signal(QPointF)  # double-click on empty canvas (scene position)

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
        self._wire_replaces = None  # the edge a wire to the hovered target replaces
        self._wire_reason: str | None = None
        self._move: dict | None = None
        self._drag_timer = QTimer(self)  # one preview redraw per frame, however many mouse moves
        self._drag_timer.setSingleShot(True)
        self._drag_timer.timeout.connect(self._apply_drag)
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
        if report is not None:
            self._on_document_checked(report)  # every node's errors, for the tooltips
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
        target = QPointF(*pos)
        if item.pos() == target:  # a drag's preview put it there and redrew its wires already
            self._ensure_in_rect(item)
            return
        item.setPos(target)
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
        errors: dict[str, list] = {}
        for error in report.errors:  # a node can have several (its own, and the tasks' against it)
            if error.node_id is not None:
                errors.setdefault(error.node_id, []).append(error)
        for node_id, item in self.nodes.items():
            item.set_report(report.nodes.get(node_id), errors.get(node_id, ()))

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

    def select_nodes(self, node_ids, add: bool = False) -> None:
        """Select these nodes (only them, unless ``add``) with one ``selectionChanged``: Qt emits
        one per ``setSelected``, and a select-all ran every listener (inspector, menus) per node."""
        before = set(self.selectedItems())
        self.blockSignals(True)
        try:
            if not add:
                self.clearSelection()
            for node_id in node_ids:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
        finally:
            self.blockSignals(False)
        if set(self.selectedItems()) != before:
            self.selectionChanged.emit()

    def select_all(self) -> None:
        self.select_nodes(self.nodes)

    def node_at(self, scene_pos: QPointF, exclude: str | None = None) -> NodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, NodeItem) and item.node_id != exclude:
                return item
        # ports stick out of the card: look a little around the point too
        for item in self.items(QRectF(scene_pos.x() - 8, scene_pos.y() - 8, 16, 16)):
            if isinstance(item, NodeItem) and item.node_id != exclude and item.port_at(scene_pos):
                return item
        return None

    def edge_at(self, scene_pos: QPointF) -> EdgeItem | None:
        """The wire under ``scene_pos`` (its stroke is a few pixels wide), unless a card covers it."""
        for item in self.items(scene_pos):
            if isinstance(item, NodeItem):
                return None
            if isinstance(item, EdgeItem):
                return item
        return None

    def is_free(self, pos: tuple[float, float], ignore=()) -> bool:
        """Whether a card at model position ``pos`` keeps ``GAP`` clear of every other card."""
        rect = QRectF(pos[0] - GAP, pos[1] - GAP, WIDTH + 2 * GAP, HEIGHT + 2 * GAP)
        return not any(isinstance(i, NodeItem) and i.node_id not in ignore and
                       i.mapRectToScene(0, 0, WIDTH, HEIGHT).intersects(rect) for i in self.items(rect))

    def free_pos(self, pos: tuple[float, float], down_first: bool = False) -> tuple[float, float]:
        """The free grid position nearest ``pos`` for a new card: rings of growing distance around
        it (``down_first``: straight down first, as for a card placed beside a column)."""
        if self.is_free(pos):
            return pos
        step_x, step_y = WIDTH + GAP, HEIGHT + GAP
        if down_first:
            for k in range(1, 30):
                candidate = (pos[0], pos[1] + k * step_y)
                if self.is_free(candidate):
                    return candidate
        for ring in range(1, 40):
            span = range(-ring, ring + 1)
            cells = [(i, j) for i in span for j in span if max(abs(i), abs(j)) == ring]
            cells.sort(key=lambda c: (c[0] ** 2 + c[1] ** 2, -c[0], c[1]))  # nearest first, right before left
            for i, j in cells:
                candidate = (pos[0] + i * step_x, pos[1] + j * step_y)
                if self.is_free(candidate):
                    return candidate
        return pos  # pragma: no cover - 40 rings of cards all taken

    def placement(self, centre: QPointF | None) -> tuple[float, float]:
        """Where a new card goes: beside (right of) the selection, else centred on ``centre``; never
        on another card."""
        selected = [self.nodes[i] for i in self.selected_node_ids()]
        if selected:
            rect = QRectF()
            for item in selected:
                rect = rect.united(item.mapRectToScene(0, 0, WIDTH, HEIGHT))
            top = rect.center().y() - HEIGHT / 2 if len(selected) > 1 else rect.top()
            pos = (round((rect.right() + LAYOUT_GAP) / GRID) * GRID, round(top / GRID) * GRID)
            return self.free_pos(pos, down_first=True)
        return self.free_pos(self.node_pos_for_centre(centre if centre is not None else QPointF()))

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
                self.select_nodes([n.id for n in self.graph.nodes.values() if n.group == grabber.group_id], add=True)
            ids = self.selected_node_ids()
            moving = set(ids)
            self._move = {
                "start": event.scenePos(),
                "pos": {node_id: self.graph.nodes[node_id].pos for node_id in ids},
                "edges": [self.edges[e] for e in self.edges if e.src in moving or e.dst in moving],
                "groups": {self.graph.nodes[i].group for i in ids if self.graph.nodes[i].group},
                "delta": (0.0, 0.0),
                "shown": (0.0, 0.0),
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
            self._move["delta"] = (round(delta.x() / GRID) * GRID, round(delta.y() / GRID) * GRID)
            if self._move["delta"] != self._move["shown"] and not self._drag_timer.isActive():
                self._drag_timer.start(0)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def _apply_drag(self) -> None:
        """Show the drag's latest offset: cards first, then each of their wires once."""
        move = self._move
        if move is None or move["delta"] == move["shown"]:
            return
        dx, dy = move["shown"] = move["delta"]
        for node_id, (x, y) in move["pos"].items():
            self.nodes[node_id].setPos(x + dx, y + dy)
        for edge in move["edges"]:
            edge.update_path()
        for group in move["groups"]:
            self._touch_group(group)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._wire is not None and event.button() == Qt.MouseButton.LeftButton:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        move, self._move = self._move, None
        if move is not None and move["moved"]:
            self._drag_timer.stop()
            self._move = move
            self._apply_drag()  # the cards stand where the model is about to put them
            self._move = None
            dx, dy = move["delta"]
            if (dx, dy) != (0.0, 0.0) and move["pos"]:
                if self.document.push(MoveNodes({i: (x + dx, y + dy) for i, (x, y) in move["pos"].items()})):
                    self._restore(move)  # refused (a run is training): back to the model's positions
        super().mouseReleaseEvent(event)

    def _restore(self, move: dict) -> None:
        for node_id in move["pos"]:
            if node_id in self.nodes:
                self.nodes[node_id].setPos(QPointF(*self.graph.nodes[node_id].pos))
        for edge in move["edges"]:
            if edge.edge in self.edges:
                edge.update_path()
        for group in move["groups"]:
            self._touch_group(group)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        for item in self.items(event.scenePos()):
            if isinstance(item, GroupItem) and item.label_rect().contains(event.scenePos()):
                self.group_label_activated.emit(item.group_id)
                event.accept()
                return
        if event.button() == Qt.MouseButton.LeftButton and not any(
                isinstance(i, (NodeItem, EdgeItem)) for i in self.items(event.scenePos())):
            self.background_activated.emit(event.scenePos())
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
        if target is not self._wire_target:
            if self._wire_target is not None:
                self._wire_target.set_target_state(None)
            self._wire_target = target
            if target is not None:  # worked out once per target, not per mouse move
                self._wire_replaces, self._wire_reason = self.wire_plan(self._wire_src, target.node_id)
        if target is None:
            self._wire.set_state(None)
            self._wire.set_end(pos)
            return
        reason, old = self._wire_reason, self._wire_replaces
        state = "refused" if reason else "ok"
        target.set_target_state(state)
        self._wire.set_state(state)
        self._wire.set_end(target.port_scene_pos("in") if target.has_input() else pos)
        src, dst = self.graph.nodes[self._wire_src].name, self.graph.nodes[target.node_id].name
        if reason:
            self.status.emit(f"Cannot connect: {reason}")
        elif old is not None:
            self.status.emit(f"Release to connect {src} → {dst} instead of {self.graph.nodes[old.src].name} → {dst}")
        else:
            self.status.emit(f"Release to connect {src} → {dst}")

    def wire_plan(self, src: str, dst: str):
        """``(edge_replaced, refusal)`` for a wire dropped from ``src`` onto ``dst``: an input that
        takes one connection and has one already is rewired (the old edge is named), anything
        else is ``graph.check_connect``'s verdict."""
        graph = self.graph
        reason = graph.check_connect(src, dst)
        spec = graph.nodes[dst].spec if dst in graph.nodes else None
        if reason is None or spec is None or not spec.inputs or spec.inputs[0].multi:
            return None, reason
        port = spec.inputs[0].name
        old = next((e for e in graph.edges if e.dst == dst and e.dst_port == port), None)
        if old is None or old.src == src:
            return None, reason
        trial = graph.copy()
        trial.remove_edge(old)
        reason = trial.check_connect(src, dst)
        return (None, reason) if reason else (old, None)

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
        old, reason = self.wire_plan(src, target.node_id)
        if reason:
            self.status.emit(f"Cannot connect: {reason}")
            return
        connect = Connect(src, target.node_id)
        command = connect if old is None else Macro([Disconnect(old), connect], "replace connection")
        if self.document.push(command) is None:
            self.status.emit(f"Connected {self.graph.nodes[src].name} → {self.graph.nodes[target.node_id].name}")

    def cancel_gesture(self) -> None:
        if self._wire is not None:
            if self._wire_target is not None:
                self._wire_target.set_target_state(None)
            self.removeItem(self._wire)
            self._wire, self._wire_src, self._wire_target = None, None, None
        if self._move is not None:
            self._drag_timer.stop()
            self._restore(self._move)
        self._move = None
