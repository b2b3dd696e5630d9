"""Unhandled exceptions: a recovery copy first, then the log, then a dialog with the details and a
way to copy them; and the studio's start-up path end to end (logging, crash hook, welcome)."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from modstudio import logs
from modstudio.gui import crash
from modstudio.project import load_project, recovery

from tests.gui.helpers import chain


def test_an_exception_in_a_slot_saves_a_recovery_copy_and_shows_the_details(window, script, qtbot, tmp_path):
    chain(window, ("input", {"shape": [4]}), ("linear", {"out_features": 3}))
    assert window.document.modified
    logs.setup_logging()
    seen_copies = []
    script.answer("show_crash", lambda *args: seen_copies.extend(recovery.list_recoverable()) or "continue")
    handler = crash.install(window)
    try:
        QTimer.singleShot(0, lambda: 1 / 0)  # PySide6 hands this to sys.excepthook
        qtbot.waitUntil(lambda: bool(script.called("show_crash")), timeout=5000)
    finally:
        crash.uninstall(handler)
        logs.stop_logging()
    (parent, summary, details, recovery_path), = script.called("show_crash")
    assert parent is window and "ZeroDivisionError" in summary
    assert "Traceback" in details and "ZeroDivisionError: division by zero" in details
    assert "ModStudio" in details and str(recovery_path) in details
    # the copy existed before the dialog opened, and it is the open project
    assert [c.project_id for c in seen_copies] == [window.document.project.id]
    assert recovery_path.is_file()
    assert load_project(recovery_path).graph.to_dict() == window.document.project.graph.to_dict()
    log_text = (tmp_path / "logs" / "modstudio.log").read_text("utf-8")
    assert "unhandled exception" in log_text and "ZeroDivisionError" in log_text
    assert window.isVisible()  # "continue": the studio goes on


def test_nothing_to_rescue_without_changes(window, script):
    script.answer("show_crash", "continue")
    handler = crash.install(window)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            handler.excepthook(*sys.exc_info())
    finally:
        crash.uninstall(handler)
    (_, summary, details, recovery_path), = script.called("show_crash")
    assert recovery_path is None and recovery.list_recoverable() == []
    assert "ValueError: boom" in summary and "Recovery copy" not in details


def test_uninstall_puts_back_the_previous_hook(window):
    before = sys.excepthook
    handler = crash.install(window)
    assert sys.excepthook == handler.excepthook
    crash.uninstall(handler)
    assert sys.excepthook is before


def test_the_dialog_copies_its_details_and_can_quit(qtbot, tmp_path):
    dialog = crash.CrashDialog("RuntimeError: x", "Traceback…\nRuntimeError: x", tmp_path / "copy.modstudio")
    qtbot.addWidget(dialog)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "Traceback…\nRuntimeError: x"
    assert dialog.details.isReadOnly()
    assert not dialog.quit_requested
    dialog.quit_button.click()
    assert dialog.quit_requested


def test_the_studio_starts_shows_the_welcome_and_quits_in_smoke_mode(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", MODSTUDIO_SMOKE_TEST="1")
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        env[f"MODSTUDIO_{name}_DIR"] = str(tmp_path / name.lower())
    done = subprocess.run([sys.executable, "-m", "modstudio"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "MODSTUDIO_SMOKE window_shown=" in done.stdout
    assert "welcome=1" in done.stdout and "torch_loaded=0" in done.stdout  # torch stays lazy
    assert "window shown" in (tmp_path / "log" / "modstudio.log").read_text("utf-8")
    assert not (tmp_path / "config" / "studio.ini").exists() or "geometry" not in (
        tmp_path / "config" / "studio.ini").read_text()  # a smoke run leaves no layout behind
