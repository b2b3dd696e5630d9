"""The project's check: the graph's shapes against the tasks' data, before anything trains.

``graph.check`` knows the network only (it lives below the data layer); a network that checks out
can still fail on the first batch when its tasks do not fit it. This check adds what the trainer
would otherwise find out the hard way, after a failed run: the Input's shape against every task's
samples, the tasks' shapes among themselves (one network takes one input shape), and a head of a
fixed width against every task's classes. Each problem sits on the node to change and names the
tasks it is about, with both shapes and what to change.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from modstudio.graph.catalog import fmt_shape
from modstudio.graph.check import CheckError, CheckReport, ErrorKind

Shape = tuple[int, ...]
LISTED = 6  # tasks named in one message; more are counted


def check_project(project: Any) -> CheckReport:
    """``project.graph.check`` with the first task's shape and classes, plus the tasks' problems."""
    tasks = list(project.tasks)
    first = tasks[0] if tasks else None
    report = project.graph.check(input_shape=tuple(first.sample_shape) if first else None,
                                 classes=int(first.num_classes) if first else None)
    for error in task_errors(project.graph, report, tasks):
        report.add(error)
    return report


def task_errors(graph: Any, report: CheckReport, tasks: Sequence[Any]) -> list[CheckError]:
    """What the tasks' data says against ``graph`` (whose ``report`` found its input and head)."""
    errors: list[CheckError] = []
    if tasks and report.input_id is not None:
        errors += _shape_errors(graph.nodes[report.input_id], tasks)
    if tasks and report.head_id is not None:
        errors += _class_errors(graph.nodes[report.head_id], tasks)
    return errors


def _shape_errors(node: Any, tasks: Sequence[Any]) -> list[CheckError]:
    shapes = [tuple(int(d) for d in t.sample_shape) for t in tasks]
    set_here: Shape = tuple(node.params.get("shape") or ())
    errors = []
    if set_here and set_here not in shapes:
        # no task fits the shape typed on the Input: the Input is what to change, to the first task's
        first = shapes[0]
        whose = "the tasks' samples are" if len(set(shapes)) == 1 else f"task 1 “{tasks[0].name}” has samples of"
        flatten = (f", and put a Flatten after {node.name} to give the layers after it {math.prod(first)} features"
                   if len(first) > 1 and math.prod(first) == math.prod(set_here) else "")
        message = (f"{node.name}: its shape is set to {fmt_shape(set_here)} but {whose} {fmt_shape(first)}: set the "
                   f"shape to {_typed(first)} or leave it empty to take the tasks' shape{flatten}")
        errors.append(CheckError(ErrorKind.TASK_SHAPE, message, node.id, tuple(range(len(tasks)))))
        set_here = ()  # the tasks among themselves, below, against the first
    expected = set_here or shapes[0]
    source = (f"the shape set on {node.name}" if set_here
              else f"the shape of task 1 “{tasks[0].name}”, which {node.name} takes")
    wrong: dict[Shape, list[int]] = {}
    for index, shape in enumerate(shapes):
        if shape != expected:
            wrong.setdefault(shape, []).append(index)
    for shape, indices in wrong.items():
        them = "it" if len(indices) == 1 else "them"
        message = (f"{node.name}: {_tasks_text(indices, tasks)} {'has' if len(indices) == 1 else 'have'} samples of "
                   f"{fmt_shape(shape)} but the network takes {fmt_shape(expected)}, {source}: one network takes "
                   f"one input shape, so remove {them} or make {them} from data of {fmt_shape(expected)}")
        errors.append(CheckError(ErrorKind.TASK_SHAPE, message, node.id, tuple(indices)))
    return errors


def _class_errors(node: Any, tasks: Sequence[Any]) -> list[CheckError]:
    fixed = int(node.params.get("classes") or 0)
    if not fixed:
        return []  # 0: each task's head takes that task's width
    indices = [i for i, t in enumerate(tasks) if int(t.num_classes) != fixed]
    if not indices:
        return []
    counts = sorted({int(tasks[i].num_classes) for i in indices})
    have = " or ".join(str(c) for c in counts)
    message = (f"{node.name}: its classes are set to {fixed} but {_tasks_text(indices, tasks)} "
               f"{'has' if len(indices) == 1 else 'have'} {have}: set its classes to 0 to give each task's head "
               "that task's width")
    return [CheckError(ErrorKind.TASK_CLASSES, message, node.id, tuple(indices))]


def _tasks_text(indices: Sequence[int], tasks: Sequence[Any]) -> str:
    if len(indices) == 1:
        return f"task {indices[0] + 1} “{tasks[indices[0]].name}”"
    numbers = [str(i + 1) for i in indices]
    if len(numbers) > LISTED:
        return f"tasks {', '.join(numbers[:LISTED])} and {len(numbers) - LISTED} more"
    return f"tasks {', '.join(numbers[:-1])} and {numbers[-1]}"


def _typed(shape: Shape) -> str:
    """A shape as the Input's shape field takes it: 64 or 1,8,8."""
    return ",".join(str(d) for d in shape)

