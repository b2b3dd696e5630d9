"""Check a run's module bank against the graph before it is saved or accepted on load.

A bank whose names or shapes don't fit the graph would fail much later, deep in torch, with a
message nobody can act on; here it fails at the file boundary naming the tensor, the expected
and the found shape.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from modstudio.graph import Graph, catalog
from modstudio.graph.catalog import fmt_shape
from modstudio.project.errors import ProjectFileError
from modstudio.project.tensors import numeric_problem

_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")


class _Shapes:
    """Expected tensor shapes per (node, instance), computed once per node from one graph check."""

    def __init__(self, graph: Graph, tasks: Sequence[Any]) -> None:
        self.graph = graph
        self.tasks = tasks
        first = tasks[0] if tasks else None
        self.report = graph.check(
            input_shape=tuple(first.sample_shape) if first is not None else None,
            classes=first.num_classes if first is not None else None,
        )
        self._cache: dict[tuple[str, int | None], dict[str, tuple[int, ...]]] = {}

    def expected(self, node_id: str, instance: int, where: str) -> dict[str, tuple[int, ...]]:
        node = self.graph.nodes.get(node_id)
        if node is None:
            raise ProjectFileError(f"{where}: names node {node_id!r}, which is not in the graph")
        spec = catalog.get(node.kind)
        params = dict(node.params)
        key: tuple[str, int | None] = (node_id, None)
        if spec.role == "head":  # one head per task, as wide as that task's classes
            if instance < len(self.tasks):
                params["classes"] = int(self.tasks[instance].num_classes)
            elif not params.get("classes"):
                raise ProjectFileError(f"{where}: head instance {instance} has no task to give its width")
            key = (node_id, instance)
        if key not in self._cache:
            report = self.report.nodes[node_id]
            if spec.inputs and not report.in_shapes:
                why = report.error.message if report.error else "its inputs have errors"
                raise ProjectFileError(f"{where}: cannot check against node {node.name!r}: {why}")
            try:
                shapes = {**spec.tensor_shapes(params, report.in_shapes),
                          **spec.buffer_shapes(params, report.in_shapes)}
            except catalog.ShapeError as exc:
                raise ProjectFileError(f"{where}: cannot check against node {node.name!r}: {exc}") from None
            self._cache[key] = shapes
        return self._cache[key]


def check_weights(weights: dict[str, Any], graph: Graph, tasks: Sequence[Any], run_label: str) -> None:
    """ProjectFileError unless every tensor is numeric and every bank tensor fits the graph."""
    shapes = _Shapes(graph, tasks)
    seen: dict[tuple[str, int], set[str]] = {}
    for key, array in weights.items():
        where = f"{run_label} weights: tensor {key!r}"
        problem = numeric_problem(array) if isinstance(key, str) else "has a name that is not text"
        if problem:
            raise ProjectFileError(f"{where} {problem}")
        if key.startswith("extra/") and len(key) > len("extra/"):
            continue
        parts = key.split("/", 3)
        if len(parts) != 4 or parts[0] != "bank" or not parts[3]:
            raise ProjectFileError(f"{where}: expected bank/<node>/<instance>/<tensor> or extra/<name>")
        _, node_id, index, name = parts
        if not _INDEX.fullmatch(index):
            raise ProjectFileError(f"{where}: instance {index!r} is not a whole number")
        expected = shapes.expected(node_id, int(index), where)
        if name not in expected:
            known = ", ".join(sorted(expected)) or "none"
            raise ProjectFileError(f"{where}: node {graph.nodes[node_id].name!r} has no tensor {name!r} "
                                   f"(it has: {known})")
        if tuple(array.shape) != tuple(expected[name]):
            raise ProjectFileError(f"{where}: expected shape {fmt_shape(expected[name])}, "
                                   f"found {fmt_shape(tuple(array.shape))}")
        seen.setdefault((node_id, int(index)), set()).add(name)
    for (node_id, index), names in seen.items():
        missing = sorted(set(shapes.expected(node_id, index, run_label)) - names)
        if missing:
            raise ProjectFileError(f"{run_label} weights: bank/{node_id}/{index} lacks tensor(s) "
                                   f"{', '.join(missing)}")

