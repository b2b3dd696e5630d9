"""Runs tab → Export to TensorBoard… / Export to MLflow…: the buttons write the chosen runs in the
background, read back here with each tracker's own reader, and report in the status bar and a
message; without the package, or with a target that cannot be written, they say why."""

import dataclasses
import subprocess
import sys

import pytest

from modstudio.gui.training import tracking_export
from modstudio.project.run import new_id

JOB_TIMEOUT_MS = 120_000


@pytest.fixture
def runs_tab(trained_window, script, qtbot):
    """The trained window shown, its Runs tab built and open; the dialog script answers its questions."""
    window = trained_window
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    panel = window.training.panel
    panel.ensure_views()
    window.training.dock.show()
    panel.tabs.setCurrentWidget(panel.runs_page)
    yield window, panel.runs, script
    if window.training.tracking_export is not None:
        window.training.tracking_export.wait()


def press(qtbot, runs_table, kind):
    from PySide6.QtCore import Qt

    qtbot.mouseClick(runs_table.export_buttons[kind], Qt.MouseButton.LeftButton)


def wait_for_report(qtbot, script):
    qtbot.waitUntil(lambda: bool(script.called("show_info") or script.called("show_error")), timeout=JOB_TIMEOUT_MS)


def test_export_to_tensorboard_writes_the_selected_run(runs_tab, tmp_path, qtbot):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    window, runs_table, script = runs_tab
    project = window.document.project
    project.runs.append(dataclasses.replace(project.runs[0], id=new_id()))  # a second run, not selected
    runs_table.select_rows([0])
    script.answer("ask_tracking_target", str(tmp_path / "tb"))  # a folder that is not there yet
    press(qtbot, runs_table, "tensorboard")
    wait_for_report(qtbot, script)
    run = project.runs[0]
    assert [p.name for p in (tmp_path / "tb").iterdir()] == [f"00-expansion-{run.id[:8]}"]
    events = EventAccumulator(str(tmp_path / "tb" / f"00-expansion-{run.id[:8]}"))
    events.Reload()
    [acc] = events.Scalars("metrics/acc")
    assert acc.step == run.metrics.tasks_trained and acc.value == pytest.approx(run.metrics.acc, rel=1e-6)
    [(_, title, text)] = script.called("show_info")
    assert title == "Export to TensorBoard finished" and f"tensorboard --logdir \"{tmp_path / 'tb'}\"" in text
    assert window.statusBar().currentMessage() == f"Wrote 1 run(s) to TensorBoard in {tmp_path / 'tb'}"
    assert not script.called("show_error")


def test_export_to_mlflow_logs_every_run_when_none_is_selected(runs_tab, tmp_path, qtbot, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    window, runs_table, script = runs_tab
    project = window.document.project
    project.runs.append(dataclasses.replace(project.runs[0], id=new_id()))
    runs_table.table.clearSelection()
    script.answer("ask_tracking_target", str(tmp_path / "mlruns"))
    press(qtbot, runs_table, "mlflow")
    wait_for_report(qtbot, script)
    [(_, question)] = script.called("ask_tracking_target")
    assert not script.called("show_error") and f"Experiment: “{project.name}”" in question.note
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient((tmp_path / "mlruns").as_uri())
    logged = client.search_runs([client.get_experiment_by_name(project.name).experiment_id])
    names = [f"{i:02d}-expansion-{r.id[:8]}" for i, r in enumerate(project.runs)]
    assert sorted(r.info.run_name for r in logged) == names
    assert all(r.data.metrics["metrics/acc"] == project.runs[0].metrics.acc for r in logged)
    [(_, title, text)] = script.called("show_info")
    assert title == "Export to MLflow finished" and "mlflow ui --backend-store-uri file://" in text
    assert window.statusBar().currentMessage() == f"Logged 2 run(s) to MLflow experiment “{project.name}”"


def test_the_target_is_offered_again(runs_tab, tmp_path, qtbot):
    window, runs_table, script = runs_tab
    target = str(tmp_path / "tb")
    script.answer("ask_tracking_target", target, None)
    press(qtbot, runs_table, "tensorboard")
    wait_for_report(qtbot, script)
    press(qtbot, runs_table, "tensorboard")  # the second time: cancelled, nothing written nor said
    first, second = (question for _, question in script.called("ask_tracking_target"))
    assert second.suggested == target and first.suggested != target
    assert len(script.called("show_info")) == 1


def test_without_the_package_the_action_says_what_to_install(runs_tab, qtbot, monkeypatch):
    window, runs_table, script = runs_tab
    monkeypatch.setattr(tracking_export.mlflow_writer, "available", lambda: False)
    press(qtbot, runs_table, "mlflow")
    [(_, title, text)] = script.called("show_error")
    assert title == "MLflow is not installed" and 'pip install "modstudio[tracking]"' in text
    assert "mlflow package" in text and not script.called("ask_tracking_target")  # nothing asked, nothing written


def test_a_target_that_cannot_be_written_is_reported(runs_tab, tmp_path, qtbot):
    window, runs_table, script = runs_tab
    blocker = tmp_path / "tb"
    blocker.write_text("")
    script.answer("ask_tracking_target", str(blocker))
    press(qtbot, runs_table, "tensorboard")
    wait_for_report(qtbot, script)
    [(_, title, text)] = script.called("show_error")
    assert title == "Export to TensorBoard failed" and text == f"{blocker} is not a folder: give a folder for the " \
                                                               "TensorBoard files"
    assert window.statusBar().currentMessage() == "Export to TensorBoard failed"


def test_the_buttons_wait_for_a_run(make_window):
    window = make_window()
    window.training.panel.ensure_views()
    buttons = window.training.panel.runs.export_buttons
    assert not any(b.isEnabled() for b in buttons.values())


def test_the_target_dialog_needs_a_target_and_picks_a_folder(qtbot, script, tmp_path):
    from PySide6.QtWidgets import QDialogButtonBox, QPushButton

    question = tracking_export.TargetQuestion("Export runs to MLflow", "intro", str(tmp_path / "a" / "b"), "", "")
    dialog = tracking_export.TargetDialog(question)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and ok.text() == "Export" and dialog.value() == str(tmp_path / "a" / "b")
    dialog.target.setText("   ")
    assert not ok.isEnabled()
    dialog.target.setText(" http://127.0.0.1:5000 ")
    assert ok.isEnabled() and dialog.value() == "http://127.0.0.1:5000"
    dialog.target.setText(str(tmp_path / "a" / "b"))  # not there yet: the picker opens where it would go
    script.answer("ask_folder", str(tmp_path / "picked"))
    [browse] = [b for b in dialog.findChildren(QPushButton) if b.text() == "Folder…"]
    browse.click()
    [(_, title, start)] = script.called("ask_folder")
    assert start == str(tmp_path) and dialog.value() == str(tmp_path / "picked")


def test_a_picker_starts_at_home_for_a_uri():
    from pathlib import Path

    assert tracking_export.existing_parent("http://127.0.0.1:5000") == Path.home()


def test_the_export_imports_no_torch():
    code = ("import sys\nsys.modules['torch'] = None\n"
            "import modstudio.gui.training.tracking_export\n"
            "import modstudio.tracking.mlflow, modstudio.tracking.tensorboard\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
