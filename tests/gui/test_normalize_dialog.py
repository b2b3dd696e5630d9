"""Normalisation in the studio: Add Tasks offers it for byte tasks, the Tasks panel's Augment… dialog
turns it on and off for the selected tasks together (one undo step), the column says "mean/sd", and
float tasks cannot have it (the box disabled, saying why)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from modstudio import data
from modstudio.data import UNIT, Augmentation, Dataset, Encoded
from modstudio.gui.augmentation import AugmentationDialog
from modstudio.gui.tasks_panel import PREPARATION_COLUMN
from tests.gui.test_dataset_dialog_images import image_folder


def _column(panel):
    return [panel.tree.topLevelItem(i).text(PREPARATION_COLUMN) for i in range(panel.tree.topLevelItemCount())]


def _select(panel, *rows):
    panel.tree.clearSelection()
    for i in rows:
        panel.tree.topLevelItem(i).setSelected(True)


@pytest.fixture
def byte_tasks():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(240, 3, 8, 8), dtype=np.uint8)
    x[:, 0] //= 3
    return data.split_by_class(Dataset(Encoded(x, UNIT), np.arange(240) % 6, name="bytes"), n_tasks=3)


def test_add_tasks_normalises_the_byte_tasks_it_makes_together(window, script, tmp_path):
    folder = image_folder(tmp_path / "pets", size=(8, 8), classes=("a", "b", "c", "d"), per_class=10)
    seen = {}

    def run(dialog):
        dialog.select_builtin("digits")  # images, but float features
        seen["digits"] = (dialog.augmentation.isEnabled(), dialog.augmentation.normalize.isEnabled(),
                          dialog.augmentation.normalize.toolTip())
        dialog.set_path(str(folder))
        assert dialog.augmentation.normalize.isEnabled()
        dialog.builder_combo.setCurrentIndex(dialog.builder_combo.findData("rotated"))  # rotation makes floats
        seen["rotated"] = dialog.augmentation.normalize.isEnabled()
        dialog.builder_combo.setCurrentIndex(dialog.builder_combo.findData("split"))
        dialog.n_tasks.setValue(2)
        dialog.augmentation.flip.setChecked(True)
        dialog.augmentation.normalize.setChecked(True)
        dialog.accept()
        return True

    script.answer("exec_dialog", run)
    assert window.tasks_panel.open_dialog()
    enabled, normalizable, tip = seen["digits"]
    assert enabled and not normalizable and "stored as float features" in tip
    assert seen["rotated"] is False
    tasks = window.document.project.tasks
    assert len(tasks) == 2 and len({t.values for t in tasks}) == 1
    assert all(t.normalization is not None and t.augmentation == Augmentation(flip=True) for t in tasks)
    features = np.concatenate([t.train.floats() for t in tasks]).astype(np.float64)
    np.testing.assert_allclose(features.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    assert _column(window.tasks_panel) == ["flip, mean/sd"] * 2


def test_the_dialogs_checkbox_normalises_the_selected_tasks_in_one_undo_step(window, script, byte_tasks):
    panel = window.tasks_panel
    assert panel.add_tasks(byte_tasks)
    project = window.document.project
    before = list(project.tasks)
    _select(panel, 0, 2)
    assert panel.augment_button.isEnabled()

    def normalise(dialog):
        assert dialog.editor.normalized() is False and dialog.editor.normalize.isEnabled()
        assert "the selected tasks' training data" in dialog.editor.normalize.text()
        dialog.editor.normalize.setChecked(True)
        return True

    script.answer("exec_dialog", normalise)
    assert panel.augment_selected()
    assert _column(panel) == ["mean/sd", "–", "mean/sd"]
    assert project.tasks[0].values == project.tasks[2].values != UNIT and project.tasks[1] is before[1]
    assert "mean" in panel.tree.topLevelItem(0).toolTip(PREPARATION_COLUMN)
    assert window.document.undo_stack.undoText() == "normalise tasks"
    window.undo_action.trigger()
    assert list(project.tasks) == before and _column(panel) == ["–"] * 3
    window.redo_action.trigger()
    assert _column(panel) == ["mean/sd", "–", "mean/sd"]

    _select(panel, 0, 1)  # one normalised, one not: the box starts partly checked, and so changes nothing

    def crop_only(dialog):
        assert dialog.editor.normalized() is None
        dialog.editor.crop.setValue(2)
        return True

    script.answer("exec_dialog", crop_only)
    assert panel.augment_selected()
    assert _column(panel) == ["crop ±2 px, mean/sd", "crop ±2 px", "mean/sd"]
    assert window.document.undo_stack.undoText() == "change augmentation"

    _select(panel, 0, 2)

    def turn_off(dialog):
        assert dialog.editor.normalized() is True
        dialog.editor.normalize.setChecked(False)
        return True

    script.answer("exec_dialog", turn_off)
    assert panel.augment_selected()
    assert project.tasks[0].values == UNIT and project.tasks[0].fingerprint == before[0].fingerprint
    assert _column(panel) == ["crop ±2 px"] * 3  # the first selected task's augmentation, for both


def test_float_tasks_cannot_be_normalised_in_the_dialog(window, script):
    panel = window.tasks_panel
    assert panel.add_tasks(data.split_by_class(data.load_builtin("digits"), n_tasks=2))
    _select(panel, 0, 1)
    assert panel.augment_button.isEnabled()  # images: crop and flip still apply

    def look(dialog):
        box = dialog.editor.normalize
        assert not box.isEnabled() and "stored as float features" in box.toolTip()
        assert dialog.editor.crop.isEnabled()
        dialog.editor.flip.setChecked(True)
        return True

    script.answer("exec_dialog", look)
    assert panel.augment_selected()
    assert _column(panel) == ["flip", "flip"] and all(t.normalization is None for t in window.document.project.tasks)
    assert "cannot be normalised" in panel.tree.topLevelItem(0).toolTip(PREPARATION_COLUMN)


def test_flat_byte_tasks_can_be_normalised_but_not_cropped(window, script, byte_tasks):
    flat = data.split_by_class(Dataset(Encoded(byte_tasks[0].train.x.reshape(-1, 192), UNIT),
                                       byte_tasks[0].train.y), n_tasks=1)
    panel = window.tasks_panel
    assert panel.add_tasks(flat)
    _select(panel, 0)
    assert panel.augment_button.isEnabled()

    def look(dialog):
        assert not dialog.editor.crop.isEnabled() and not dialog.editor.flip.isEnabled()
        dialog.editor.normalize.setChecked(True)
        return True

    script.answer("exec_dialog", look)
    assert panel.augment_selected()
    assert _column(panel) == ["mean/sd"]


def test_nothing_in_the_dialog_or_the_column_is_cut(window, qtbot, byte_tasks):
    dialog = AugmentationDialog(Augmentation(crop_padding=4, flip=True), 3, window, normalized=None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for box in (dialog.editor.normalize, dialog.editor.flip):
        assert box.width() >= box.sizeHint().width(), box.text()
    assert dialog.editor.normalize.checkState() == Qt.CheckState.PartiallyChecked
    panel = window.tasks_panel
    assert panel.add_tasks(data.tasks.normalize_tasks([byte_tasks[0].with_augmentation(Augmentation(16, True))]))
    text = panel.tree.topLevelItem(0).text(PREPARATION_COLUMN)
    assert text == "crop ±16 px, flip, mean/sd"
    assert panel.tree.columnWidth(PREPARATION_COLUMN) >= panel.tree.fontMetrics().horizontalAdvance(text) + 12
