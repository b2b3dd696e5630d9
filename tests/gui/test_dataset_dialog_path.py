"""Add Tasks with a typed path: typing chooses "File or folder", Return loads it (and adds nothing),
and Add never adds the built-in dataset shown before."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.test_tasks import write_csv


@pytest.fixture
def dialog(dataset_dialog):
    d = dataset_dialog
    assert d.builtin_radio.isChecked() and d.dataset is not None  # the built-in digits, as a new user sees it
    return d


def test_typing_a_path_switches_to_the_file_and_return_loads_it_without_adding(dialog, tmp_path):
    csv = write_csv(tmp_path / "shapes.csv")
    dialog.path_edit.setFocus()
    QTest.keyClicks(dialog.path_edit, str(csv))
    assert dialog.file_radio.isChecked()
    assert dialog.dataset is None and dialog.error.text() == ""  # the digits' preview is gone, no error mid-typing
    QTest.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted  # Return did not press Add
    assert len(dialog.dataset) == 60 and "60 samples" in dialog.summary.text()


def test_add_after_typing_adds_the_typed_file_not_the_builtin(dialog, tmp_path):
    csv = write_csv(tmp_path / "shapes.csv", features=3)
    QTest.keyClicks(dialog.path_edit, str(csv))
    dialog.builder_combo.setCurrentIndex(dialog.builder_combo.findData("whole"))
    dialog.add_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert [tuple(t.sample_shape) for t in dialog.tasks] == [(3,)]


def test_the_builtin_list_and_download_stay_as_they_were(dialog, tmp_path):
    QTest.keyClicks(dialog.path_edit, str(tmp_path / "missing.csv"))
    QTest.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    assert "missing.csv" in dialog.error.text() and not dialog.add_button.isEnabled()
    dialog.select_builtin("digits")
    assert dialog.builtin_radio.isChecked() and dialog.dataset is not None and dialog.error.text() == ""
    assert dialog.download_button.isEnabled()
