"""What the modules did for one task, as canvas badges: reused (from which task), grown, shared,
frozen, the task's own head, and the bank size of every node; live candidates during a search.

In a class-incremental run the head's badge says how a prediction is read without the task id:
through the unified classifier (over the features of which tasks, and whether the task shown feeds
it with features of its own), or through the task's head once a router named the task (which
router, and how often it was right). The readout overlay (``readout_badges``) marks, on every
module, the instances whose features the unified classifier (or the memory's task classifier)
reads. Which tasks those are follows ``modstudio.project.features``, the network's own rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from modstudio.gui.canvas.node_item import NodeBadge
from modstudio.gui.training.state import PATH_READOUTS
from modstudio.project import features

REUSED = "#4e9af1"
GROWN = "#3fb56a"
SHARED = "#7b8698"
CANDIDATE = "#d9a514"
READOUT = "#c05fd0"  # the class-incremental readout: the unified classifier, a router


@dataclass(frozen=True)
class Readout:
    """How a class-incremental path-per-task run reads its predictions, and what from."""

    mode: str  # "unified", "confidence", "gate", "memory" (``features.task_inference``)
    feature_nodes: tuple[str, ...]  # the nodes whose instances make a head's input
    lateral: bool = False  # progressive columns: every task is a feature source of its own
    task_inference: tuple[float, ...] = ()  # per task, how often the task was inferred right

    @classmethod
    def of(cls, state, feature_nodes: Sequence[str]) -> "Readout | None":
        """The readout of ``state`` (a ``LiveRun``) with the ``feature_nodes`` of the graph it trained
        (``features.feature_nodes``), or None when the run does not infer the task over paths (task
        scenario, one shared head)."""
        mode = state.readout
        if mode not in PATH_READOUTS:
            return None
        lateral = bool(features.lateral_tasks(state.strategy, 1))
        return cls(mode, tuple(feature_nodes), lateral, tuple(state.task_inference or ()))

    def owners(self, paths: Sequence[dict[str, int]]) -> list[int]:
        """Per task, the feature source whose features it computes (itself when it is one)."""
        lateral = range(len(paths)) if self.lateral else ()
        return features.feature_owners(paths, self.feature_nodes, lateral)

    def sources(self, paths: Sequence[dict[str, int]]) -> list[int]:
        return [t for t, owner in enumerate(self.owners(paths)) if owner == t]

    @property
    def reads_features(self) -> bool:
        """The unified classifier and the memory's task classifier read every source's features."""
        return self.mode in ("unified", "memory")

    def rate(self, task: int) -> float | None:
        return self.task_inference[task] if 0 <= task < len(self.task_inference) else None


ROUTER_SHORT = {"confidence": "conf.", "gate": "gate", "memory": "memory"}  # a router in a pill's detail
ROUTER_NAME = {"confidence": "confidence", "gate": "gate", "memory": "memory clf."}


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted values as (first, last) runs of consecutive ones: [0, 1, 2, 4] → [(0, 2), (4, 4)]."""
    runs: list[list[int]] = []
    for v in sorted(set(values)):
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return [(a, b) for a, b in runs]


def task_list(tasks: Sequence[int]) -> str:
    """0-based tasks as a pill reads them: [0, 1, 2, 4] → "T1–3, T5"."""
    return ", ".join(f"T{a + 1}" if a == b else f"T{a + 1}–{b + 1}" for a, b in _runs(tasks))


def instance_list(instances: Sequence[int]) -> str:
    """Instances of a module as a pill reads them: [0, 1, 3] → "#0–1,3"."""
    return "#" + ",".join(str(a) if a == b else f"{a}–{b}" for a, b in _runs(instances))


def task_words(tasks: Sequence[int]) -> str:
    """0-based tasks in a sentence: [0, 2, 3] → "tasks 1, 3 and 4"."""
    names = [str(t + 1) for t in tasks]
    if len(names) == 1:
        return f"task {names[0]}"
    return "tasks " + ", ".join(names[:-1]) + " and " + names[-1]


