"""Live checking: every node's output shape and parameter count, or the error that stops it.

Runs in topological order after each edit. A bad graph is a state to show, so nothing here
raises: each problem becomes a :class:`CheckError` attached to the node it is about (or to the
graph when it is about no node in particular, like a missing head).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Sequence

import networkx as nx

from modstudio.graph import catalog
from modstudio.graph.catalog import Shape, fmt_shape

if TYPE_CHECKING:
    from modstudio.graph.model import Graph


class ErrorKind(str, Enum):
    UNKNOWN_KIND = "unknown_kind"
    CYCLE = "cycle"
    MISSING_INPUT = "missing_input"
    EXTRA_INPUT = "extra_input"
    SHAPE_MISMATCH = "shape_mismatch"
    BAD_PARAM = "bad_param"
    NO_INPUT_NODE = "no_input_node"
    NO_HEAD = "no_head"
    MULTIPLE_INPUTS = "multiple_inputs"
    MULTIPLE_HEADS = "multiple_heads"
    UNREACHABLE = "unreachable"
    # found by the project's check (``project/check.py``), which knows the tasks' data
    TASK_SHAPE = "task_shape"
    TASK_CLASSES = "task_classes"


@dataclass(frozen=True)
class CheckError:
    kind: ErrorKind
    message: str
    node_id: str | None = None
    tasks: tuple[int, ...] = ()  # the tasks (0-based) the problem is about, for the Tasks panel

    def __str__(self) -> str:
        return self.message


@dataclass
class NodeReport:
    """What the check knows about one node: shape and count, or why not (``error``)."""

    shape: Shape | None = None
    in_shapes: list[Shape] = field(default_factory=list)
    param_count: int | None = None
    error: CheckError | None = None


@dataclass
class CheckReport:
    nodes: dict[str, NodeReport]
    errors: list[CheckError]
    order: list[str]
    input_id: str | None = None
    head_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_params(self) -> int:
        return sum(r.param_count or 0 for r in self.nodes.values())

    @property
    def output_shape(self) -> Shape | None:
        return self.nodes[self.head_id].shape if self.head_id else None

    def error_for(self, node_id: str) -> CheckError | None:
        return self.nodes[node_id].error if node_id in self.nodes else None

    def graph_errors(self) -> list[CheckError]:
        return [e for e in self.errors if e.node_id is None]

    def task_errors(self) -> list[CheckError]:
        return [e for e in self.errors if e.tasks]

    def add(self, error: CheckError) -> None:
        """One more problem, found by a check that knows more than the graph (the tasks); it marks its
        node unless an earlier problem does."""
        self.errors.append(error)
        node = self.nodes.get(error.node_id) if error.node_id is not None else None
        if node is not None and node.error is None:
            node.error = error

    def summary(self) -> str:
        if self.ok:
            return f"ok: {self.total_params:,} parameters, output {fmt_shape(self.output_shape)}"
        return f"{len(self.errors)} error(s): " + "; ".join(e.message for e in self.errors[:3])


def check(graph: "Graph", input_shape: Sequence[int] | None = None, classes: int | None = None) -> CheckReport:
    """Infer shapes and parameter counts; ``input_shape``/``classes`` come from the tasks when known.

    They fill in an input node whose shape is empty and a head whose ``classes`` is 0
    ("from the task"); values the user set on the nodes win.
    """
    reports = {node_id: NodeReport() for node_id in graph.nodes}
    errors: list[CheckError] = []

    def fail(node_id: str | None, kind: ErrorKind, message: str) -> None:
        error = CheckError(kind, message, node_id)
        errors.append(error)
        if node_id is not None and reports[node_id].error is None:
            reports[node_id].error = error

    known = {}
    for node in graph.nodes.values():
        try:
            known[node.id] = catalog.get(node.kind)
        except KeyError:
            fail(node.id, ErrorKind.UNKNOWN_KIND, f"unknown module kind {node.kind!r}")

    inputs = [n for n in graph.nodes.values() if n.id in known and known[n.id].role == "input"]
    heads = [n for n in graph.nodes.values() if n.id in known and known[n.id].role == "head"]
    if not inputs:
        fail(None, ErrorKind.NO_INPUT_NODE, "the network has no input node")
    for extra in inputs[1:]:
        fail(extra.id, ErrorKind.MULTIPLE_INPUTS, f"{extra.name}: only one input node is supported")
    if not heads:
        fail(None, ErrorKind.NO_HEAD, "the network has no task head")
    for extra in heads[1:]:
        fail(extra.id, ErrorKind.MULTIPLE_HEADS, f"{extra.name}: only one task head is supported (each task gets its own copy)")

    g = graph.to_networkx()
    in_cycle: set[str] = {node_id for node_id, _ in nx.selfloop_edges(g)}  # a cycle of one node
    for component in nx.strongly_connected_components(g):
        if len(component) > 1:
            in_cycle |= component
    for node_id in graph.nodes:
        if node_id in in_cycle:
            fail(node_id, ErrorKind.CYCLE, f"{graph.nodes[node_id].name} is part of a cycle")

    input_id = inputs[0].id if inputs else None
    head_id = heads[0].id if heads else None
    from_input = nx.descendants(g, input_id) | {input_id} if input_id else set()
    to_head = nx.ancestors(g, head_id) | {head_id} if head_id else set()
    for node in graph.nodes.values():
        if node.id in in_cycle or node.id not in known or reports[node.id].error:
            continue
        if input_id and node.id not in from_input:
            fail(node.id, ErrorKind.UNREACHABLE, f"{node.name} is not connected to the input")
        elif head_id and node.id not in to_head:
            fail(node.id, ErrorKind.UNREACHABLE, f"{node.name}'s output does not reach the task head")

    position = {node_id: i for i, node_id in enumerate(graph.nodes)}
    dag = g.subgraph(set(graph.nodes) - in_cycle).copy() if in_cycle else g  # views are slow to walk
    order = list(nx.lexicographical_topological_sort(dag, key=position.__getitem__))
    incoming: dict[str, list] = {node_id: [] for node_id in graph.nodes}
    for edge in graph.edges:  # one pass, in edge order (concat's order), instead of a scan per node
        incoming[edge.dst].append(edge)
    for node_id in order:
        if node_id not in known:
            continue
        _infer_node(graph, node_id, known[node_id], reports, fail, input_shape, classes, incoming[node_id])

    return CheckReport(reports, errors, order, input_id, head_id)


def _infer_node(graph, node_id, spec, reports, fail, input_shape, classes, incoming) -> None:
    node = graph.nodes[node_id]
    params = dict(node.params)
    if spec.role == "input" and not params.get("shape") and input_shape is not None:
        params["shape"] = list(input_shape)
    if spec.role == "head" and not params.get("classes") and classes is not None:
        params["classes"] = int(classes)
    for pspec in spec.params:
        message = pspec.range_error(params[pspec.name])
        if message:
            fail(node_id, ErrorKind.BAD_PARAM, f"{node.name}: {message}")
            return

    in_shapes: list[Shape] = []
    for port in spec.inputs:
        edges = [e for e in incoming if e.dst_port == port.name]
        if len(edges) < port.min_edges:
            need = f"at least {port.min_edges} inputs" if port.multi else "an input"
            fail(node_id, ErrorKind.MISSING_INPUT, f"{node.name} needs {need} ({len(edges)} connected)")
            return
        if not port.multi and len(edges) > 1:
            fail(node_id, ErrorKind.EXTRA_INPUT, f"{node.name} takes one input but {len(edges)} are connected")
            return
        for edge in edges:
            upstream = reports[edge.src].shape
            if upstream is None:
                return  # an earlier node has the error; don't repeat it here
            in_shapes.append(upstream)
    if not spec.inputs and incoming:
        fail(node_id, ErrorKind.EXTRA_INPUT, f"{node.name} takes no input")
        return

    report = reports[node_id]
    report.in_shapes = in_shapes
    try:
        report.shape = spec.output_shape(params, in_shapes)
        report.param_count = spec.param_count(params, in_shapes)
    except catalog.ShapeError as exc:
        report.shape = None
        kind = ErrorKind.BAD_PARAM if isinstance(exc, catalog.UnsetParamError) else ErrorKind.SHAPE_MISMATCH
        fail(node_id, kind, f"{node.name}: {exc}")
