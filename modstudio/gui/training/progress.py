"""The run's progress line: a bar with task k of n, epoch, samples/s and ETA, and the phase."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from modstudio.gui.numbers import compact_count
from modstudio.progress import format_seconds

PHASES = {"search": "searching", "train": "training", "balance": "balancing", "router": "routing"}
SPEED_TEMPLATE = "888.8 k samples/s · ETA 88:88 · cuda:0"


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

    def _fitting(self, *formats: str) -> str:
        """The first (most telling) of ``formats`` that fits the bar on one line; else the last."""
        room = self.bar.width() - 12
        metrics = self.bar.fontMetrics()
        return next((f for f in formats if metrics.horizontalAdvance(f.replace("%p%", "100%")) <= room), formats[-1])

    def refresh(self, state, paused: bool = False) -> None:
        key = (state.version, state.status, paused)
        if key == self._key:
            return
        self._key = key
        self.bar.setValue(int(round(min(max(state.fraction, 0.0), 1.0) * 1000)))
        if state.status == "running":
            if state.current_task < 0:
                self.bar.setFormat("preparing: loading the engine and the data …")
            else:
                name = state.task_names[state.current_task] if state.current_task < len(state.task_names) else ""
                phase = "paused" if paused else PHASES.get(state.phase, "training")
                task = f"{state.current_task + 1}/{state.n_tasks}"
                epoch = f"{min(state.epoch + 1, state.epochs)}/{state.epochs}" if state.epochs else ""
                long_epoch, short_epoch = (f" · epoch {epoch}", f" · ep {epoch}") if epoch else ("", "")
                unusual = "" if phase == "training" else f" · {phase}"  # worth its room in a narrow bar
                self.bar.setFormat(self._fitting(
                    f"Task {task}{long_epoch} · {phase} · %p%",
                    f"Task {task}{long_epoch}{unusual} · %p%",
                    f"T{task}{short_epoch}{unusual} · %p%",
                    f"T{task}{unusual} · %p%",
                    f"T{task} · %p%",
                ))
                self.bar.setToolTip(f"Task {state.current_task + 1} of {state.n_tasks}: {name}")
            rate = f"{compact_count(state.samples_per_s, ' ')} samples/s" if state.samples_per_s else ""
            self.speed.setText(" · ".join(p for p in (rate, f"ETA {format_seconds(state.eta_s)}" if rate else "",
                                                      state.device) if p))
        elif state.status == "idle":
            self.bar.setFormat("idle: press Train to run the task sequence")
            self.speed.setText("")
        else:
            words = {"finished": "Finished", "stopped": "Stopped", "failed": "Failed"}.get(state.status, state.status)
            trained = state.tasks_trained
            self.bar.setFormat(f"{words}: {trained} of {state.n_tasks} task{'s' * (state.n_tasks != 1)} trained"
                               + (f" — {state.message}" if state.status == "failed" and state.message else ""))
            if state.status == "finished":
                self.bar.setValue(1000)
            self.speed.setText(state.strategy)