def head_badge(paths: list[dict[str, int]], task: int, readout: Readout, index: int, bank: int,
               color: str) -> NodeBadge:
    """The head of ``task``'s path in a class-incremental run: how its predictions are read."""
    mode = readout.mode
    rate = readout.rate(task)
    right = f" It was inferred right for {rate:.0%} of task {task + 1}'s test samples." if rate is not None else ""
    if mode == "unified":
        owners = readout.owners(paths)
        sources = [t for t, owner in enumerate(owners) if owner == t]
        owner = owners[task]
        what = (f"Class-incremental: the heads are not used; one unified classifier (DER, Yan et al. 2021) over "
                f"the concatenated features of {task_words(sources)} predicts every class, one block per "
                f"task with features of its own.")
        if owner == task:
            detail = "feeds"
            mine = f" Task {task + 1}'s features feed it (block {sources.index(task) + 1} of {len(sources)})."
        else:
            detail = f"via T{owner + 1}"
            mine = (f" Task {task + 1}'s path runs the same modules as task {owner + 1}'s up to the head, so its "
                    f"features are task {owner + 1}'s: the classifier reads them once, through that block.")
        return NodeBadge(f"unified ← {task_list(sources)}", color, detail, what + mine + right)
    router = ROUTER_SHORT[mode]
    detail = f"{router} {rate:.0%}" if rate is not None else router
    return NodeBadge(f"own head of T{task + 1}", color, detail,
                     f"Class-incremental: {features.READOUT_TEXT[mode]}; then that task's head answers. "
                     f"Task {task + 1} reads its classes from head instance {index} (bank {bank})." + right)


def trainable_order(report) -> list[str]:
    """Nodes with weights in execution order, without input and head: the expansion's depth axis."""
    if report is None:
        return []
    return [n for n in report.order if n not in (report.input_id, report.head_id)
            and (report.nodes[n].param_count or 0) > 0]


def bank_sizes(paths: list[dict[str, int]], metrics=None) -> dict[str, int]:
    """Instances per node: the run's figure (``RunMetrics.bank_sizes``), or what the paths use."""
    sizes = dict(metrics.bank_sizes) if metrics is not None else {}
    for path in paths:
        for node, index in path.items():
            sizes[node] = max(sizes.get(node, 0), index + 1)
    return sizes


def task_badges(paths: list[dict[str, int]], task: int, report, path_based: bool, trained: int,
                metrics=None, head_color: str = "#b07aa1", readout: Readout | None = None) -> dict[str, NodeBadge]:
    """Badges for ``task``'s path; ``trained`` tasks are finished (their modules frozen if path-based);
    ``readout``: how a class-incremental run reads its predictions (the head's badge says)."""
    if task < 0 or task >= len(paths) or report is None:
        return {}
    sizes = bank_sizes(paths, metrics)
    path = paths[task]
    badges = {}
    for node, index in path.items():
        if node not in report.nodes:
            continue  # the graph changed since the run
        bank = sizes.get(node, index + 1)
        detail = f"bank {bank}"
        if node == report.head_id:
            if readout is not None:
                badges[node] = head_badge(paths, task, readout, index, bank, head_color)
            else:
                badges[node] = NodeBadge(f"own head of T{task + 1}", head_color, detail,
                                         f"Task {task + 1} reads its classes from head instance {index}.")
            continue
        if not (report.nodes[node].param_count or 0):
            continue  # stateless (ReLU, flatten): nothing to reuse or grow
        first = min(s for s in range(len(paths)) if paths[s].get(node) == index)
        done = task < trained
        if not path_based:
            badges[node] = NodeBadge("shared, all tasks", SHARED, detail,
                                     "One instance trained on every task in turn (not frozen).")
        elif first < task:
            badges[node] = NodeBadge(f"reused ← T{first + 1}, frozen", REUSED, detail,
                                     f"Instance {index}, trained for task {first + 1}, frozen and reused.")
        else:
            state = "frozen" if done else "training"
            badges[node] = NodeBadge(f"new, {state}", GROWN, detail,
                                     f"Instance {index}, new for task {task + 1}.")
    return badges


