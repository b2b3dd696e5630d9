"""Undoable edits of a project beyond its graph: the task list, the name, the training settings
and the run history. Qt-free, with the graph commands' protocol (``do``/``undo``, ``text``), so
one stack serves both: the studio's QUndoStack through its adapter, or headless
:class:`~modstudio.graph.commands.CommandStack` over a project::

    stack = CommandStack(project)
    stack.push(AddTasks(split_by_class(digits, n_tasks=5)))
    stack.push(ChangeSettings(epochs=10))
    stack.undo()

Commands change only the model; the project's events tell the views.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

from modstudio.graph.commands import Command


class ProjectCommand(Command):
    """An edit whose target is the project itself (not its graph)."""

    def target(self, root: Any) -> Any:
        return root


# ---------------------------------------------------------------------------- tasks


class AddTasks(ProjectCommand):
    def __init__(self, tasks: Sequence[Any], index: int | None = None) -> None:
        self.tasks, self.index = list(tasks), index
        self.text = "add task" if len(self.tasks) == 1 else f"add {len(self.tasks)} tasks"

    def do(self, project: Any) -> None:
        at = len(project.tasks) if self.index is None else self.index
        project.tasks[at:at] = self.tasks
        self._at = at

    def undo(self, project: Any) -> None:
        del project.tasks[self._at:self._at + len(self.tasks)]


class RemoveTasks(ProjectCommand):
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


class MoveTask(ProjectCommand):
    """Move the task at ``src`` so that it ends up at index ``dst``."""

    def __init__(self, src: int, dst: int) -> None:
        self.src, self.dst, self.text = src, dst, "reorder tasks"

    def do(self, project: Any) -> None:
        project.tasks.insert(self.dst, project.tasks.pop(self.src))

    def undo(self, project: Any) -> None:
        project.tasks.insert(self.src, project.tasks.pop(self.dst))


class RenameTask(ProjectCommand):
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


class AugmentTask(ProjectCommand):
    """Give the task at ``index`` another augmentation (``data/augment.py``); the data stays."""

    def __init__(self, index: int, augmentation: Any) -> None:
        self.index, self.augmentation, self.old, self.text = index, augmentation, None, "change augmentation"

    def do(self, project: Any) -> None:
        self.old = project.tasks[self.index]
        project.tasks[self.index] = self.old.with_augmentation(self.augmentation)  # DataError: not images

    def undo(self, project: Any) -> None:
        project.tasks[self.index] = self.old


class NormalizeTasks(ProjectCommand):
    """Standardise the features of the tasks at ``indices`` together (``on``: mean 0, sd 1 per
    channel over the union of their training splits, one map for all; ``data.tasks.normalize_tasks``),
    or read them as imported again (``on=False``); one step. DataError for a task of float features,
    before anything changes."""

    def __init__(self, indices: Sequence[int], on: bool = True) -> None:
        self.indices, self.on = sorted(set(indices)), bool(on)
        self.old: list[Any] = []
        self.new: list[Any] = []
        self.text = "normalise tasks" if self.on else "stop normalising tasks"
        if len(self.indices) == 1:
            self.text = self.text.replace("tasks", "task")

    def do(self, project: Any) -> None:
        from modstudio.data.tasks import normalize_tasks

        old = [project.tasks[i] for i in self.indices]
        if not self.new or any(a is not b for a, b in zip(old, self.old)):  # a redo reuses the statistics
            self.new = normalize_tasks(old, self.on)
        self.old = old
        for i, task in zip(self.indices, self.new):
            project.tasks[i] = task

    def undo(self, project: Any) -> None:
        for i, task in zip(self.indices, self.old):
            project.tasks[i] = task


# ---------------------------------------------------------------------------- name and settings


class RenameProject(ProjectCommand):
    def __init__(self, name: str) -> None:
        if not name.strip():
            raise ValueError("a project's name cannot be empty")
        self.name, self.old, self.text = name.strip(), "", "rename project"

    def do(self, project: Any) -> None:
        self.old = project.name
        project.name = self.name

    def undo(self, project: Any) -> None:
        project.name = self.old


class ChangeSettings(ProjectCommand):
    """Change one or more training settings as one step; each value is checked (SettingsError)."""

    def __init__(self, text: str | None = None, **changes: Any) -> None:
        if not changes:
            raise ValueError("no setting to change")
        self.changes, self.old = changes, None
        self.text = text or "set " + ", ".join(name.replace("_", " ") for name in changes)

    def do(self, project: Any) -> None:
        self.old = project.settings
        project.settings = project.settings.replace(**self.changes)

    def undo(self, project: Any) -> None:
        project.settings = self.old


# ---------------------------------------------------------------------------- runs


class AddRun(ProjectCommand):
    """Keep a finished, stopped or failed run in the project (undo removes it again)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.text = f"{run.strategy} training run"

    def do(self, project: Any) -> None:
        project.runs.append(self.run)

    def undo(self, project: Any) -> None:
        index = next(i for i, r in enumerate(project.runs) if r is self.run)
        del project.runs[index]


__all__ = ["ProjectCommand", "AddTasks", "RemoveTasks", "MoveTask", "RenameTask", "AugmentTask", "NormalizeTasks",
           "RenameProject", "ChangeSettings", "AddRun"]
