"""Canvas edits behind the Edit menu: each builds one model command (or a macro of them) from
the current selection and pushes it, so every menu action is a single undo step."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, QPointF
from PySide6.QtGui import QGuiApplication

from modstudio.graph.commands import (AddNode, AutoLayout, Disconnect, GroupNodes, Macro, PasteSubgraph,
                                      RemoveNodes, Ungroup)
from modstudio.graph.model import GraphError

SUBGRAPH_MIME = "application/x-modstudio-subgraph"
CLIPBOARD_TAG = "modstudio-subgraph"


class CanvasEditor:
    """Selection-based edits for one scene + view pair."""

    def __init__(self, document, scene, view) -> None:
        self.document, self.scene, self.view = document, scene, view
        self._paste_count = 0
        self._last_clip: str | None = None

    @property
    def graph(self):
        return self.document.graph

    def add_kind(self, kind: str, centre: QPointF | None = None) -> str | None:
        """Add a node of ``kind`` centred on ``centre`` (the view's centre by default); returns its id."""
        centre = centre if centre is not None else self.view.centre_scene_pos()
        command = AddNode(kind, pos=self.scene.node_pos_for_centre(centre))
        if self.document.push(command) is not None:
            return None
        self.scene.select_nodes([command.node_id])
        return command.node_id

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

    def paste(self) -> bool:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return False
        raw = bytes(mime.data(SUBGRAPH_MIME)).decode("utf-8") if mime.hasFormat(SUBGRAPH_MIME) else mime.text()
        fragment = _parse_fragment(raw)
        if fragment is None:
            self.document.message.emit("The clipboard holds no ModStudio modules to paste")
            return False
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
        offset = (step * self._paste_count, step * self._paste_count)
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
