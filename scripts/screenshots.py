"""Render every studio screen to PNG files, to look at them (and for the docs).

Run under a real X server for true font rendering, e.g.::

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots.py OUT_DIR

Per-user folders are redirected to a temporary folder, so nothing of the user's is read or written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(out: Path, scale: str | None = None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="modstudio-shots-"))
    for name in ("CONFIG", "DATA", "LOG", "CACHE"):
        os.environ[f"MODSTUDIO_{name}_DIR"] = str(tmp / name.lower())
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from modstudio.gui import theme, welcome
    from modstudio.gui.app import APP_ID
    from modstudio.gui.icons import app_icon
    from modstudio.gui.main_window import MainWindow
    from modstudio.gui import settings

    theme.prepare_high_dpi()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())

    def settle(ms: int = 150) -> None:
        end = QTimer()
        end.setSingleShot(True)
        end.start(ms)
        while end.isActive():
            app.processEvents()

    def save(widget, name: str) -> None:
        settle()
        widget.grab().save(str(out / f"{name}.png"))
        print("wrote", out / f"{name}.png")

    def grab_modal(trigger, name: str) -> None:
        def shoot():
            dialog = app.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(100, shoot)
                return
            settle(200)
            dialog.grab().save(str(out / f"{name}.png"))
            print("wrote", out / f"{name}.png")
            dialog.reject() if hasattr(dialog, "reject") else dialog.close()
        QTimer.singleShot(200, shoot)
        trigger()

    for mode in ("dark", "light"):
        theme.apply(app, mode)
        # a recent project so the welcome page shows one
        from modstudio.examples import build_example

        recent = tmp / "my experiments" / "split digits.modstudio"
        recent.parent.mkdir(parents=True, exist_ok=True)
        build_example("split-digits").save(recent, backup=False)
        settings.add_recent_file(recent)

        window = MainWindow(show_welcome=True)
        window.resize(1600, 960)
        window.show()
        save(window, f"welcome-{mode}")
        welcome.open_example(window, "split-digits-conv")
        settle(300)
        window.view.fit()
        save(window, f"example-{mode}")
        first = next(iter(window.scene.nodes))
        window.scene.select_nodes([first, list(window.scene.nodes)[1]])
        save(window, f"example-selected-{mode}")
        if mode == "dark":
            grab_modal(window.show_shortcuts, "shortcuts")
            from modstudio.gui.help import show_guide

            save(show_guide(window), "guide")
            from modstudio.gui.crash import CrashDialog, details_text

            try:
                raise RuntimeError("a demonstration error")
            except RuntimeError:
                details = details_text(*sys.exc_info(), recovery_path=tmp / "data/recovery/x.modstudio",
                                       log_path=tmp / "log/modstudio.log")
            crash = CrashDialog("RuntimeError: a demonstration error", details, tmp / "data/recovery/x.modstudio",
                                window)
            crash.show()
            save(crash, "crash")
            crash.close()
            grab_modal(window.tasks_panel.open_dialog, "add-tasks")
        else:
            from modstudio.gui.help import show_guide

            save(show_guide(window), "guide-light")
        window.document.undo_stack.setClean()
        for w in app.topLevelWidgets():
            w.close()
        settle()

    theme.apply(app, "dark")
    training_shots(out, settle, save)


def training_shots(out: Path, settle, save) -> None:
    """Mid-run (the third task training) and after the run, as the README shows them."""
    from modstudio.examples import build_example
    from modstudio.gui.main_window import MainWindow

    project = build_example("split-digits")
    project.configure(epochs=40)  # long enough to be caught mid-run
    window = MainWindow(project)
    window.resize(1600, 960)
    window.show()
    settle(500)
    training = window.training
    training.start()
    while training.running and training.state.current_task < 2:
        settle(100)
    settle(800)
    save(window, "training")
    while training.running:
        settle(200)
    settle(500)
    save(window, "after-run")
    window.document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
