"""Which tasks' features a class-incremental readout reads, and how a run names a sample's task.

Torch-free, so the studio can show it on its own thread, and the one home of the rule: the
modular network (``modstudio.learn.network``) asks the same functions while it trains, and the
canvas overlay asks them about a run's saved paths.

A task's *features* are what its head reads. They are determined by the instances its path
takes through every node upstream of the head (``feature_nodes``): two tasks whose paths agree
there compute the same features, so a readout over every path's features (DER's unified
classifier, the ``memory`` task classifier) needs them once, under the first such task — its
*feature source*. A progressive column (lateral inputs from older columns) is a source of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Collection, Mapping, Sequence

import networkx as nx

from modstudio.project import strategy_specs

if TYPE_CHECKING:
    from modstudio.graph import Graph

Path = Mapping[str, int]

# How a path-per-task strategy reads a class-incremental prediction (``task_inference``); the
# strategies' own words for the choices, for every reader that explains them.
READOUT_TEXT = {
    "unified": "one classifier over the features of every task's path (DER, Yan et al. 2021)",
    "confidence": "the most confident head names the task",
    "gate": "a gate of per-task autoencoders names the task: the best reconstruction of the input "
            "(Expert Gate, Aljundi et al. 2017)",
    "memory": "a task classifier over every path's features, trained on the exemplar memory, names the task",
    "shared": "one head over every class, shared by every task",
}


def feature_nodes(graph: "Graph", head_id: str | None = None) -> tuple[str, ...]:
    """The nodes whose instances determine the head's input: everything upstream of the head but
    the input, in topological order (a graph without a head, or with a cycle: none)."""
    if head_id is None:
        heads = graph.nodes_of_role("head")
        if len(heads) != 1:
            return ()
        head_id = heads[0].id
    if head_id not in graph.nodes or graph.has_cycle():
        return ()
    inputs = {node.id for node in graph.nodes_of_role("input")}
    upstream = nx.ancestors(graph.to_networkx(), head_id) - inputs
    return tuple(n for n in graph.topological_order() if n in upstream)


def feature_key(path: Path, nodes: Sequence[str], task: int, lateral: bool = False) -> tuple:
    """What determines ``task``'s features: its instance of every feature node (a lateral column:
    the task itself). Equal keys, equal features."""
    if lateral:
        return ("column", task)
    return tuple((node, path.get(node)) for node in nodes)


def feature_owners(paths: Sequence[Path], nodes: Sequence[str], lateral_tasks: Collection[int] = (),
                   n_tasks: int | None = None) -> list[int]:
    """For each of the first ``n_tasks`` tasks, the feature source whose features it computes
    (itself, when it is one)."""
    first: dict[tuple, int] = {}
    owners = []
    for task in range(len(paths) if n_tasks is None else n_tasks):
        key = feature_key(paths[task], nodes, task, task in lateral_tasks)
        owners.append(first.setdefault(key, task))
    return owners


def feature_sources(paths: Sequence[Path], nodes: Sequence[str], lateral_tasks: Collection[int] = (),
                    n_tasks: int | None = None) -> list[int]:
    """The first task of every distinct feature key among the first ``n_tasks`` paths: the tasks a
    readout over every path's features reads, one block each."""
    return [task for task, owner in enumerate(feature_owners(paths, nodes, lateral_tasks, n_tasks)) if owner == task]


def task_inference(strategy: str, scenario: str, params: Mapping[str, Any] | None = None) -> str | None:
    """How a run with these settings reads a prediction without the task id: ``None`` when the task
    is given (task scenario), ``"shared"`` for a shared-path strategy's one head over every class,
    else the path strategy's ``task_inference`` (``unified``, ``confidence``, ``gate``, ``memory``)."""
    if scenario != "class":
        return None
    spec = strategy_specs.find(strategy)
    if spec is None:
        return None
    if not spec.path_based:
        return "shared"
    try:
        resolved = spec.resolved(dict(params or {}))
    except strategy_specs.StrategyError:
        resolved = spec.defaults()
    return str(resolved.get("task_inference", "confidence"))


def lateral_tasks(strategy: str, n_tasks: int) -> range:
    """The tasks that are progressive columns (a strategy with laterals makes every task one)."""
    spec = strategy_specs.find(strategy)
    return range(n_tasks) if spec is not None and spec.laterals else range(0)


# Which class-incremental readouts use a shared parameter (``strategy_specs``: ROUTER_PARAMS, MEMORY).
ROUTER_PARAM_USES = {"router_epochs": ("gate", "memory"), "gate_hidden": ("gate",)}
READOUT_MEMORY_USES = ("unified", "memory")  # the readouts trained on the exemplar memory
UNIFIED_DOC = "class scenario, unified:"  # how a parameter of the unified classifier's training begins its doc


def param_applies(spec: "strategy_specs.StrategySpec", name: str, scenario: str,
                  params: Mapping[str, Any] | None = None) -> bool:
    """Whether strategy parameter ``name`` takes any effect in a run with this scenario and these
    strategy parameters: a path strategy's readout parameters only in the class scenario, and each
    only for the readout that uses it (``gate_hidden`` for the gate, a memory for the readouts
    trained on one: a path strategy keeps a memory for its class-scenario readouts only). A
    shared-path strategy uses every parameter it declares in both scenarios."""
    if not spec.path_based:
        return True
    mode = task_inference(spec.name, scenario, params)  # None: the task is given
    if name == "task_inference":
        return mode is not None
    if name in ROUTER_PARAM_USES:
        return mode in ROUTER_PARAM_USES[name]
    if name in (strategy_specs.MEMORY.name, strategy_specs.MEMORY_SELECTION.name):
        return mode in READOUT_MEMORY_USES
    if spec.param(name).doc.startswith(UNIFIED_DOC):
        return mode == "unified"
    return True


def class_only(spec: "strategy_specs.StrategySpec", name: str) -> bool:
    """A parameter that no task-incremental run uses (how a class-incremental one reads its predictions)."""
    return not param_applies(spec, name, "task")
