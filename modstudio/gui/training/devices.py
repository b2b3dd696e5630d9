"""The device chooser of the run settings: every CUDA GPU by name and memory, Apple MPS, the CPU.

Listing devices needs torch (and, for CUDA, a driver context), which only the training process
loads: the chooser asks it in the background a few seconds after it is first shown (not during the
studio's start-up, which would then share the CPU with torch's import) or when its list is opened,
offers "automatic" and "CPU" meanwhile, and fills in the rest when the answer comes. The process it
starts then waits for the first run, which therefore starts without the seconds of importing torch.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox

AUTO = ("auto", "Automatic (GPU, else CPU)")
LOOKING = "Looking for GPUs…"
ASK_AFTER_SHOWN_MS = 3000


class _Answer(QObject):
    """Carries the answer from the asking thread to the GUI thread (queued)."""

    found = Signal(object)  # [(name, label)]
    failed = Signal(str)


class DeviceCombo(QComboBox):
    def __init__(self) -> None:
        super().__init__()
        self.addItem(AUTO[1], AUTO[0])
        self.addItem("CPU", "cpu")
        self.listed = False
        self._asking = False
        self._answer = _Answer(self)
        self._answer.found.connect(self._on_found)
        self._answer.failed.connect(self._on_failed)

    def list_devices(self) -> None:
        """Ask the training process which devices there are (once); the list fills in when it answers."""
        if self.listed or self._asking:
            return
        self._asking = True
        self.addItem(LOOKING, None)
        self.model().item(self.count() - 1).setEnabled(False)
        # A plain daemon thread, not a Job (QThread): it may still wait for the process when the window
        # closes, and is then simply left behind. A QThread cannot be: one kept alive until it ends
        # still aborts the studio if it quits meanwhile ("QThread: Destroyed while thread is still running").
        threading.Thread(target=self._ask, args=(self._answer,), name="list-devices", daemon=True).start()

    @staticmethod
    def _ask(answer: _Answer) -> None:
        from modstudio.learn.remote import list_devices

        try:
            devices = list_devices()
        except Exception as exc:
            result, signal = str(exc) or type(exc).__name__, "failed"
        else:
            result, signal = devices, "found"
        try:
            getattr(answer, signal).emit(result)
        except RuntimeError:
            pass  # the chooser is gone (its window closed)

    def _on_found(self, devices: list[tuple[str, str]]) -> None:
        self._asking, self.listed = False, True
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem(AUTO[1], AUTO[0])
        for name, label in devices:
            self.addItem(f"{label}  [{name}]", name)
        self.select(current)
        self.blockSignals(False)

    def _on_failed(self, message: str) -> None:
        self._asking = False
        self.removeItem(self.findText(LOOKING))
        self.setToolTip(f"The GPUs could not be listed: {message}")

    def select(self, name: str) -> None:
        index = self.findData(name)
        if index < 0:
            self.addItem(name, name)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not self.listed:
            QTimer.singleShot(ASK_AFTER_SHOWN_MS, self._ask_if_shown)

    def _ask_if_shown(self) -> None:
        if self.isVisible():
            self.list_devices()

    def showPopup(self) -> None:  # noqa: N802
        self.list_devices()
        super().showPopup()
