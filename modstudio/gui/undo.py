"""The Qt side of undo: one QUndoCommand adapter over the Qt-free commands.

``redo()`` runs ``command.do(target)`` and ``undo()`` runs ``command.undo(target)``, where the
target is the part of the project the command edits (``command.target(project)``: its graph, or
the project itself); the first redo happens when the command is pushed. A command the model
refuses on that first redo marks itself obsolete, so QUndoStack drops it instead of recording
an edit that never happened, and the refusal's message is kept for the caller to show. Views
redraw from the model's events, never from here.

The window's Undo is :func:`guarded_undo_action`: an undo that would delete a trained run (undoing
its ``AddRun``) asks first, since a run can take hours to train again.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QUndoCommand, QUndoStack

from modstudio.graph.commands import Command, MoveNodes
from modstudio.graph.model import GraphError
from modstudio.project.commands import AddRun

MOVE_ID = 1001

# What a refused edit may raise: the model's GraphError and SettingsError (ValueErrors), ValueError
# from the project's edits, and KeyError for ids that vanished.
REFUSALS = (ValueError, KeyError)


class UndoAdapter(QUndoCommand):
    """Wraps one model command; ``merge_key`` lets consecutive moves of one drag merge."""

    def __init__(self, command: Command, root: Any, merge_key: object | None = None) -> None:
        super().__init__(command.text)
        self.command, self.target, self.merge_key = command, command.target(root), merge_key
        self.error: str | None = None
        self._pushed = False

    def redo(self) -> None:
        try:
            self.command.do(self.target)
        except REFUSALS as exc:
            if self._pushed:  # a redo that worked before must work again; don't hide a bug
                raise
            self.error = _message(exc)
            self.setObsolete(True)
        finally:
            self._pushed = True

    def undo(self) -> None:
        self.command.undo(self.target)

    def id(self) -> int:
        return MOVE_ID if isinstance(self.command, MoveNodes) and self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, UndoAdapter) or other.merge_key != self.merge_key:
            return False
        return self.command.merge(other.command)


def push(stack: QUndoStack, command: Command, root: Any, merge_key: object | None = None) -> str | None:
    """Push ``command`` over ``root`` (the project); None when applied, or the model's reason for refusing it."""
    adapter = UndoAdapter(command, root, merge_key)
    stack.push(adapter)
    return adapter.error


def trained_run_undone(stack: QUndoStack) -> Any | None:
    """The run the next undo would delete when it trained at least one task (an ``AddRun``), else None."""
    if not stack.canUndo():
        return None
    command = getattr(stack.command(stack.index() - 1), "command", None)
    if isinstance(command, AddRun) and command.run.paths:
        return command.run
    return None


def guarded_undo_action(stack: QUndoStack, parent: QObject, prefix: str,
                        confirm: Callable[[Any], bool]) -> QAction:
    """``stack.createUndoAction(parent, prefix)``, except that an undo deleting a trained run happens
    only when ``confirm(run)`` says so."""
    action = QAction(prefix, parent)

    def on_text(text: str) -> None:
        action.setText(f"{prefix} {text}" if text else prefix)

    def on_triggered() -> None:
        run = trained_run_undone(stack)
        if run is None or confirm(run):
            stack.undo()

    stack.canUndoChanged.connect(action.setEnabled)
    stack.undoTextChanged.connect(on_text)
    action.triggered.connect(on_triggered)
    action.setEnabled(stack.canUndo())
    on_text(stack.undoText())
    return action


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


__all__ = ["UndoAdapter", "push", "trained_run_undone", "guarded_undo_action", "GraphError"]
