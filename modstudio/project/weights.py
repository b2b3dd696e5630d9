"""Check a run's module bank against the graph before it is saved or accepted on load.

A bank whose names or shapes don't fit the graph would fail much later, deep in torch, with a
message nobody can act on; here it fails at the file boundary naming the tensor, the expected
and the found shape. :func:`check_run` also checks what restoring the run needs (its paths,
lateral adapters, shared head), so a run that loads can be rebuilt, exported and used.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from modstudio.graph import Graph, catalog
from modstudio.graph.catalog import fmt_shape
from modstudio.project import strategy_specs
from modstudio.project.errors import ProjectFileError
from modstudio.project.tensors import numeric_problem

_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")
_SURROGATE = re.compile("[\ud800-\udfff]")
LATERALS = "extra/laterals/"
SHARED_HEAD = "extra/shared_head/"


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
            self._cache[key] = self._shapes(node_id, params, where)
        return self._cache[key]

    def _shapes(self, node_id: str, params: dict[str, Any], where: str) -> dict[str, tuple[int, ...]]:
        node = self.graph.nodes[node_id]
        spec = catalog.get(node.kind)
        report = self.report.nodes[node_id]
        if spec.inputs and not report.in_shapes:
            why = report.error.message if report.error else "its inputs have errors"
            raise ProjectFileError(f"{where}: cannot check against node {node.name!r}: {why}")
        try:
            return {**spec.tensor_shapes(params, report.in_shapes), **spec.buffer_shapes(params, report.in_shapes)}
        except catalog.ShapeError as exc:
            raise ProjectFileError(f"{where}: cannot check against node {node.name!r}: {exc}") from None

    def shared_head(self, classes: int, where: str) -> dict[str, tuple[int, ...]]:
        """The shapes of a class-incremental run's one head over all ``classes``."""
        head_id = self.report.head_id
        params = {**self.graph.nodes[head_id].params, "classes": int(classes)}
        return self._shapes(head_id, params, where)


def check_weights(weights: dict[str, Any], graph: Graph, tasks: Sequence[Any], run_label: str) -> None:
    """ProjectFileError unless every tensor is numeric and every bank tensor fits the graph."""
    _check_bank(weights, _Shapes(graph, tasks), run_label)


def _check_bank(weights: dict[str, Any], shapes: _Shapes, run_label: str) -> dict[tuple[str, int], set[str]]:
    """The bank's (node, instance) → tensor names, after checking every tensor."""
    graph = shapes.graph
    seen: dict[tuple[str, int], set[str]] = {}
    for key, array in weights.items():
        where = f"{run_label} weights: tensor {key!r:.200}"
        problem = numeric_problem(array) if isinstance(key, str) else "has a name that is not text"
        if not problem and _SURROGATE.search(key):
            problem = "has a name with a lone UTF-16 surrogate, which a file cannot store"
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
    counts: dict[str, int] = {}
    for (node_id, index), names in seen.items():
        missing = sorted(set(shapes.expected(node_id, index, run_label)) - names)
        if missing:
            raise ProjectFileError(f"{run_label} weights: bank/{node_id}/{index} lacks tensor(s) "
                                   f"{', '.join(missing)}")
        counts[node_id] = counts.get(node_id, 0) + 1
    for (node_id, index) in seen:  # a bank grows by appending: instances are 0, 1, 2, … without gaps
        if index >= counts[node_id]:
            gap = min(i for i in range(counts[node_id] + 1) if (node_id, i) not in seen)
            raise ProjectFileError(f"{run_label} weights: node {graph.nodes[node_id].name!r} has instance "
                                   f"{index} but no instance {gap} (bank/{node_id}/{gap}/…)")
    return seen


