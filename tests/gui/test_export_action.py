"""File → Export from the window: exports in the background and reports what it wrote."""


import modstudio as ms
from modstudio.gui import dialogs
from modstudio.gui.main_window import MainWindow


def test_export_writes_the_file_and_reports(trained_window, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "model.pt2"
    shown = []
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(target))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append((title, text)))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    assert target.exists()
    assert shown and shown[0][0] == "Export finished" and "model.pt2" in shown[0][1]


def test_export_without_training_explains(qtbot, monkeypatch):
    window = MainWindow(ms.examples.build_example("split-digits"))
    qtbot.addWidget(window)
    shown = []
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(title))
    window.export()
    assert shown == ["Nothing to export yet"]


def test_export_failure_is_shown(trained_window, tmp_path, monkeypatch, qtbot):
    errors = []
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(tmp_path / "model.xyz"))
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(errors), timeout=120_000)
    assert errors and "format" in errors[0]


def test_export_replaces_a_file_the_dialog_confirmed_but_never_the_project(trained_window, tmp_path, monkeypatch,
                                                                            qtbot):
    project_path = trained_window.document.project.save(tmp_path / "p.modstudio")
    trained_window.document.mark_saved(project_path)
    before = project_path.read_bytes()
    old = tmp_path / "model.pt2"
    old.write_bytes(b"an older export")
    link = tmp_path / "link.pt2"
    link.hardlink_to(project_path)  # the project under an export's name
    answers = [str(old), str(link)]
    shown, errors = [], []
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: answers.pop(0))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(title))
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown or errors), timeout=120_000)
    assert shown == ["Export finished"] and old.read_bytes() != b"an older export"
    trained_window.export()
    qtbot.waitUntil(lambda: bool(errors), timeout=120_000)
    assert "project" in errors[0] and project_path.read_bytes() == before
