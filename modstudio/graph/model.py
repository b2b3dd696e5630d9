"""The graph the user draws: nodes (module instances of a kind) wired output port → input port.

Pure Python. Every mutation emits one past-tense event, and only when something really changed,
so views can follow the model without polling. networkx is used for graph questions (cycles,
order, layout) through a view derived on demand, never kept in sync by hand.
"""

from __future__ import annotations

import copy
import math
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable

import networkx as nx

from modstudio.graph import catalog
from modstudio.graph.events import ANY, OPTIONAL_STR, EventGroup

Position = tuple[float, float]

FORMAT_KEYS = ("nodes", "edges", "groups")


class GraphError(ValueError):
    """An edit or a graph description that the model refuses; the message says why."""


class ConnectError(GraphError):
    """A connection was refused: cycle, wrong port kind, or already connected."""


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Node:
    id: str
    kind: str
    name: str
    params: dict[str, Any]
    pos: Position = (0.0, 0.0)
    group: str | None = None

    @property
    def spec(self) -> catalog.KindSpec:
        return catalog.get(self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "params": copy.deepcopy(self.params),
            "pos": [float(self.pos[0]), float(self.pos[1])],
            "group": self.group,
        }


@dataclass(frozen=True)
class Edge:
    """A wire from ``src``'s output port to ``dst``'s input port."""

    src: str
    dst: str
    src_port: str = "out"
    dst_port: str = "in"

    def to_dict(self) -> dict[str, str]:
        return {"src": self.src, "src_port": self.src_port, "dst": self.dst, "dst_port": self.dst_port}


class GraphEvents(EventGroup):
    """What a graph tells its views; each fires once per real change, after the change."""

    node_added = (str,)  # node id
    node_removed = (str,)
    node_moved = (str, tuple)  # node id, new position
    param_changed = (str, str, ANY, ANY)  # node id, param name, value, old value
    node_renamed = (str, str)  # node id, name
    node_group_changed = (str, OPTIONAL_STR)  # node id, group id or None
    edge_added = (Edge,)
    edge_removed = (Edge,)
    group_added = (str, str)  # group id, label
    group_removed = (str,)
    group_renamed = (str, str)  # group id, label


