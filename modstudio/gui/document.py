"""The open project as the window sees it: the project, its undo stack, its file path and the
latest check. Views edit only through :meth:`Document.push` and redraw from model events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from modstudio.graph.check import CheckReport
from modstudio.graph.commands import Command
from modstudio.graph.events import GraphEvent
from modstudio.gui import undo
from modstudio.gui.edits import SetProjectField, TaskCommand

# Events that cannot change shapes or counts; everything else triggers a re-check.
_NO_RECHECK = {"node_moved", "node_renamed", "group_added", "group_removed", "group_renamed",
               "node_group_changed"}


class Document(QObject):
    project_replaced = Signal()
    checked = Signal(object)  # CheckReport
    tasks_changed = Signal()
    project_changed = Signal()  # name or training settings
    message = Signal(str)  # a short note for the status bar

    def __init__(self, project: Any, path: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)
        self.project: Any = None
        self.path: Path | None = None
        self.report: CheckReport | None = None
        self._unsubscribe = None
        self._dirty_check = False
        self.locked: str | None = None  # why edits are refused right now (a run is training), or None
        self.set_project(project, path)

    # ------------------------------------------------------------------ project

    @property
    def graph(self):
        return self.project.graph

    @property
    def name(self) -> str:
        return self.project.name

    def set_project(self, project: Any, path: str | Path | None = None) -> None:
        """Show another project: history is cleared and every view rebinds."""
        if self._unsubscribe:
            self._unsubscribe()
        self.project = project
        self.path = Path(path) if path else None
        self._unsubscribe = project.graph.subscribe(self._on_graph_event)
        self.undo_stack.clear()
        self.recheck()
        self.project_replaced.emit()

    def mark_saved(self, path: str | Path) -> None:
        self.path = Path(path)
        self.undo_stack.setClean()

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ edits

    def push(self, command: Command, merge_key: object | None = None) -> str | None:
        """Apply one user edit as an undo step; returns the refusal's reason, shown in the status bar."""
        if self.locked:
            self.message.emit(self.locked)
            return self.locked
        if isinstance(command, TaskCommand):
            error = undo.push(self.undo_stack, command, self.project, self._after_tasks_edit)
        elif isinstance(command, SetProjectField):
            error = undo.push(self.undo_stack, command, self.project, self.project_changed.emit)
        else:
            error = undo.push(self.undo_stack, command, self.project.graph, merge_key=merge_key)
        if error:
            self.message.emit(error)
        return error

    def _after_tasks_edit(self) -> None:
        self._dirty_check = True
        self.tasks_changed.emit()

    # ------------------------------------------------------------------ checking

    def check_inputs(self) -> dict[str, Any]:
        """The input shape and class count the first task supplies to 'from the task' params."""
        tasks = list(self.project.tasks)
        if not tasks:
            return {}
        first = tasks[0]
        return {"input_shape": tuple(first.sample_shape), "classes": int(first.num_classes)}

    def recheck(self) -> CheckReport:
        self._dirty_check = False
        self.report = self.project.graph.check(**self.check_inputs())
        self.checked.emit(self.report)
        return self.report

    def _on_graph_event(self, event: GraphEvent) -> None:
        if event.name not in _NO_RECHECK:
            self._dirty_check = True

    def _on_undo_stack_index_changed(self, index: int) -> None:
        if self._dirty_check:
            self.recheck()
