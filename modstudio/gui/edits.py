"""Qt-free undoable edits that the graph layer does not provide: the task list, project fields and
group labels. Same protocol as :class:`modstudio.graph.commands.Command` (``do``/``undo`` over a
target), so one QUndoCommand adapter serves them all.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Sequence

from modstudio.graph.commands import Command
from modstudio.graph.model import Graph, GraphError


class TaskCommand(Command):
    """An edit of ``project.tasks`` (a plain list): the target passed to do/undo is the project."""


class AddTasks(TaskCommand):
    def __init__(self, tasks: Sequence[Any], index: int | None = None) -> None:
        self.tasks, self.index = list(tasks), index
        self.text = "add task" if len(self.tasks) == 1 else f"add {len(self.tasks)} tasks"

    def do(self, project: Any) -> None:
        at = len(project.tasks) if self.index is None else self.index
        project.tasks[at:at] = self.tasks
        self._at = at

    def undo(self, project: Any) -> None:
        del project.tasks[self._at:self._at + len(self.tasks)]


class RemoveTasks(TaskCommand):
    def __init__(self, indices: Sequence[int]) -> None:
        self.indices = sorted(set(indices))
        self.removed: list[tuple[int, Any]] = []
        self.text = "remove task" if len(self.indices) == 1 else "remove tasks"

    def do(self, project: Any) -> None:
        self.removed = [(i, project.tasks[i]) for i in self.indices]
        for i in reversed(self.indices):
            del project.tasks[i]

    def undo(self, project: Any) -> None:
        for i, task in self.removed:
            project.tasks.insert(i, task)


class MoveTask(TaskCommand):
    """Move the task at ``src`` so that it ends up at index ``dst``."""

    def __init__(self, src: int, dst: int) -> None:
        self.src, self.dst, self.text = src, dst, "reorder tasks"

    def do(self, project: Any) -> None:
        project.tasks.insert(self.dst, project.tasks.pop(self.src))

    def undo(self, project: Any) -> None:
        project.tasks.insert(self.src, project.tasks.pop(self.dst))


class RenameTask(TaskCommand):
    def __init__(self, index: int, name: str) -> None:
        if not name.strip():
            raise ValueError("a task's name cannot be empty")
        self.index, self.name, self.old, self.text = index, name.strip(), None, "rename task"

    def do(self, project: Any) -> None:
        self.old = project.tasks[self.index]
        renamed = copy.copy(self.old)  # a new object, so undo gives back the untouched original
        renamed.name = self.name
        project.tasks[self.index] = renamed

    def undo(self, project: Any) -> None:
        project.tasks[self.index] = self.old


class SetProjectField(Command):
    """Set ``project.name`` or one training setting (``settings.<field>``), frozen dataclasses too."""

    def __init__(self, field: str, value: Any) -> None:
        self.field, self.value, self.old = field, value, None
        self.text = f"set {field.split('.')[-1].replace('_', ' ')}"

    def do(self, project: Any) -> None:
        self.old = self._get(project)
        self._set(project, self.value)

    def undo(self, project: Any) -> None:
        self._set(project, self.old)

    def _get(self, project: Any) -> Any:
        obj = project
        for part in self.field.split("."):
            obj = getattr(obj, part)
        return obj

    def _set(self, project: Any, value: Any) -> None:
        *parents, last = self.field.split(".")
        if not parents:
            setattr(project, last, value)
            return
        holder = getattr(project, parents[0])
        setattr(project, parents[0], _with(holder, **{last: value}))


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


def _with(obj: Any, **changes: Any) -> Any:
    """A copy with ``changes`` for dataclasses (frozen or not), else the same object changed."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **changes)
    for key, value in changes.items():
        setattr(obj, key, value)
    return obj
