"""Undoable edits over the graph model, free of Qt.

Each command changes only the model (views follow its events). ``do`` must be repeatable after
``undo`` (redo), so commands decide their ids at construction and capture what they remove when
they run. The GUI wraps these in ``QUndoCommand``; headless code uses :class:`CommandStack`.

A command acts on part of a document: graph commands on its graph, the project's commands
(``modstudio.project.commands``) on the project itself. ``target(root)`` picks that part, so one
stack (Qt's or :class:`CommandStack`) serves every kind of edit over one root.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

from modstudio.graph.model import ConnectError, Edge, Graph, GraphError, Node, Position, new_id


class Command:
    """One user-level edit. ``text`` names it in Undo/Redo menus."""

    text = "edit"

    def target(self, root: Any) -> Any:
        """What ``do``/``undo`` act on, given the stack's root: a project's graph, or a bare graph."""
        return getattr(root, "graph", root)

    def do(self, graph: Graph) -> None:
        raise NotImplementedError

    def undo(self, graph: Graph) -> None:
        raise NotImplementedError

    def merge(self, other: "Command") -> bool:
        """Absorb ``other`` (pushed right after this one) and return True, or return False."""
        return False


class AddNode(Command):
    def __init__(self, kind: str, pos: Position = (0.0, 0.0), name: str | None = None, **params: Any) -> None:
        self.kind, self.pos, self.name, self.params = kind, pos, name, params
        self.node_id = new_id()
        self.text = f"add {kind}"

    def do(self, graph: Graph) -> None:
        graph.add_node(self.kind, name=self.name, pos=self.pos, node_id=self.node_id, **self.params)
        self.name = graph.nodes[self.node_id].name  # redo restores the same name

    def undo(self, graph: Graph) -> None:
        graph.remove_node(self.node_id)


class RemoveNodes(Command):
    """Remove nodes with their edges; undo puts every node and edge back at its old position."""

    def __init__(self, node_ids: Iterable[str]) -> None:
        self.node_ids = list(dict.fromkeys(node_ids))
        self.text = "delete" if len(self.node_ids) != 1 else "delete node"
        self._removed: list[tuple[Node, int, list[tuple[int, Edge]]]] = []

    def do(self, graph: Graph) -> None:
        self._removed = [graph.remove_node(node_id) for node_id in self.node_ids]

    def undo(self, graph: Graph) -> None:
        for node, index, _ in reversed(self._removed):
            graph.insert_node(node, index)
        # Removal went node by node, so indices were taken in a shrinking list: replay the
        # removal order backwards to restore each edge at the index it had.
        for _, _, removed in reversed(self._removed):
            for index, edge in removed:
                graph.insert_edge(edge, index)


class Connect(Command):
    def __init__(self, src: str, dst: str, src_port: str = "out", dst_port: str | None = None) -> None:
        self.src, self.dst, self.src_port, self.dst_port = src, dst, src_port, dst_port
        self.edge: Edge | None = None
        self.text = "connect"

    def do(self, graph: Graph) -> None:
        self.edge = graph.connect(self.src, self.dst, self.src_port, self.dst_port)

    def undo(self, graph: Graph) -> None:
        assert self.edge is not None
        graph.remove_edge(self.edge)


class Disconnect(Command):
    def __init__(self, edge: Edge) -> None:
        self.edge, self.index, self.text = edge, -1, "disconnect"

    def do(self, graph: Graph) -> None:
        self.index = graph.remove_edge(self.edge)

    def undo(self, graph: Graph) -> None:
        graph.insert_edge(self.edge, self.index)


class MoveNodes(Command):
    """Move nodes to new positions; consecutive moves of the same nodes merge into one step."""

    def __init__(self, positions: dict[str, Position], text: str = "move") -> None:
        self.new = {k: (float(x), float(y)) for k, (x, y) in positions.items()}
        self.old: dict[str, Position] = {}
        self.text = text

    def do(self, graph: Graph) -> None:
        self.old = self.old or {node_id: graph.node(node_id).pos for node_id in self.new}
        for node_id, pos in self.new.items():
            graph.move_node(node_id, pos)

    def undo(self, graph: Graph) -> None:
        for node_id, pos in self.old.items():
            graph.move_node(node_id, pos)

    def merge(self, other: Command) -> bool:
        if type(other) is MoveNodes and other.new.keys() == self.new.keys() and other.text == self.text:
            self.new = other.new
            return True
        return False


class AutoLayout(MoveNodes):
    """Move every node to the layered layout's position."""

    def __init__(self, graph: Graph) -> None:
        super().__init__(graph.layout(), text="auto-layout")