def check_run(run: Any, graph: Graph, tasks: Sequence[Any], run_label: str) -> None:
    """Everything :func:`check_weights` checks, and what restoring the run needs (when it has weights).

    Only for a run whose graph checks clean (any other cannot be restored, and restoring says so):
    every path names an instance of every node but the input, each held by the bank (a node
    without tensors has the one instance 0); a strategy with lateral connections (``laterals``
    in its spec) has every adapter its paths need; a class-incremental run of a strategy without
    a path per task has its shared head (``extra/shared_head/``). Names as
    ``modstudio.learn.network.ModularNetwork.weights`` writes them.
    """
    weights = run.weights
    if not weights:
        return
    shapes = _Shapes(graph, tasks)
    seen = _check_bank(weights, shapes, run_label)
    report = shapes.report
    if not report.ok:
        return
    for t, path in enumerate(run.paths):
        where = f"{run_label}: paths[{t}]"
        for node_id in report.order:
            if node_id != report.input_id and node_id not in path:
                raise ProjectFileError(f"{where} does not name node {graph.nodes[node_id].name!r}; a path "
                                       "names the instance of every node that task runs through")
        for node_id, index in path.items():
            node = graph.nodes[node_id]
            if node_id == report.input_id:
                raise ProjectFileError(f"{where} names the input node {node.name!r}, which has no instances")
            if not shapes.expected(node_id, index, where):
                if index != 0:
                    raise ProjectFileError(f"{where}: node {node.name!r} has no tensors, so its only instance "
                                           f"is 0, not {index}")
            elif (node_id, index) not in seen:
                raise ProjectFileError(f"{where}: task {t} runs through instance {index} of node {node.name!r}, "
                                       f"which the run's weights do not hold (bank/{node_id}/{index}/…)")
    strategy = run.settings.get("strategy", run.strategy) if isinstance(run.settings, dict) else run.strategy
    spec = strategy_specs.find(strategy)
    if spec is None:
        return  # restoring refuses an unknown strategy by name
    expected: dict[str, tuple[int, ...]] = {}
    if spec.laterals:
        expected.update(_lateral_shapes(graph, report, len(run.paths), _adapter_width(weights)))
    if run.settings.get("scenario") == "class" and not spec.path_based:
        classes = len({c for task in tasks for c in task.classes})
        shared = shapes.shared_head(classes, f"{run_label}: the shared head")
        expected.update({SHARED_HEAD + name: shape for name, shape in shared.items()})
    for key, shape in sorted(expected.items()):
        what = "lateral adapter" if key.startswith(LATERALS) else "shared head tensor"
        if key not in weights:
            raise ProjectFileError(f"{run_label} weights: a {spec.name} run "
                                   f"{'with these paths' if key.startswith(LATERALS) else 'that is class-incremental'} "
                                   f"needs its {what} {key!r}, which is missing")
        found = tuple(weights[key].shape)
        if found != tuple(shape):
            raise ProjectFileError(f"{run_label} weights: tensor {key!r}: expected shape {fmt_shape(shape)}, "
                                   f"found {fmt_shape(found)}")


def _adapter_width(weights: dict[str, Any]) -> int | None:
    """The projection width of a run's lateral adapters; None for runs saved with C×C mixes."""
    for key, array in weights.items():
        if key.startswith(LATERALS) and key.endswith(".down") and len(array.shape) == 2:
            return int(array.shape[0])
    return None


def _lateral_shapes(graph: Graph, report: Any, columns: int, width: int | None) -> dict[str, tuple[int, ...]]:
    """The adapters progressive columns 1 … columns-1 get from the older columns (as the network
    adds them), into each trainable step (and the head) whose first input is not the input node,
    C the channels of that input: an adapter of ``width`` (α per older column, a projection of
    their C-channel activations to ``width``, one back to C), or for runs saved before adapters,
    one C×C mix per older column."""
    out: dict[str, tuple[int, ...]] = {}
    for index, node_id in enumerate(report.order):
        spec = catalog.get(graph.nodes[node_id].kind)
        sources = [e.src for port in spec.inputs for e in graph.in_edges(node_id) if e.dst_port == port.name]
        if any(p.multi for p in spec.inputs) or not sources or sources[0] == report.input_id:
            continue
        trainable = node_id not in (report.head_id, report.input_id) and report.nodes[node_id].param_count
        if node_id != report.head_id and not trainable:
            continue
        shape = report.nodes[sources[0]].shape
        if not shape:
            continue  # no channel axis: such a network cannot be restored, and restoring says why
        channels = shape[0]
        for task in range(1, columns):
            key = f"{LATERALS}t{task}_s{index}"
            if width is None:
                out.update({f"{key}.{j}.weight": (channels, channels) for j in range(task)})
            else:
                out.update({f"{key}.alpha": (task,), f"{key}.down": (width, task * channels),
                            f"{key}.up": (channels, width)})
    return out
