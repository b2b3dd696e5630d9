"""Start the studio: logging, one QApplication, the theme, a window, the crash hook, and an
optional project to open.

``MODSTUDIO_SMOKE_TEST=1`` makes the studio quit as soon as its window is shown, printing one
line (``MODSTUDIO_SMOKE window_shown=<epoch seconds> …``): the packaging smoke test and the
startup benchmark (``modstudio.gui.canvas_bench.bench_startup``) run it offscreen.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

APP_ID = "io.github.modstudio.ModStudio"  # the .desktop file, AppStream id and Wayland app id
SMOKE_ENV = "MODSTUDIO_SMOKE_TEST"
SMOKE_PREFIX = "MODSTUDIO_SMOKE"

log = logging.getLogger("modstudio.app")


def _route_qt_messages() -> None:
    """Qt's own warnings go to the log file too (and still to stderr)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("modstudio.qt")
    levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
              QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
              QtMsgType.QtFatalMsg: logging.CRITICAL}

    def handler(mode, context, message) -> None:
        level = levels.get(mode, logging.WARNING)
        qt_log.log(level, "%s", message)
        if level >= logging.WARNING and "propagateSizeHints" not in message:  # offscreen noise
            sys.stderr.write(f"qt: {message}\n")

    qInstallMessageHandler(handler)


def _smoke_exit(app, window) -> None:
    """Quit once the window is really on screen (exposed and painted), saying when."""
    from PySide6.QtCore import QTimer

    handle = window.windowHandle()
    if not (window.isVisible() and handle is not None and handle.isExposed()):
        QTimer.singleShot(5, lambda: _smoke_exit(app, window))
        return
    window.repaint()
    from modstudio.gui import welcome

    print(f"{SMOKE_PREFIX} window_shown={time.time():.4f} welcome={int(welcome.is_shown(window))} "
          f"torch_loaded={int('torch' in sys.modules)} platform={app.platformName()}", flush=True)
    app.exit(0)  # not close(): a smoke test must not write the user's window layout


def run(project_path: str | None = None, argv: list[str] | None = None) -> int:
    from modstudio.logs import setup_logging

    setup_logging()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from modstudio.gui import crash, theme
    from modstudio.gui.icons import app_icon
    from modstudio.gui.main_window import MainWindow

    smoke = bool(os.environ.get(SMOKE_ENV))
    if QApplication.instance() is None:
        theme.prepare_high_dpi()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("ModStudio")
    app.setOrganizationName("ModStudio")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    _route_qt_messages()
    theme.apply(app)
    window = MainWindow(show_welcome=not project_path)
    handler = crash.install(window)
    window.show()
    log.info("window shown (%s, theme %s)", app.platformName(), theme.current())
    if project_path:
        path = Path(project_path)
        if path.suffix.lower() == ".modstudio" or path.is_file():
            window.files.open_project(str(path))
        else:
            window.open_paths([str(path)])
    elif not smoke:  # a smoke test must never wait on a question
        window.files.offer_recovery()
    if smoke:
        QTimer.singleShot(0, lambda: _smoke_exit(app, window))
    try:
        return app.exec()
    finally:
        crash.uninstall(handler)
        log.info("studio closed")
