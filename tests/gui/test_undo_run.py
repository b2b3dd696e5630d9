"""Ctrl+Z that would delete a trained run asks first; other undos (and a run that trained nothing) don't."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from modstudio.project import Run
from modstudio.project.commands import AddRun
from tests.gui.helpers import add


def kept_run(window, paths) -> Run:
    run = Run(strategy="expansion", status="finished", paths=paths)
    assert window.document.push(AddRun(run)) is None
    return run


def test_undoing_a_trained_run_asks_and_keep_keeps_it(window, script):
    node = add(window, "relu")
    run = kept_run(window, [{node: 0}])
    assert window.undo_action.text() == "&Undo expansion training run"
    script.answer("ask_undo_run", False)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert script.called("ask_undo_run") == [(window, run)]
    assert list(window.document.project.runs) == [run]  # kept, and the stack unchanged
    assert window.document.undo_stack.index() == 2

    script.answer("ask_undo_run", True)
    window.undo_action.trigger()
    assert list(window.document.project.runs) == []
    window.undo_action.trigger()  # the node: no question
    assert len(script.called("ask_undo_run")) == 2 and not window.document.graph.nodes
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert list(window.document.project.runs) == [run]


def test_a_run_that_trained_no_task_is_undone_without_asking(window, script):
    kept_run(window, [])
    window.undo_action.trigger()
    assert not script.called("ask_undo_run") and list(window.document.project.runs) == []
    assert not window.undo_action.isEnabled()
