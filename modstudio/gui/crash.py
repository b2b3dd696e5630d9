"""Unhandled exceptions: save a recovery copy of the open project, log the traceback, then show a
dialog with the details and a button that copies them.

PySide6 reports an exception raised in a slot to ``sys.excepthook`` and carries on with the event
loop, so the studio usually survives; the dialog lets the user keep working or quit. Exceptions
from other threads are logged there and shown from the GUI thread.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QStyle, QVBoxLayout, QWidget)

from modstudio import __version__

log = logging.getLogger("modstudio.crash")


def details_text(exc_type, exc, tb, recovery_path: Path | None = None, log_path: Path | None = None) -> str:
    """What the user copies into a bug report: versions, where things were saved, the traceback."""
    lines = [f"ModStudio {__version__}", f"Python {platform.python_version()} on {platform.platform()}"]
    try:
        import PySide6

        lines.append(f"PySide6 {PySide6.__version__}")
    except Exception:  # pragma: no cover - PySide6 is here if this module runs
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        lines.append(f"torch {getattr(torch, '__version__', '?')}")
    if recovery_path is not None:
        lines.append(f"Recovery copy: {recovery_path}")
    if log_path is not None:
        lines.append(f"Log: {log_path}")
    lines.append("")
    lines.extend(traceback.format_exception(exc_type, exc, tb))
    return "\n".join(line.rstrip("\n") for line in lines)


class CrashDialog(QDialog):
    """The details in a read-only box, Copy details, Continue (default) and Quit."""

    def __init__(self, summary: str, details: str, recovery_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crash-dialog")
        self.setWindowTitle("ModStudio hit an unexpected error")
        self.quit_requested = False
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        saved = (f"Your work was saved to a recovery copy first: <code>{recovery_path}</code>. "
                 "ModStudio offers it the next time it starts."
                 if recovery_path is not None else "There were no unsaved changes to rescue.")
        text = QLabel(f"<b>Something went wrong: {_html(summary)}</b><p>{saved}</p>"
                      "<p>You can usually keep working; saving under a new name is the safe choice. If this "
                      "keeps happening, please report it with the details below.</p>")
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(text, 1)
        self.details = QPlainTextEdit(details)
        self.details.setObjectName("crash-details")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("Copy Details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.quit_button = buttons.addButton("Quit ModStudio", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.quit_button.clicked.connect(self._on_quit_button_clicked)
        self.continue_button = buttons.addButton("Continue", QDialogButtonBox.ButtonRole.AcceptRole)
        self.continue_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.resize(720, 480)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())
        self.copy_button.setText("Copied")

    def _on_quit_button_clicked(self) -> None:
        self.quit_requested = True
        self.reject()


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def save_recovery_copy(window) -> Path | None:
    """A recovery copy of the window's project (when it has unsaved changes), or None."""
    document = getattr(window, "document", None)
    if document is None or not document.modified:
        return None
    try:
        from modstudio.project import recovery

        return recovery.autosave(document.project, source=document.path)
    except Exception:  # the project may be what is broken; the dialog must still come
        log.exception("could not write a recovery copy")
        return None


class CrashHandler(QObject):
    """Installed as ``sys.excepthook`` (and ``threading.excepthook``) for one window."""

    _from_thread = Signal(object, object, object)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.handling = False
        self.previous = None  # the hooks install() replaced
        self.reports: list[str] = []  # details of every exception seen (tests, and repeated crashes)
        self._from_thread.connect(self._report, Qt.ConnectionType.QueuedConnection)

    def excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        app = QApplication.instance()
        if app is not None and QThread.currentThread() is not app.thread():
            log.error("unhandled exception in a worker thread", exc_info=(exc_type, exc, tb))
            self._from_thread.emit(exc_type, exc, tb)
            return
        self._report(exc_type, exc, tb)

    def threading_excepthook(self, args) -> None:
        if args.exc_type is SystemExit:
            return
        log.error("unhandled exception in thread %s", getattr(args.thread, "name", "?"),
                  exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        self._from_thread.emit(args.exc_type, args.exc_value, args.exc_traceback)

    def _report(self, exc_type, exc, tb) -> None:
        if self.handling:  # an error inside the dialog: print it and do not recurse
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.handling = True
        try:
            recovery_path = save_recovery_copy(self.window)  # first, before anything else can fail
            log.critical("unhandled exception", exc_info=(exc_type, exc, tb))
            from modstudio.logs import log_file

            details = details_text(exc_type, exc, tb, recovery_path, log_file())
            self.reports.append(details)
            sys.stderr.write(details + "\n")
            summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
            from modstudio.gui import dialogs

            if dialogs.show_crash(self.window, summary, details, recovery_path) == "quit":
                app = QApplication.instance()
                if app is not None:
                    app.exit(1)
        except Exception:
            sys.__excepthook__(exc_type, exc, tb)
        finally:
            self.handling = False


def install(window) -> CrashHandler:
    """Route unhandled exceptions to a dialog over ``window``; :func:`uninstall` undoes it."""
    handler = CrashHandler(window)
    handler.previous = (sys.excepthook, threading.excepthook)
    sys.excepthook = handler.excepthook
    threading.excepthook = handler.threading_excepthook
    window.crash_handler = handler
    return handler


def uninstall(handler: CrashHandler | None = None) -> None:
    """Put back the hooks that were there before ``handler`` (or Python's own)."""
    previous = getattr(handler, "previous", None) or (sys.__excepthook__, threading.__excepthook__)
    sys.excepthook, threading.excepthook = previous