def live_badges(state, report, path_based: bool) -> dict[str, NodeBadge]:
    """The current task while it trains: the expansion's latest candidate, then its decision."""
    task = state.current_task
    if task < 0 or report is None:
        return {}
    sizes = bank_sizes(state.paths, state.metrics)
    badges = {}
    if state.decisions:
        for node, d in state.decisions.items():
            if node not in report.nodes:
                continue
            bank = max(sizes.get(node, 0), (d.instance or 0) + 1)
            if d.kind == "reused":
                badges[node] = NodeBadge(f"reused ← T{(d.from_task or 0) + 1}", REUSED, f"bank {bank}")
            elif path_based:
                badges[node] = NodeBadge("new, training", GROWN, f"bank {bank}")
        return badges
    if state.candidates:
        c = state.candidates[-1]
        order = trainable_order(report)
        reused = range(c.reused) if c.reuse == "prefix" else range(len(order) - c.reused, len(order))
        for depth, node in enumerate(order):
            if depth in reused:
                badges[node] = NodeBadge(f"try reuse ← T{c.source_task + 1}", CANDIDATE, f"val {c.val_accuracy:.0%}")
            else:
                grow = "try grow anew" if c.init == "fresh" else "try grow"
                badges[node] = NodeBadge(grow, CANDIDATE, f"val {c.val_accuracy:.0%}")
    return badges


def readout_badges(paths: list[dict[str, int]], report, readout: Readout | None, metrics=None) -> dict[str, NodeBadge]:
    """Every module's share in the class-incremental readout: the instances whose features the
    unified classifier (or the memory's task classifier) reads; for the gate, the input it reads."""
    if readout is None or report is None:
        return {}
    sizes = bank_sizes(paths, metrics)
    sources = readout.sources(paths) if paths else []
    badges: dict[str, NodeBadge] = {}
    reader = "unified" if readout.mode == "unified" else "task clf."
    if report.head_id in report.nodes:
        if readout.mode == "unified":
            text = f"unified ← {task_list(sources)}" if sources else "unified classifier"
            tip = (f"One unified classifier (DER, Yan et al. 2021) over the concatenated features of "
                   f"{task_words(sources)}: one block per task with features of its own." if sources else
                   "The unified classifier reads every trained task's features.")
            badges[report.head_id] = NodeBadge(text, READOUT, f"{len(sources)} blocks" if sources else "", tip)
        else:
            badges[report.head_id] = NodeBadge(f"routed by {ROUTER_NAME[readout.mode]}", READOUT, "",
                                               f"Class-incremental: {features.READOUT_TEXT[readout.mode]}; then "
                                               "that task's head answers.")
    if readout.mode == "gate" and report.input_id in report.nodes:
        experts = len(paths)
        badges[report.input_id] = NodeBadge("read by the gate", READOUT, f"{experts} AE" if experts else "",
                                            f"The gate keeps one small autoencoder per task ({experts} so far) on "
                                            "the flattened input; the task that reconstructs a sample best "
                                            "answers it.")
    if not readout.reads_features:
        return badges
    for node in readout.feature_nodes:
        if node not in report.nodes or not (report.nodes[node].param_count or 0):
            continue  # stateless: computed, but nothing of its own
        by_instance: dict[int, list[int]] = {}
        for task in sources:
            by_instance.setdefault(paths[task].get(node, 0), []).append(task)
        if not by_instance:
            continue
        instances = sorted(by_instance)
        bank = sizes.get(node, max(instances) + 1)
        lines = "; ".join(f"instance {i} for {task_words(by_instance[i])}" for i in instances)
        what = "the unified classifier" if readout.mode == "unified" else "the memory's task classifier"
        badges[node] = NodeBadge(f"feeds {reader}", READOUT, f"{instance_list(instances)} of {bank}",
                                 f"Features {what} reads come through {lines}.")
    return badges
