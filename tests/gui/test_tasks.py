"""Tasks from data: import through the preview dialog, builders, and undoable list edits."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from modstudio.gui.tasks_panel import COLUMNS
from tests.gui.helpers import chain


def write_csv(path, n=60, features=5, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, features)) + y[:, None]
    header = ",".join([f"f{i}" for i in range(features)] + ["kind"])
    rows = [",".join([f"{v:.4f}" for v in row] + [f"c{label}"]) for row, label in zip(x, y)]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def accept_with(builder: str, n_tasks: int = 2):
    """A scripted exec_dialog: check the preview, choose how to cut tasks, press Add."""
    seen = {}

    def run(dialog):
        seen["summary"] = dialog.summary.text()
        seen["counts"] = list(dialog.counts.counts)
        seen["error"] = dialog.error.text()
        dialog.builder_combo.setCurrentIndex(dialog.builder_combo.findData(builder))
        dialog.n_tasks.setValue(n_tasks)
        dialog.add_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    return run, seen


def test_dropping_a_csv_on_the_window_imports_it_as_tasks(window, script, tmp_path):
    x, h, head = chain(window, ("input", {}), ("linear", {"out_features": 8}), ("head", {}))
    assert not window.document.report.ok  # no shape yet: the input waits for a task
    csv = write_csv(tmp_path / "shapes.csv")
    run, seen = accept_with("split", 2)
    script.answer("exec_dialog", run)
    window.open_paths([str(csv)])

    assert "60 samples" in seen["summary"] and seen["error"] == ""
    assert seen["counts"] == [("c0", 15), ("c1", 15), ("c2", 15), ("c3", 15)]
    tasks = window.document.project.tasks
    assert [t.classes for t in tasks] == [[0, 1], [2, 3]]
    tree = window.tasks_panel.tree
    assert tree.topLevelItemCount() == 2
    assert tree.topLevelItem(0).text(2) == "c0, c1" and "shapes.csv" in tree.topLevelItem(0).text(COLUMNS.index("Source"))
    # the input takes its shape from the first task, the head its width
    report = window.document.report
    assert report.ok, report.summary()
    assert report.nodes[x].shape == (5,) and report.nodes[head].shape == (2,)

    window.undo_action.trigger()
    assert window.document.project.tasks == [] and tree.topLevelItemCount() == 0
    assert not window.document.report.ok
    window.redo_action.trigger()
    assert len(window.document.project.tasks) == 2


def test_import_errors_are_shown_in_plain_words_and_nothing_is_added(window, script, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    seen = {}

    def run(dialog):
        seen["error"] = dialog.error.text()
        seen["enabled"] = dialog.add_button.isEnabled()
        dialog.reject()
        return False

    script.answer("exec_dialog", run)
    window.open_paths([str(bad)])
    assert "bad.csv" in seen["error"] and seen["enabled"] is False
    assert window.document.project.tasks == []


def test_builtin_digits_rotated_sequence_with_image_preview(window, script):
    from modstudio.gui.dataset_dialog import DatasetDialog

    seen = {}

    def run(dialog: DatasetDialog):
        dialog.select_builtin("digits")
        seen["pixmap"] = dialog.samples_label.pixmap()
        seen["page"] = dialog.samples.currentIndex()
        dialog.builder_combo.setCurrentIndex(dialog.builder_combo.findData("rotated"))
        dialog.n_tasks.setValue(3)
        dialog.accept()
        return True

    script.answer("exec_dialog", run)
    assert window.tasks_panel.open_dialog()
    assert seen["page"] == 0 and not seen["pixmap"].isNull()  # images shown as a grid
    names = [t.name for t in window.document.project.tasks]
    assert names == ["digits rotated 0°", "digits rotated 60°", "digits rotated 120°"]


def test_reorder_rename_remove_are_undoable(window):
    from modstudio import data

    tasks = data.split_by_class(data.load_builtin("blobs", n_classes=6), n_tasks=3)
    panel = window.tasks_panel
    assert panel.add_tasks(tasks)
    project = window.document.project
    first, second, third = project.tasks

    panel._on_tree_move_requested(0, 2)  # what a drag of row 1 below row 3 asks for
    assert project.tasks == [second, third, first]
    assert panel.tree.topLevelItem(2).text(1) == first.name
    window.undo_action.trigger()
    assert project.tasks == [first, second, third]

    item = panel.tree.topLevelItem(1)
    item.setText(1, "middle")  # what the inline editor commits
    assert project.tasks[1].name == "middle" and second.name != "middle"
    window.undo_action.trigger()
    assert project.tasks[1] is second

    panel.tree.clearSelection()
    panel.tree.topLevelItem(0).setSelected(True)
    panel.tree.setFocus()
    from PySide6.QtTest import QTest

    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert project.tasks == [second, third]
    window.undo_action.trigger()
    assert project.tasks == [first, second, third]


def test_drag_reorder_in_the_list(window, qtbot):
    from modstudio import data

    tasks = data.split_by_class(data.load_builtin("blobs", n_classes=6), n_tasks=3)
    window.tasks_panel.add_tasks(tasks)
    tree = window.tasks_panel.tree
    tree.setCurrentItem(tree.topLevelItem(0))
    from PySide6.QtCore import QMimeData, QPointF
    from PySide6.QtGui import QDropEvent

    target = tree.visualItemRect(tree.topLevelItem(2)).center()
    event = QDropEvent(QPointF(target.x(), target.y() + 3), Qt.DropAction.MoveAction, QMimeData(),
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    event.source = lambda: tree  # a drop that started in this list
    tree.dropEvent(event)
    assert [t.name for t in window.document.project.tasks] == [tasks[1].name, tasks[2].name, tasks[0].name]
