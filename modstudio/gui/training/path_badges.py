"""What the modules did for one task, as canvas badges: reused (from which task), grown, shared,
frozen, the task's own head, and the bank size of every node; live candidates during a search."""

from __future__ import annotations

from modstudio.gui.canvas.node_item import NodeBadge

REUSED = "#4e9af1"
GROWN = "#3fb56a"
SHARED = "#7b8698"
CANDIDATE = "#d9a514"


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
                metrics=None, head_color: str = "#b07aa1") -> dict[str, NodeBadge]:
    """Badges for ``task``'s path; ``trained`` tasks are finished (their modules frozen if path-based)."""
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
        for depth, node in enumerate(order):
            if depth < c.reused:
                badges[node] = NodeBadge(f"try reuse ← T{c.source_task + 1}", CANDIDATE, f"val {c.val_accuracy:.0%}")
            else:
                badges[node] = NodeBadge("try grow", CANDIDATE, f"val {c.val_accuracy:.0%}")
    return badges
