"""File → Export from the window: asks run, tasks and format, then the file; exports in the background
and reports what it wrote."""

import dataclasses
import os
import stat

import modstudio as ms
from modstudio.gui import dialogs
from modstudio.gui.export_dialog import ExportChoice
from modstudio.gui.main_window import MainWindow


def choose(monkeypatch, format: str, task=None, run_id=None) -> list:
    """Answer File → Export's question with ``format`` (the run offered first unless ``run_id``); returns
    the questions asked."""
    asked = []

    def ask(parent, question):
        asked.append(question)
        return ExportChoice(run_id or question.selected_id, task, format)

    monkeypatch.setattr(dialogs, "ask_export", ask)
    return asked


def test_export_writes_the_file_and_reports(trained_window, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "model.pt2"
    shown, asked_file = [], []
    choose(monkeypatch, "pt2")
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: asked_file.append(a) or str(target))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append((title, text)))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    assert target.exists()
    assert shown and shown[0][0] == "Export finished" and "model.pt2" in shown[0][1]
    (_, _, suggested, filters), = asked_file  # the format is chosen already: its suffix, its filter
    assert suggested.endswith(".pt2") and filters.startswith("torch.export program (*.pt2)")


def test_export_without_training_explains(qtbot, monkeypatch):
    window = MainWindow(ms.examples.build_example("split-digits"))
    qtbot.addWidget(window)
    shown = []
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(title))
    window.export()
    assert shown == ["Nothing to export yet"]


def test_export_failure_is_shown(trained_window, tmp_path, monkeypatch, qtbot):
    errors = []
    choose(monkeypatch, "python")
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(tmp_path / "model.safetensors"))
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(errors), timeout=120_000)
    assert errors and "name the file model.py" in errors[0]


def test_cancelling_the_question_asks_for_no_file(trained_window, monkeypatch):
    monkeypatch.setattr(dialogs, "ask_export", lambda parent, question: None)
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a: (_ for _ in ()).throw(AssertionError("asked")))
    trained_window.export()
    assert trained_window._exporter.job is None


def test_export_takes_the_run_selected_in_the_runs_tab_else_the_newest_with_weights(trained_window, tmp_path,
                                                                                   monkeypatch, qtbot):
    from modstudio.project.run import new_id

    project = trained_window.document.project
    good = project.runs[0]
    other = dataclasses.replace(good, id=new_id())
    stopped = dataclasses.replace(good, id=new_id(), status="stopped", paths=[], weights=None)
    project.runs.extend([other, stopped])  # the newest trained nothing: Export failed on it before
    trained_window.training.panel.ensure_views()
    asked = choose(monkeypatch, "safetensors")
    shown = []
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(tmp_path / f"m{len(shown)}.safetensors"))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(text))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    assert asked[0].selected_id == other.id and [r.id for r in asked[0].runs] == [good.id, other.id]
    trained_window.training.panel.runs.select_rows([0])
    trained_window.export()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=120_000)
    assert asked[1].selected_id == good.id and f"run {good.id[:8]}" in shown[1]


def test_exported_files_get_the_users_permissions(trained_window, tmp_path, monkeypatch, qtbot):
    out = tmp_path / "out"
    out.mkdir()
    saved = os.umask(0o027)
    try:
        choose(monkeypatch, "safetensors")
        monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: str(out / "model.safetensors"))
        shown = []
        monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(text))
        trained_window.export()
        qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    finally:
        os.umask(saved)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == {"model.safetensors": 0o640, "model.json": 0o640}


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
    choose(monkeypatch, "pt2")
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *a, **k: answers.pop(0))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append(title))
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: errors.append(text))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown or errors), timeout=120_000)
    assert shown == ["Export finished"] and old.read_bytes() != b"an older export"
    trained_window.export()
    qtbot.waitUntil(lambda: bool(errors), timeout=120_000)
    assert "project" in errors[0] and project_path.read_bytes() == before