class SetParam(Command):
    def __init__(self, node_id: str, name: str, value: Any) -> None:
        self.node_id, self.name, self.value = node_id, name, value
        self.old: Any = None
        self.text = f"set {name}"

    def do(self, graph: Graph) -> None:
        self.old = copy.deepcopy(graph.node(self.node_id).params.get(self.name))
        graph.set_param(self.node_id, self.name, self.value)

    def undo(self, graph: Graph) -> None:
        graph.set_param(self.node_id, self.name, self.old)


class RenameNode(Command):
    def __init__(self, node_id: str, name: str) -> None:
        self.node_id, self.name, self.old = node_id, name, ""
        self.text = "rename"

    def do(self, graph: Graph) -> None:
        self.old = graph.node(self.node_id).name
        graph.rename_node(self.node_id, self.name)

    def undo(self, graph: Graph) -> None:
        graph.rename_node(self.node_id, self.old)


class GroupNodes(Command):
    """Put nodes into a new labelled group (taking them out of any group they were in)."""

    def __init__(self, node_ids: Iterable[str], label: str = "Group") -> None:
        self.node_ids, self.label = list(dict.fromkeys(node_ids)), label
        self.group_id = new_id()
        self.old: dict[str, str | None] = {}
        self.text = "group"

    def do(self, graph: Graph) -> None:
        if not self.node_ids:
            raise GraphError("select nodes to group")
        self.old = {node_id: graph.node(node_id).group for node_id in self.node_ids}
        graph.add_group(self.label, self.group_id)
        for node_id in self.node_ids:
            graph.set_group(node_id, self.group_id)

    def undo(self, graph: Graph) -> None:
        for node_id, group in self.old.items():
            graph.set_group(node_id, group)
        graph.remove_group(self.group_id)


class Ungroup(Command):
    def __init__(self, group_id: str) -> None:
        self.group_id, self.label, self.members, self.index = group_id, "", [], 0
        self.text = "ungroup"

    def do(self, graph: Graph) -> None:
        if self.group_id not in graph.groups:
            raise GraphError("no such group")
        self.index = list(graph.groups).index(self.group_id)
        self.members = [n.id for n in graph.nodes.values() if n.group == self.group_id]
        for node_id in self.members:
            graph.set_group(node_id, None)
        self.label = graph.remove_group(self.group_id)

    def undo(self, graph: Graph) -> None:
        graph.add_group(self.label, self.group_id)
        # Restore group order too, so undo gives back an identical to_dict().
        items = list(graph.groups.items())
        items.insert(self.index, items.pop())
        graph.groups.clear()
        graph.groups.update(items)
        for node_id in self.members:
            graph.set_group(node_id, self.group_id)


class PasteSubgraph(Command):
    """Insert a copied fragment (from :meth:`Graph.subgraph_dict`) with fresh ids, shifted by ``offset``."""

    def __init__(self, fragment: dict[str, Any], offset: Position = (40.0, 40.0)) -> None:
        fragment = copy.deepcopy(fragment)
        node_map = {n["id"]: new_id() for n in fragment.get("nodes", [])}
        group_map = {g["id"]: new_id() for g in fragment.get("groups", [])}
        for n in fragment.get("nodes", []):
            n["id"] = node_map[n["id"]]
            n["pos"] = [n["pos"][0] + offset[0], n["pos"][1] + offset[1]]
            n["group"] = group_map.get(n.get("group"))
        fragment["edges"] = [
            {**e, "src": node_map[e["src"]], "dst": node_map[e["dst"]]}
            for e in fragment.get("edges", []) if e["src"] in node_map and e["dst"] in node_map
        ]
        for g in fragment.get("groups", []):
            g["id"] = group_map[g["id"]]
        self.fragment = Graph.from_dict(fragment)  # validates untrusted clipboard content
        self.node_ids = list(node_map.values())
        self.text = "paste"

    def do(self, graph: Graph) -> None:
        taken = {n.name for n in graph.nodes.values()}
        for group_id, label in self.fragment.groups.items():
            graph.add_group(label, group_id)
        for node in self.fragment.nodes.values():
            node = copy.deepcopy(node)
            if node.name in taken:
                node.name = _copy_name(node.name, taken)
            taken.add(node.name)
            graph.insert_node(node)
        for edge in self.fragment.edges:
            graph.insert_edge(edge)

    def undo(self, graph: Graph) -> None:
        for node_id in reversed(self.node_ids):
            graph.remove_node(node_id)
        for group_id in self.fragment.groups:
            graph.remove_group(group_id)


