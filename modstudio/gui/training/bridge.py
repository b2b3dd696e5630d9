"""The trainer's callback on the worker thread, re-emitted as a Qt signal queued to the GUI thread.

The bridge only emits: it never touches a widget or the project, so nothing the worker does can
race the views. Receivers are connected with ``Qt.QueuedConnection`` explicitly, so even a
receiver created on the worker's side would run in the GUI thread's event loop.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal


class TrainingBridge(QObject):
    event = Signal(object)  # a modstudio.learn.events.Event

    def __call__(self, event) -> None:  # the trainer's callback
        self.event.emit(event)

    def subscribe(self, slot) -> None:
        self.event.connect(slot, Qt.ConnectionType.QueuedConnection)
