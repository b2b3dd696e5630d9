"""Canvas edits behind the Edit menu and the canvas's context menus: each builds one model
command (or a macro of them) from the current selection and pushes it, so every action is a
single undo step.

The context menus are built by :meth:`CanvasEditor.node_menu` and :meth:`CanvasEditor.canvas_menu`,
which return the ``QMenu`` (the view shows it; tests trigger its actions). Other parts of the
studio add their own entries to a node's menu through ``node_menu_extras`` (the training
controller adds Lesion…)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Callable

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from modstudio.graph import catalog
from modstudio.graph.commands import (AddNode, AutoLayout, Connect, Disconnect, GroupNodes, Macro, MoveNodes,
                                      PasteSubgraph, RemoveNodes, RenameNode, Ungroup)
from modstudio.graph.layout import LAYER_SPACING
from modstudio.graph.model import GraphError
from modstudio.gui.canvas.add_popup import AddPopup
from modstudio.gui.canvas.node_item import HEADER, WIDTH
from modstudio.project.check import check_project

SUBGRAPH_MIME = "application/x-modstudio-subgraph"
CLIPBOARD_TAG = "modstudio-subgraph"


class CanvasEditor:
    """Selection-based edits for one scene + view pair."""

    def __init__(self, document, scene, view) -> None:
        self.document, self.scene, self.view = document, scene, view
        self._paste_count = 0
        self._last_clip: str | None = None
        # more entries for a node's context menu: fn(menu, node_id), run after the canvas's own
        self.node_menu_extras: list[Callable[[QMenu, str], None]] = []
        self.popup: AddPopup | None = None
        self.rename_edit: QLineEdit | None = None
        view.menu_provider = self.context_menu
        scene.background_activated.connect(self._on_scene_background_activated)

    @property
    def graph(self):
        return self.document.graph

    # ------------------------------------------------------------------ adding

    def cursor_scene_pos(self) -> QPointF | None:
        """Where the mouse is on the canvas, or None when it is elsewhere (over a dock)."""
        viewport = self.view.viewport()
        local = viewport.mapFromGlobal(QCursor.pos())
        return self.view.mapToScene(local) if viewport.rect().contains(local) else None

    def add_kind(self, kind: str, centre: QPointF | None = None) -> str | None:
        """Add a node of ``kind``; returns its id. Centred on ``centre`` when given (a drop, the add
        popup), else beside the selection, else at the cursor or the view's centre; never on top of
        another card (the nearest free spot)."""
        if centre is not None:
            pos = self.scene.free_pos(self.scene.node_pos_for_centre(centre))
        elif self.scene.selected_node_ids():
            pos = self.scene.placement(None)
        else:
            pos = self.scene.placement(self.cursor_scene_pos() or self.view.centre_scene_pos())
        command = AddNode(kind, pos=pos)
        if self.document.push(command) is not None:
            return None
        self.scene.select_nodes([command.node_id])
        self._ensure_visible(command.node_id)
        return command.node_id

    def _ensure_visible(self, node_id: str) -> None:
        item = self.scene.nodes.get(node_id)
        if item is not None:
            self.view.ensureVisible(item.sceneBoundingRect(), 40, 40)

    def drop_kind(self, kind: str, scene_pos: QPointF) -> str | None:
        """A palette drop: onto a wire, the new module goes between its ends when the shapes still fit
        (one undo step); anywhere else, or when they would not, it is just added there."""
        edge_item = self.scene.edge_at(scene_pos)
        if edge_item is None:
            return self.add_kind(kind, scene_pos)
        pos, shifted = self.insert_room(edge_item.edge)
        command, refusal = self.insert_plan(kind, edge_item.edge, pos, shifted)
        if command is None:
            node_id = self.add_kind(kind, scene_pos)
            if node_id is not None:
                self.document.message.emit(f"Added {self.graph.nodes[node_id].name}, not inserted: {refusal}")
            return node_id
        if self.document.push(command) is not None:
            return None
        node_id = next(c.node_id for c in command.commands if isinstance(c, AddNode))
        self.scene.select_nodes([node_id])
        src, dst = (self.graph.nodes[e].name for e in (edge_item.edge.src, edge_item.edge.dst))
        self.document.message.emit(f"Inserted {self.graph.nodes[node_id].name} between {src} and {dst}")
        return node_id

    def insert_room(self, edge) -> tuple[tuple[float, float], dict]:
        """Where a card inserted into ``edge`` goes, and the moves that make room for it: right of
        the wire's source, with the wire's end and everything after it shifted right when the gap is
        too narrow (as auto-layout spaces cards); where that spot is taken, the nearest free one."""
        graph = self.graph
        sx, sy = graph.nodes[edge.src].pos
        dx, _ = graph.nodes[edge.dst].pos
        pos = (sx + LAYER_SPACING, sy)
        shift = pos[0] + LAYER_SPACING - dx
        shifted: dict = {}
        if shift > 0:
            after, todo = {edge.dst}, [edge.dst]
            while todo:  # the wire's end and what it feeds
                node = todo.pop()
                for e in graph.edges:
                    if e.src == node and e.dst not in after and e.dst != edge.src:
                        after.add(e.dst)
                        todo.append(e.dst)
            shifted = {i: (graph.nodes[i].pos[0] + shift, graph.nodes[i].pos[1]) for i in after}
        if not self.scene.is_free(pos, ignore=shifted):
            pos, shifted = self.scene.free_pos(pos), {}
        return pos, shifted

    def insert_plan(self, kind: str, edge, pos, shifted: dict | None = None) -> tuple[Macro | None, str]:
        """The macro that puts a new ``kind`` node into ``edge`` (make room, add, unwire, wire both
        sides), or None and why not: a kind without an input or output, a wire the model refuses,
        or a check with problems it did not have (tried on a copy of the graph, with the tasks)."""
        spec = catalog.get(kind)
        if not spec.inputs or not spec.outputs:
            return None, f"a {spec.title} has no {'input' if not spec.inputs else 'output'} to wire"

        def commands() -> Macro:
            add = AddNode(kind, pos=pos)
            room = [MoveNodes(shifted)] if shifted else []
            return Macro([*room, add, Disconnect(edge), Connect(edge.src, add.node_id, edge.src_port),
                          Connect(add.node_id, edge.dst, dst_port=edge.dst_port)], f"insert {kind}")

        trial = self.graph.copy()
        try:
            commands().do(trial)
        except (GraphError, KeyError, ValueError) as exc:
            return None, str(exc)
        report = self.document.report or check_project(self.document.project)
        before = {(e.kind, e.message) for e in report.errors}
        after = check_project(SimpleNamespace(graph=trial, tasks=self.document.project.tasks))
        new = [e for e in after.errors if (e.kind, e.message) not in before]
        if new:
            return None, new[0].message
        return commands(), ""

    def open_add_popup(self, scene_pos: QPointF, global_pos: QPoint | None = None) -> AddPopup:
        """The searchable palette at the cursor; the chosen kind is added centred on ``scene_pos``."""
        if self.popup is not None:
            self.popup.close()
            self.popup.deleteLater()
        self.popup = AddPopup(self.view)
        self.popup.kind_chosen.connect(lambda kind, at=QPointF(scene_pos): self._on_popup_kind_chosen(kind, at))
        if global_pos is None:
            global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.popup.popup(global_pos)
        return self.popup

    def _on_popup_kind_chosen(self, kind: str, scene_pos: QPointF) -> None:
        self.add_kind(kind, scene_pos)
        self.view.setFocus()

    def _on_scene_background_activated(self, scene_pos: QPointF) -> None:
        self.open_add_popup(scene_pos)

    # ------------------------------------------------------------------ context menus

    def context_menu(self, scene_pos: QPointF, parent: QWidget | None = None) -> QMenu:
        """The menu for a right-click at ``scene_pos``: a node's, or the canvas's."""
        item = self.scene.node_at(scene_pos)
        return self.node_menu(item.node_id, parent) if item is not None else self.canvas_menu(scene_pos, parent)

    def node_menu(self, node_id: str, parent: QWidget | None = None) -> QMenu:
        """Rename, Duplicate, Delete, Disconnect (the selection, the clicked node included), then the
        extras. A right-click on a node outside the selection selects it alone, as a click would."""
        if node_id not in self.scene.selected_node_ids():
            self.scene.select_nodes([node_id])
        ids = self.scene.selected_node_ids()
        menu = QMenu(parent or self.view)
        menu.setObjectName("node-menu")
        name = self.graph.nodes[node_id].name
        rename = menu.addAction("Rename…", lambda: self.start_rename(node_id))
        rename.setObjectName("rename")
        menu.addAction("Duplicate", self.duplicate).setObjectName("duplicate")
        menu.addAction("Delete", self.delete).setObjectName("delete")
        disconnect = menu.addAction("Disconnect", lambda: self.disconnect(ids))
        disconnect.setObjectName("disconnect")
        disconnect.setEnabled(any(e.src in ids or e.dst in ids for e in self.graph.edges))
        if len(ids) > 1:
            rename.setEnabled(False)
            rename.setToolTip(f"Rename one module at a time ({len(ids)} are selected)")
        else:
            rename.setText(f"Rename “{name}”…")
        if self.node_menu_extras:
            menu.addSeparator()
            for extra in self.node_menu_extras:
                extra(menu, node_id)
        menu.setToolTipsVisible(True)
        return menu

    def canvas_menu(self, scene_pos: QPointF, parent: QWidget | None = None) -> QMenu:
        """Add… (the searchable palette here), Paste (here), Auto-layout."""
        menu = QMenu(parent or self.view)
        menu.setObjectName("canvas-menu")
        at = QPointF(scene_pos)
        menu.addAction("Add…", lambda: self.open_add_popup(at)).setObjectName("add")
        paste = menu.addAction("Paste", lambda: self.paste(at=at))
        paste.setObjectName("paste")
        paste.setEnabled(self._clipboard_fragment() is not None)
        layout = menu.addAction("Auto-layout", self.auto_layout)
        layout.setObjectName("auto-layout")
        layout.setEnabled(bool(self.graph.nodes))
        return menu

    # ------------------------------------------------------------------ node edits

    def disconnect(self, node_ids=None) -> bool:
        """Remove every wire into or out of the nodes (the selection by default), one undo step."""
        ids = set(self.scene.selected_node_ids() if node_ids is None else node_ids)
        edges = [e for e in self.graph.edges if e.src in ids or e.dst in ids]
        if not edges:
            return False
        command = Disconnect(edges[0]) if len(edges) == 1 else Macro([Disconnect(e) for e in edges], "disconnect")
        return self.document.push(command) is None

    def start_rename(self, node_id: str) -> QLineEdit | None:
        """Edit the name in place, over the card's header: Enter or leaving it renames, Escape keeps it."""
        item = self.scene.nodes.get(node_id)
        if item is None:
            return None
        self.finish_rename(commit=False)
        self.view.ensureVisible(item.sceneBoundingRect(), 20, 20)
        header = self.view.mapFromScene(item.mapRectToScene(QRectF(0, 0, WIDTH, HEADER))).boundingRect()
        edit = _RenameEdit(self, node_id, self.view.viewport())
        edit.setObjectName("rename-node")
        edit.setText(self.graph.nodes[node_id].name)
        edit.setGeometry(header.adjusted(2, 1, -2, -1) if header.height() >= 20 else
                         header.adjusted(0, 0, max(0, 160 - header.width()), 22 - header.height()))
        edit.selectAll()
        edit.show()
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.rename_edit = edit
        return edit

    def finish_rename(self, commit: bool = True) -> None:
        edit, self.rename_edit = self.rename_edit, None
        if edit is None:
            return
        name, node_id = edit.text().strip(), edit.node_id
        edit.hide()
        edit.deleteLater()
        self.view.setFocus()
        if commit and node_id in self.graph.nodes and name and name != self.graph.nodes[node_id].name:
            self.document.push(RenameNode(node_id, name))

    def delete(self, text: str = "delete") -> bool:
        node_ids = self.scene.selected_node_ids()
        edges = [e for e in self.scene.selected_edges() if e.src not in node_ids and e.dst not in node_ids]
        commands = [Disconnect(e) for e in edges]
        if node_ids:
            commands.append(RemoveNodes(node_ids))
        if not commands:
            return False
        command = commands[0] if len(commands) == 1 else Macro(commands, text)
        command.text = text if node_ids else command.text
        return self.document.push(command) is None

    # ------------------------------------------------------------------ clipboard

    def copy(self) -> bool:
        node_ids = self.scene.selected_node_ids()
        if not node_ids:
            return False
        fragment = {"format": CLIPBOARD_TAG, "graph": self.graph.subgraph_dict(node_ids)}
        text = json.dumps(fragment, indent=1)
        mime = QMimeData()
        mime.setData(SUBGRAPH_MIME, text.encode("utf-8"))
        mime.setText(text)  # plain JSON too, so another window (or a text editor) can take it
        QGuiApplication.clipboard().setMimeData(mime)
        self._paste_count = 0
        return True

    def cut(self) -> bool:
        return self.copy() and self.delete("cut")

    def _clipboard_fragment(self) -> tuple[dict, str] | None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return None
        raw = bytes(mime.data(SUBGRAPH_MIME)).decode("utf-8") if mime.hasFormat(SUBGRAPH_MIME) else mime.text()
        fragment = _parse_fragment(raw)
        return None if fragment is None else (fragment, raw)

    def paste(self, at: QPointF | None = None) -> bool:
        """Paste the clipboard's modules: shifted a step from the copies (again a step on each paste),
        or with their top-left card at ``at`` (the canvas menu's point)."""
        found = self._clipboard_fragment()
        if found is None:
            self.document.message.emit("The clipboard holds no ModStudio modules to paste")
            return False
        fragment, raw = found
        if at is not None:
            try:
                left = min(float(n["pos"][0]) for n in fragment["nodes"])
                top = min(float(n["pos"][1]) for n in fragment["nodes"])
            except (KeyError, TypeError, ValueError, IndexError):
                pass  # malformed: PasteSubgraph says what is wrong with it
            else:
                x, y = self.scene.node_pos_for_centre(at)
                return self._push_paste(fragment, (x - left, y - top))
        return self._paste_fragment(fragment, raw)

    def duplicate(self) -> bool:
        node_ids = self.scene.selected_node_ids()
        if not node_ids:
            return False
        return self._paste_fragment(self.graph.subgraph_dict(node_ids), None, step=40.0)

    def _paste_fragment(self, fragment: dict, raw: str | None, step: float = 40.0) -> bool:
        if raw is not None and raw == self._last_clip:
            self._paste_count += 1
        else:
            self._paste_count = 1
        self._last_clip = raw
        return self._push_paste(fragment, (step * self._paste_count, step * self._paste_count))

    def _push_paste(self, fragment: dict, offset: tuple[float, float]) -> bool:
        try:
            command = PasteSubgraph(fragment, offset=offset)
        except (GraphError, KeyError, TypeError, ValueError) as exc:
            self.document.message.emit(f"Cannot paste: {exc}")
            return False
        if self.document.push(command) is not None:
            return False
        self.scene.select_nodes(command.node_ids)
        return True

    # ------------------------------------------------------------------ groups and layout

    def group(self, label: str | None = None) -> str | None:
        node_ids = self.scene.selected_node_ids()
        if not node_ids:
            self.document.message.emit("Select the modules to group first")
            return None
        label = label or f"Group {len(self.graph.groups) + 1}"
        command = GroupNodes(node_ids, label)
        if self.document.push(command) is not None:
            return None
        return command.group_id

    def ungroup(self) -> bool:
        groups = self.scene.selected_groups()
        if not groups:
            self.document.message.emit("Select a group (or one of its modules) to ungroup")
            return False
        commands = [Ungroup(g) for g in groups]
        command = commands[0] if len(commands) == 1 else Macro(commands, "ungroup")
        return self.document.push(command) is None

    def auto_layout(self) -> bool:
        if not self.graph.nodes:
            return False
        ok = self.document.push(AutoLayout(self.graph)) is None
        self.scene.flush()
        self.view.fit()
        return ok


class _RenameEdit(QLineEdit):
    """The in-place name editor; Escape cancels, Enter and focus loss commit (once)."""

    def __init__(self, editor: CanvasEditor, node_id: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.editor, self.node_id = editor, node_id
        self.editingFinished.connect(self._on_editing_finished)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self.editor.rename_edit is self:
                self.editor.finish_rename(commit=False)
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_editing_finished(self) -> None:
        if self.editor.rename_edit is self:
            self.editor.finish_rename(commit=True)


def _parse_fragment(raw: str) -> dict | None:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if isinstance(data, dict) and data.get("format") == CLIPBOARD_TAG and isinstance(data.get("graph"), dict):
        return data["graph"]
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and set(data) <= {"nodes", "edges", "groups"}:
        return data  # a bare subgraph_dict pasted from elsewhere
    return None
