"""The run's progress line: a bar with task k of n, epoch, samples/s and ETA, and the phase.

Every text in the bar is one line that fits: each state offers its wordings longest first and the
first that fits the bar is shown, again whenever the bar is resized (a finished run is not redrawn
by its events any more, but the dock can still be made narrower)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from modstudio.gui.numbers import compact_rate
from modstudio.gui.training.state import READOUT_LABEL
from modstudio.progress import format_seconds

PHASES = {"search": "searching", "train": "training", "balance": "balancing", "router": "routing"}
SPEED_TEMPLATE = "888.8 k samples/s · ETA 88:88 · cuda:0"
MIN_TAIL_CHARS = 12  # a failure's message shown with fewer letters than this says nothing


class ProgressHeader(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(10)
        self.bar = QProgressBar()
        self.bar.setObjectName("run-progress")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFormat("idle")
        self.bar.setMinimumWidth(150)  # its text shortens to fit (see _fitting)
        self.speed = QLabel("")
        self.speed.setObjectName("dim")
        # Its room is kept from the start: a label that widens as its text comes and changes would
        # re-lay out the panel and redraw every plot (a 100 ms stall when the first figure came).
        self.speed.setMinimumWidth(self.speed.fontMetrics().horizontalAdvance(SPEED_TEMPLATE))
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.speed, 0)
        self._key = None
        self._formats: tuple[str, ...] = ("idle",)
        self._tail = ""
        self.bar.installEventFilter(self)

    def _fitting(self, *formats: str, tail: str = "") -> str:
        """The first (most telling) of ``formats`` that fits the bar on one line; else the last.
        A ``tail`` (a failure's message) follows the first, cut short with "…" to fit, while at
        least a few words of it do."""
        room = self.bar.width() - 12
        metrics = self.bar.fontMetrics()
        if tail:
            head = f"{formats[0]} — "
            left = room - metrics.horizontalAdvance(head)
            if left >= metrics.horizontalAdvance("x" * MIN_TAIL_CHARS):
                return head + metrics.elidedText(tail, Qt.TextElideMode.ElideRight, left)
        return next((f for f in formats if metrics.horizontalAdvance(f.replace("%p%", "100%")) <= room), formats[-1])

    def _show(self, *formats: str, tail: str = "") -> None:
        """Show the longest of ``formats`` that fits, and keep them to refit when the bar resizes."""
        self._formats, self._tail = formats, tail
        self.bar.setFormat(self._fitting(*formats, tail=tail))

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.bar and event.type() == QEvent.Type.Resize:
            self.bar.setFormat(self._fitting(*self._formats, tail=self._tail))
        return False

    def refresh(self, state, paused: bool = False) -> None:
        key = (id(state), state.run_id, state.version, state.status, paused)  # another run shown: redraw
        if key == self._key:
            return
        self._key = key
        self.bar.setValue(int(round(min(max(state.fraction, 0.0), 1.0) * 1000)))
        if state.status == "running":
            if state.current_task < 0:
                self._show("preparing: loading the engine and the data …", "preparing …")
                self.bar.setToolTip("Loading the engine and the data")
            else:
                name = state.task_names[state.current_task] if state.current_task < len(state.task_names) else ""
                phase = "paused" if paused else PHASES.get(state.phase, "training")
                task = f"{state.current_task + 1}/{state.n_tasks}"
                epoch = f"{min(state.epoch + 1, state.epochs)}/{state.epochs}" if state.epochs else ""
                long_epoch, short_epoch = (f" · epoch {epoch}", f" · ep {epoch}") if epoch else ("", "")
                unusual = "" if phase == "training" else f" · {phase}"  # worth its room in a narrow bar
                self._show(
                    f"Task {task}{long_epoch} · {phase} · %p%",
                    f"Task {task}{long_epoch}{unusual} · %p%",
                    f"T{task}{short_epoch}{unusual} · %p%",
                    f"T{task}{unusual} · %p%",
                    f"T{task} · %p%",
                )
                self.bar.setToolTip(f"Task {state.current_task + 1} of {state.n_tasks}: {name}")
            rate = f"{compact_rate(state.samples_per_s)} samples/s" if state.samples_per_s else ""
            self.speed.setText(" · ".join(p for p in (rate, f"ETA {format_seconds(state.eta_s)}" if rate else "",
                                                      state.device) if p))
        elif state.status == "idle":
            self._show("idle: press Train to run the task sequence", "idle")
            self.bar.setToolTip("")
            self.speed.setText("")
        else:
            words = {"finished": "Finished", "stopped": "Stopped", "failed": "Failed"}.get(state.status, state.status)
            trained, n = state.tasks_trained, state.n_tasks
            told = f"{words}: {trained} of {n} task{'s' * (n != 1)} trained"
            # a failure's message may span lines (a traceback's tail): the bar gets one, the tooltip all;
            # a word joiner after each % keeps the bar from reading "%v" or "%p" in it as its figures
            message = " ".join(state.message.split()) if state.status == "failed" else ""
            self._show(told, f"{words}: {trained}/{n} tasks", words, tail=message.replace("%", "%\u2060"))
            self.bar.setToolTip(told + (f"\n{state.message}" if message else ""))
            if state.status == "finished":
                self.bar.setValue(1000)
            readout = READOUT_LABEL.get(state.readout)
            self.speed.setText(state.strategy + (f" · {readout}" if readout else ""))
