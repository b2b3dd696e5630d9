"""The open project as the window sees it: the project, its undo stack, its file path and the
latest check. Views edit only through :meth:`Document.push` and redraw from model events.

The document follows the current project's events (``project.events``) and passes them on as
Qt signals, so a view connects once, to the signals it shows, and keeps working when another
project is opened. The canvas follows the graph's own events (``graph.events``) directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from modstudio.graph.check import CheckReport
from modstudio.graph.commands import Command
from modstudio.gui import undo
from modstudio.project.check import check_project

class Document(QObject):
    project_replaced = Signal()
    checked = Signal(object)  # CheckReport
    name_changed = Signal(str)
    path_changed = Signal()  # saved under another name, or another project opened: the title follows
    settings_changed = Signal(object)  # TrainingSettings
    tasks_changed = Signal()  # a task added, removed, replaced (renamed) or moved
    runs_changed = Signal()  # a run added to or removed from the history
    message = Signal(str)  # a short note for the status bar

    def __init__(self, project: Any, path: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)
        self.project: Any = None
        self.path: Path | None = None
        self.report: CheckReport | None = None
        self._disconnect: list = []
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

    @property
    def display_name(self) -> str:
        """What the title bar and the close prompt call the project: its file's name once it has a
        file (that is what the user looks for on disk), its own name before."""
        return self.path.name if self.path is not None else self.project.name

    def set_project(self, project: Any, path: str | Path | None = None) -> None:
        """Show another project: history is cleared and every view rebinds."""
        for disconnect in self._disconnect:
            disconnect()
        self.project = project
        self.path = Path(path) if path else None
        self._disconnect = self._follow(project)
        self.undo_stack.clear()
        self.recheck()
        self.project_replaced.emit()
        self.path_changed.emit()

    def _follow(self, project) -> list:
        e, g = project.events, project.graph.events
        connections = [
            e.name_changed.connect(self._on_project_name_changed),
            e.settings_changed.connect(self._on_project_settings_changed),
            e.task_added.connect(self._on_project_task_added),
            e.task_removed.connect(self._on_project_task_removed),
            e.task_replaced.connect(self._on_project_task_replaced),
            e.run_added.connect(self._on_project_run_added),
            e.run_removed.connect(self._on_project_run_removed),
            e.run_replaced.connect(self._on_project_run_replaced),
        ]
        # What can change shapes or parameter counts (moves, renames and groups cannot).
        for event in (g.node_added, g.node_removed, g.param_changed, g.edge_added, g.edge_removed):
            connections.append(event.connect(self._on_graph_structure_changed))
        return connections

    def mark_saved(self, path: str | Path) -> None:
        self.path = Path(path)
        self.undo_stack.setClean()
        self.path_changed.emit()  # Save As while already clean changes no clean state

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ edits

    def push(self, command: Command, merge_key: object | None = None) -> str | None:
        """Apply one user edit as an undo step; returns the refusal's reason, shown in the status bar."""
        error = self.locked or undo.push(self.undo_stack, command, self.project, merge_key=merge_key)
        if error:
            self.message.emit(error)
        return error

    # ------------------------------------------------------------------ model events

    def _on_project_name_changed(self, name: str) -> None:
        self.name_changed.emit(name)

    def _on_project_settings_changed(self, settings, old) -> None:
        self.settings_changed.emit(settings)

    def _on_project_task_added(self, index: int, task) -> None:
        self._tasks_edited()

    def _on_project_task_removed(self, index: int, task) -> None:
        self._tasks_edited()

    def _on_project_task_replaced(self, index: int, task, old) -> None:
        self._tasks_edited()

    def _tasks_edited(self) -> None:
        self._dirty_check = True  # the tasks give the input shape and class count, and must fit the network
        self.tasks_changed.emit()

    def _on_project_run_added(self, index: int, run) -> None:
        self.runs_changed.emit()

    def _on_project_run_removed(self, index: int, run) -> None:
        self.runs_changed.emit()

    def _on_project_run_replaced(self, index: int, run, old) -> None:
        self.runs_changed.emit()

    def _on_graph_structure_changed(self, *payload) -> None:
        self._dirty_check = True

    # ------------------------------------------------------------------ checking

    def recheck(self) -> CheckReport:
        """The graph checked with the tasks (``project.check``): shapes, and whether the tasks fit it."""
        self._dirty_check = False
        self.report = check_project(self.project)
        self.checked.emit(self.report)
        return self.report

    def _on_undo_stack_index_changed(self, index: int) -> None:
        if self._dirty_check:  # once per edit (a macro's many changes, one check)
            self.recheck()
