"""File dialogs start in the folder last used for their kind of file, across launches (the per-user
settings), and a caller's own folder (Save As of a saved project) still wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from modstudio.gui import dialogs

# the real questions: the window's fixtures replace them in the module with scripted ones
ask_data_path, ask_open_project, ask_save_project = dialogs.ask_data_path, dialogs.ask_open_project, \
    dialogs.ask_save_project


class FakeFileDialog:
    """QFileDialog's static questions: records where each one opens and answers from a queue."""

    def __init__(self) -> None:
        self.starts: list[str] = []
        self.answers: list[str] = []

    def _answer(self, start: str) -> str:
        self.starts.append(start)
        return self.answers.pop(0)

    def open_file(self, parent, title, start, filters=""):
        return self._answer(start), ""

    def save_file(self, parent, title, start, filters=""):
        return self._answer(start), ""

    def folder(self, parent, title, start=""):
        return self._answer(start)


@pytest.fixture
def file_dialog(monkeypatch) -> FakeFileDialog:
    fake = FakeFileDialog()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake.open_file)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake.save_file)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", fake.folder)
    return fake


def test_each_kind_of_dialog_starts_where_that_kind_was_last_chosen(qtbot, file_dialog, tmp_path):
    projects, data, exports = (tmp_path / name for name in ("projects", "data", "exports"))
    for folder in (projects, data, exports):
        folder.mkdir()
    file_dialog.answers = [str(data / "wine.csv"), str(projects / "study.modstudio"), str(exports / "model.onnx"),
                           "", "", str(data / "flowers"), "", ""]
    assert dialogs.ask_data_path(None) == str(data / "wine.csv")
    assert dialogs.ask_open_project(None) == str(projects / "study.modstudio")
    assert dialogs.ask_save_file(None, "Export", "model.onnx", "ONNX (*.onnx)") == str(exports / "model.onnx")
    assert dialogs.ask_open_project(None) is None  # cancelled: nothing remembered, nothing changed
    assert dialogs.ask_data_path(None) is None
    assert dialogs.ask_data_path(None, folder=True) == str(data / "flowers")
    assert dialogs.ask_save_file(None, "Save plots", "run.png", "PNG (*.png)") is None
    assert dialogs.ask_save_project(None, "Untitled.modstudio") is None
    assert file_dialog.starts[3:] == [str(projects), str(data), str(data), str(exports / "run.png"),
                                      str(projects / "Untitled.modstudio")]


def test_the_first_dialog_of_a_kind_starts_where_any_dialog_was_last_used(qtbot, file_dialog, tmp_path):
    file_dialog.answers = [str(tmp_path / "wine.csv"), ""]
    dialogs.ask_data_path(None)
    dialogs.ask_folder(None, "TensorBoard logs")
    assert file_dialog.starts[1] == str(tmp_path)


def test_the_last_folder_is_remembered_between_launches(qtbot, file_dialog, tmp_path):
    from modstudio.gui import settings

    file_dialog.answers = [str(tmp_path / "digits.npz")]
    dialogs.ask_data_path(None)
    assert settings.studio_settings().value("folders/data") == str(tmp_path)  # in the INI file, read anew
    (tmp_path / "gone").mkdir()
    settings.remember_folder("data", tmp_path / "gone" / "x.csv")
    assert settings.last_folder("data") == str(tmp_path / "gone")
    (tmp_path / "gone").rmdir()
    assert settings.last_folder("data") == str(Path.home())  # a folder that went away is not offered


def test_a_caller_folder_wins_and_a_saved_project_saves_as_beside_itself(window, file_dialog, script, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    file_dialog.answers = [str(elsewhere / "x.csv")]
    ask_data_path(window)
    path = tmp_path / "p.modstudio"
    assert window.files.save_to(path)
    file_dialog.answers = [""]
    ask_save_project(window, str(path))
    assert file_dialog.starts[-1] == str(path)
    file_dialog.answers = [""]
    ask_open_project(window)
    assert file_dialog.starts[-1] == str(tmp_path)  # saving a project counts as using its folder