def _copy_name(name: str, taken: set[str]) -> str:
    i = 1
    candidate = f"{name} copy"
    while candidate in taken:
        i += 1
        candidate = f"{name} copy {i}"
    return candidate


class RenameGroup(Command):
    def __init__(self, group_id: str, label: str) -> None:
        if not label.strip():
            raise GraphError("a group's label cannot be empty")
        self.group_id, self.label, self.old, self.text = group_id, label.strip(), "", "rename group"

    def do(self, graph: Graph) -> None:
        self.old = graph.groups[self.group_id]
        graph.rename_group(self.group_id, self.label)

    def undo(self, graph: Graph) -> None:
        graph.rename_group(self.group_id, self.old)


class Macro(Command):
    """Several commands as one undo step (e.g. cut = copy + delete, drop-and-connect); each acts
    on its own target within the root, so a macro may mix graph and project edits."""

    def __init__(self, commands: list[Command], text: str) -> None:
        self.commands, self.text = commands, text

    def target(self, root: Any) -> Any:
        return root

    def do(self, root: Any) -> None:
        done: list[Command] = []
        try:
            for command in self.commands:
                command.do(command.target(root))
                done.append(command)
        except Exception:
            for command in reversed(done):
                command.undo(command.target(root))
            raise

    def undo(self, root: Any) -> None:
        for command in reversed(self.commands):
            command.undo(command.target(root))


class CommandStack:
    """Undo/redo with a clean mark (the state last saved), over one root: a graph, or a project
    (whose graph edits and project edits then share one history, as in the studio)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self._commands: list[Command] = []
        self._index = 0
        self._clean: int | None = 0
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """``listener()`` runs after every push, undo, redo or clean change (menus, title mark)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def push(self, command: Command) -> Command:
        """Run ``command`` and record it. If it raises, nothing is recorded and the error propagates."""
        command.do(command.target(self.root))
        del self._commands[self._index:]
        if self._clean is not None and self._clean > self._index:
            self._clean = None  # the saved state was in the discarded redo tail
        previous = self._commands[-1] if self._commands else None
        if previous is not None and self._clean != self._index and previous.merge(command):
            self._changed()
            return previous
        self._commands.append(command)
        self._index += 1
        self._changed()
        return command

    def undo(self) -> None:
        if not self.can_undo:
            return
        self._index -= 1
        command = self._commands[self._index]
        command.undo(command.target(self.root))
        self._changed()

    def redo(self) -> None:
        if not self.can_redo:
            return
        command = self._commands[self._index]
        command.do(command.target(self.root))
        self._index += 1
        self._changed()

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def undo_text(self) -> str:
        return self._commands[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._commands[self._index].text if self.can_redo else ""

    @property
    def index(self) -> int:
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    def set_clean(self) -> None:
        self._clean = self._index
        self._changed()

    @property
    def is_clean(self) -> bool:
        return self._clean == self._index

    def clear(self) -> None:
        self._commands.clear()
        self._index = 0
        self._clean = 0
        self._changed()


__all__ = [
    "Command", "AddNode", "RemoveNodes", "Connect", "Disconnect", "MoveNodes", "AutoLayout", "SetParam",
    "RenameNode", "GroupNodes", "Ungroup", "RenameGroup", "PasteSubgraph", "Macro", "CommandStack", "ConnectError",
]
