"""A task's augmentation in the studio: chosen in Add Tasks, shown and changed in the Tasks panel,
undoable."""

from __future__ import annotations

from modstudio import data
from modstudio.data import Augmentation
from modstudio.gui.tasks_panel import PREPARATION_COLUMN

CROP_FLIP = Augmentation(crop_padding=4, flip=True)


def _column(panel, column=PREPARATION_COLUMN):
    return [panel.tree.topLevelItem(i).text(column) for i in range(panel.tree.topLevelItemCount())]


def test_add_tasks_asks_the_augmentation_for_images_only(window, script):
    seen = {}

    def run(dialog):
        dialog.select_builtin("blobs")  # rows of features: nothing to crop or flip
        seen["blobs"] = dialog.augmentation.isEnabled()
        dialog.select_builtin("digits")
        seen["digits"] = dialog.augmentation.isEnabled()
        dialog.augmentation.crop.setValue(2)
        dialog.augmentation.flip.setChecked(True)
        dialog.builder_combo.setCurrentIndex(dialog.builder_combo.findData("split"))
        dialog.n_tasks.setValue(5)
        dialog.accept()
        return True

    script.answer("exec_dialog", run)
    assert window.tasks_panel.open_dialog()
    assert seen == {"blobs": False, "digits": True}
    tasks = window.document.project.tasks
    assert len(tasks) == 5 and {t.augmentation for t in tasks} == {Augmentation(crop_padding=2, flip=True)}
    assert _column(window.tasks_panel) == ["crop ±2 px, flip"] * 5
    window.undo_action.trigger()
    assert len(window.document.project.tasks) == 0


def test_the_panel_shows_and_changes_the_selected_tasks_augmentation_undoably(window, script):
    panel = window.tasks_panel
    images = data.split_by_class(data.load_builtin("digits"), n_tasks=3)
    assert panel.add_tasks([images[0].with_augmentation(Augmentation(flip=True)), images[1], images[2]])
    assert panel.tree.headerItem().text(PREPARATION_COLUMN) == "Preparation"
    assert _column(panel) == ["flip", "–", "–"]
    project = window.document.project
    before = list(project.tasks)

    def choose(dialog):
        assert dialog.editor.augmentation() == Augmentation()  # starts from the first selected task's
        dialog.editor.crop.setValue(4)
        dialog.editor.flip.setChecked(True)
        return True

    panel.tree.clearSelection()
    for i in (1, 2):
        panel.tree.topLevelItem(i).setSelected(True)
    assert panel.augment_button.isEnabled()
    script.answer("exec_dialog", choose)
    assert panel.augment_selected()
    assert [t.augmentation for t in project.tasks] == [Augmentation(flip=True), CROP_FLIP, CROP_FLIP]
    assert _column(panel) == ["flip", "crop ±4 px, flip", "crop ±4 px, flip"]
    assert window.document.undo_stack.undoText() == "change augmentation"
    window.undo_action.trigger()  # both tasks in one step
    assert list(project.tasks) == before and _column(panel) == ["flip", "–", "–"]
    window.redo_action.trigger()
    assert _column(panel) == ["flip", "crop ±4 px, flip", "crop ±4 px, flip"]

    def turn_off(dialog):
        assert dialog.editor.augmentation() == Augmentation(flip=True)
        dialog.editor.flip.setChecked(False)
        return True

    script.answer("exec_dialog", turn_off)  # a double-click on the column edits that row
    item = panel.tree.topLevelItem(0)
    panel.tree.itemDoubleClicked.emit(item, PREPARATION_COLUMN)
    assert project.tasks[0].augmentation == Augmentation() and _column(panel)[0] == "–"


def test_tasks_that_are_not_images_cannot_be_augmented(window):
    panel = window.tasks_panel
    assert panel.add_tasks(data.split_by_class(data.load_builtin("blobs", n_classes=4), n_tasks=2))
    panel.tree.topLevelItem(0).setSelected(True)
    assert not panel.augment_button.isEnabled()
    assert not panel.augment_selected()  # nothing asked (an unexpected dialog would fail the test)
    assert "Only images" in panel.tree.topLevelItem(0).toolTip(PREPARATION_COLUMN)