@dataclass
class Graph:
    """Nodes in insertion order, edges in connection order (which is concat's order), groups by id."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.events = GraphEvents()

    # ------------------------------------------------------------------ nodes

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {node_id}") from None

    def add_node(
        self,
        kind: str,
        *,
        name: str | None = None,
        pos: Position = (0.0, 0.0),
        group: str | None = None,
        node_id: str | None = None,
        **params: Any,
    ) -> str:
        """Add a node of ``kind`` with its default params overridden by ``params``; returns its id."""
        spec = _spec_or_error(kind)
        values = spec.default_params()
        for key, value in params.items():
            values[key] = _coerce(spec, key, value)
        node = Node(node_id or new_id(), kind, name or self._fresh_name(spec), values, _pos(pos), group)
        self.insert_node(node)
        return node.id

    def insert_node(self, node: Node, index: int | None = None) -> None:
        """Insert a ready node (at ``index`` in node order, to restore it exactly on undo)."""
        if node.id in self.nodes:
            raise GraphError(f"a node with id {node.id} already exists")
        if node.group is not None and node.group not in self.groups:
            raise GraphError(f"node {node.name!r} refers to an unknown group {node.group}")
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = node
        else:  # keep the same dict object: views may hold a reference to it
            items = list(self.nodes.items())
            items.insert(index, (node.id, node))
            self.nodes.clear()
            self.nodes.update(items)
        self.events.node_added.emit(node.id)

    def remove_node(self, node_id: str) -> tuple[Node, int, list[tuple[int, Edge]]]:
        """Remove a node and its edges; returns what undo needs to restore them exactly."""
        node = self.node(node_id)
        index = list(self.nodes).index(node_id)
        removed = [(i, e) for i, e in enumerate(self.edges) if node_id in (e.src, e.dst)]
        for _, edge in reversed(removed):
            self.remove_edge(edge)
        del self.nodes[node_id]
        self.events.node_removed.emit(node_id)
        return node, index, removed

    def move_node(self, node_id: str, pos: Position) -> None:
        node = self.node(node_id)
        pos = _pos(pos)
        if node.pos != pos:
            node.pos = pos
            self.events.node_moved.emit(node_id, pos)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set a param; the value is type-checked now, its range by ``check()`` (so it can be shown)."""
        node = self.node(node_id)
        value = _coerce(node.spec, name, value)
        if node.params.get(name) != value:
            old = node.params.get(name)
            node.params[name] = value
            self.events.param_changed.emit(node_id, name, value, old)

    def rename_node(self, node_id: str, name: str) -> None:
        node = self.node(node_id)
        if not name.strip():
            raise GraphError("a node's name cannot be empty")
        if node.name != name:
            node.name = name
            self.events.node_renamed.emit(node_id, name)

    def _fresh_name(self, spec: catalog.KindSpec) -> str:
        taken = {n.name for n in self.nodes.values()}
        i = 1
        while f"{spec.title} {i}" in taken:
            i += 1
        return f"{spec.title} {i}"

    # ------------------------------------------------------------------ edges

    def check_connect(self, src: str, dst: str, src_port: str = "out", dst_port: str | None = None) -> str | None:
        """Why ``src → dst`` cannot be connected, or None if it can."""
        if src not in self.nodes or dst not in self.nodes:
            return "both ends must be nodes of this graph"
        source, target = self.nodes[src], self.nodes[dst]
        if src_port not in source.spec.outputs:
            return f"{source.name} has no output port {src_port!r}"
        port = _input_port(target.spec, dst_port)
        if port is None:
            if not target.spec.inputs:
                return f"{target.name} ({target.spec.title}) takes no input"
            return f"{target.name} has no input port {dst_port!r}"
        if src == dst:
            return "a node cannot feed itself (cycle)"
        if any(e.src == src and e.dst == dst and e.dst_port == port.name for e in self.edges):
            return f"{source.name} is already connected to {target.name}"
        if self._reaches(dst, src):
            return f"connecting {source.name} → {target.name} would create a cycle"
        if not port.multi and any(e.dst == dst and e.dst_port == port.name for e in self.edges):
            return f"{target.name}'s input is already connected; disconnect it first"
        return None

    def can_connect(self, src: str, dst: str, src_port: str = "out", dst_port: str | None = None) -> bool:
        return self.check_connect(src, dst, src_port, dst_port) is None

    def connect(self, src: str, dst: str, src_port: str = "out", dst_port: str | None = None) -> Edge:
        """Wire ``src`` to ``dst`` (their first ports by default); ConnectError with the reason if refused."""
        reason = self.check_connect(src, dst, src_port, dst_port)
        if reason is not None:
            raise ConnectError(reason)
        edge = Edge(src, dst, src_port, _input_port(self.nodes[dst].spec, dst_port).name)
        self.insert_edge(edge)
        return edge

    def insert_edge(self, edge: Edge, index: int | None = None, *, known_new: bool = False) -> None:
        """Insert an edge without the connect rules (undo, loading); ends must exist.

        ``known_new`` skips the duplicate scan when the caller has already ruled duplicates
        out (loading checks them with a set, which keeps opening large graphs linear)."""
        for end in (edge.src, edge.dst):
            if end not in self.nodes:
                raise GraphError(f"edge {edge.src} → {edge.dst} refers to a missing node {end}")
        if not known_new and edge in self.edges:
            raise GraphError("this edge already exists")
        self.edges.insert(len(self.edges) if index is None else index, edge)
        self.events.edge_added.emit(edge)

    def remove_edge(self, edge: Edge) -> int:
        """Remove an edge; returns its index so undo can put it back in the same order."""
        try:
            index = self.edges.index(edge)
        except ValueError:
            raise GraphError("no such edge") from None
        del self.edges[index]
        self.events.edge_removed.emit(edge)
        return index

    def in_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def out_edges(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    # ------------------------------------------------------------------ groups

    def add_group(self, label: str, group_id: str | None = None) -> str:
        group_id = group_id or new_id()
        if group_id in self.groups:
            raise GraphError(f"group {group_id} already exists")
        self.groups[group_id] = label
        self.events.group_added.emit(group_id, label)
        return group_id

    def remove_group(self, group_id: str) -> str:
        """Remove an empty group; returns its label."""
        if any(n.group == group_id for n in self.nodes.values()):
            raise GraphError("ungroup the nodes before removing their group")
        label = self.groups.pop(group_id)
        self.events.group_removed.emit(group_id)
        return label

    def rename_group(self, group_id: str, label: str) -> None:
        if self.groups[group_id] != label:
            self.groups[group_id] = label
            self.events.group_renamed.emit(group_id, label)

    def set_group(self, node_id: str, group_id: str | None) -> None:
        node = self.node(node_id)
        if group_id is not None and group_id not in self.groups:
            raise GraphError(f"no group {group_id}")
        if node.group != group_id:
            node.group = group_id
            self.events.node_group_changed.emit(node_id, group_id)

    # ------------------------------------------------------------------ graph questions

    def to_networkx(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes)
        g.add_edges_from((e.src, e.dst) for e in self.edges)
        return g

    def _reaches(self, a: str, b: str) -> bool:
        if a == b:
            return True
        seen, stack = {a}, [a]
        while stack:
            for e in self.out_edges(stack.pop()):
                if e.dst == b:
                    return True
                if e.dst not in seen:
                    seen.add(e.dst)
                    stack.append(e.dst)
        return False

    def has_cycle(self) -> bool:
        return not nx.is_directed_acyclic_graph(self.to_networkx())

    def topological_order(self) -> list[str]:
        """Node ids so that every edge points forward; ties keep insertion order. GraphError on a cycle."""
        order = {node_id: i for i, node_id in enumerate(self.nodes)}
        try:
            return list(nx.lexicographical_topological_sort(self.to_networkx(), key=order.__getitem__))
        except nx.NetworkXUnfeasible:
            raise GraphError("the graph has a cycle") from None

    def nodes_of_role(self, role: str) -> list[Node]:
        return [n for n in self.nodes.values() if _known(n.kind) and n.spec.role == role]

    def check(self, input_shape=None, classes=None):
        """Shapes, parameter counts and errors per node: see :func:`modstudio.graph.check.check`."""
        from modstudio.graph.check import check

        return check(self, input_shape=input_shape, classes=classes)

    def layout(self) -> dict[str, Position]:
        from modstudio.graph.layout import layered_layout

        return layered_layout(self)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; ``from_dict(to_dict())`` rebuilds an equal graph."""
        return {
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
            "groups": [{"id": gid, "label": label} for gid, label in self.groups.items()],
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Graph":
        """Rebuild a graph from untrusted data; GraphError naming the first problem found."""
        if not isinstance(data, dict):
            raise GraphError("the graph must be an object with nodes, edges and groups")
        unknown = set(data) - set(FORMAT_KEYS)
        if unknown:
            raise GraphError(f"unknown graph fields: {', '.join(sorted(map(str, unknown)))}")
        graph = cls()
        where = "groups"
        index = 0
        try:  # each problem names where it is: "… (at nodes[3])"
            for index, group in enumerate(_list(data, "groups")):
                _require(group, {"id": str, "label": str}, "group")
                graph.groups[group["id"]] = group["label"]
            where = "nodes"
            for index, raw in enumerate(_list(data, "nodes")):
                graph.insert_node(_node_from_dict(raw, graph))
            where = "edges"
            seen: set[Edge] = set()
            for index, raw in enumerate(_list(data, "edges")):
                _require(raw, {"src": str, "dst": str, "src_port": str, "dst_port": str}, "edge")
                edge = Edge(raw["src"], raw["dst"], raw["src_port"], raw["dst_port"])
                if edge in seen:
                    raise GraphError("this edge already exists")
                seen.add(edge)
                graph.insert_edge(edge, known_new=True)
                _check_edge_ports(graph, edge)
        except GraphError as exc:
            at = f"{where}[{index}]" if isinstance(data.get(where), list) and data[where] else where
            raise type(exc)(f"{exc} (at {at})") from None
        return graph

    def copy(self) -> "Graph":
        return Graph.from_dict(self.to_dict())

    def subgraph_dict(self, node_ids: Iterable[str]) -> dict[str, Any]:
        """The selected nodes, the edges among them and their groups: what copy/paste carries."""
        ids = set(node_ids)
        nodes = [n.to_dict() for n in self.nodes.values() if n.id in ids]
        used_groups = {n["group"] for n in nodes if n["group"]}
        return {
            "nodes": nodes,
            "edges": [e.to_dict() for e in self.edges if e.src in ids and e.dst in ids],
            "groups": [{"id": g, "label": label} for g, label in self.groups.items() if g in used_groups],
        }


# ---------------------------------------------------------------------- helpers


def _known(kind: str) -> bool:
    try:
        catalog.get(kind)
    except KeyError:
        return False
    return True


def _spec_or_error(kind: str) -> catalog.KindSpec:
    try:
        return catalog.get(kind)
    except KeyError as exc:
        raise GraphError(str(exc.args[0])) from None


def _coerce(spec: catalog.KindSpec, name: str, value: Any) -> Any:
    try:
        return spec.param(name).coerce(value)
    except KeyError as exc:
        raise GraphError(str(exc.args[0])) from None
    except catalog.ParamTypeError as exc:
        raise GraphError(str(exc)) from None


def _pos(pos: Any) -> Position:
    """A canvas position: two finite numbers (an infinite one could not be saved)."""
    x, y = pos
    x, y = float(x), float(y)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GraphError(f"a position must be two finite numbers, not ({x!r}, {y!r})")
    return (x, y)


def _input_port(spec: catalog.KindSpec, name: str | None) -> catalog.PortSpec | None:
    for port in spec.inputs:
        if name is None or port.name == name:
            return port
    return None


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise GraphError(f"graph field {key!r} must be a list")
    return value


def _require(raw: Any, fields: dict[str, type], what: str, optional: tuple[str, ...] = ()) -> None:
    if not isinstance(raw, dict):
        raise GraphError(f"each {what} must be an object")
    for key, typ in fields.items():
        if not isinstance(raw.get(key), typ):
            raise GraphError(f"{what} field {key!r} must be a {typ.__name__}, got {raw.get(key)!r}")
    extra = set(raw) - set(fields) - set(optional)
    if extra:
        raise GraphError(f"unknown {what} fields: {', '.join(sorted(map(str, extra)))}")


def _node_from_dict(raw: Any, graph: Graph) -> Node:
    _require(raw, {"id": str, "kind": str, "name": str}, "node", optional=("params", "pos", "group"))
    spec = _spec_or_error(raw["kind"])
    pos = raw.get("pos", [0.0, 0.0])
    if (
        not isinstance(pos, list)
        or len(pos) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
        or not all(math.isfinite(v) for v in pos)
    ):
        raise GraphError(f"node {raw['name']!r:.80}: pos must be two numbers, both finite")
    group = raw.get("group")
    if group is not None and not isinstance(group, str):
        raise GraphError(f"node {raw['name']!r}: group must be a group id or null")
    params_in = raw.get("params", {})
    if not isinstance(params_in, dict):
        raise GraphError(f"node {raw['name']!r}: params must be an object")
    params = spec.default_params()
    for key, value in params_in.items():
        try:
            params[key] = _coerce(spec, key, value)
        except GraphError as exc:
            raise GraphError(f"node {raw['name']!r}: {exc}") from None
    return Node(raw["id"], raw["kind"], raw["name"], params, _pos(pos), group)


def _check_edge_ports(graph: Graph, edge: Edge) -> None:
    source, target = graph.nodes[edge.src], graph.nodes[edge.dst]
    if edge.src_port not in source.spec.outputs:
        raise GraphError(f"edge from {source.name!r}: no output port {edge.src_port!r}")
    if _input_port(target.spec, edge.dst_port) is None:
        raise GraphError(f"edge into {target.name!r}: no input port {edge.dst_port!r}")
