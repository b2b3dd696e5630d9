"""Background work for the window (a training run, a lesion study, an export): never on the GUI thread.

The studio's one thread idiom: a Job (or a subclass, as ``TrainingWorker``) parented to what waits
for it. The device chooser's question to the training process is the exception (a daemon thread,
see ``modstudio.gui.training.devices``): a QThread still running when the studio exits aborts it."""

from __future__ import annotations

from PySide6.QtCore import QThread, Signal

from modstudio.gui.heap import settle_heap


class Job(QThread):
    """Runs ``fn()`` on a worker thread; ``done(result)`` or ``failed(message)`` arrive queued."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, fn, parent=None) -> None:
        super().__init__(parent)
        self.fn = fn

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        finally:
            settle_heap()  # the job may have loaded torch, which then stays
        self.done.emit(result)
