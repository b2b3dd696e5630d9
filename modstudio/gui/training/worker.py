"""The QThread that runs one training run.

The learn layer (and with it torch) is imported here, on the worker thread, the first time a run
starts, so the window never waits for it. Stop/pause/resume may arrive before the trainer exists
(torch still importing): they are remembered and applied when it is ready.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback

from PySide6.QtCore import QThread, Signal


SWITCH_INTERVAL_S = 0.001


def default_threads(device: str) -> int | None:
    """Intra-op threads for a CPU run started from the window: every core but one (None: torch's choice)."""
    if device not in ("cpu", "auto"):
        return None
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores > 1 else None


class TrainingWorker(QThread):
    run_done = Signal(object)  # the Run record (finished, stopped or failed); queued to the GUI thread

    def __init__(self, graph, tasks, settings, bridge, threads: int | None = -1, parent=None) -> None:
        super().__init__(parent)
        # The worker trains on its own copies: the project may be saved (or, after the run, edited)
        # while the trainer still holds them.
        self.graph = graph.copy()
        self.tasks = list(tasks)
        self.settings = settings
        self.bridge = bridge
        self.threads = default_threads(settings.device) if threads == -1 else threads
        self.trainer = None
        self.result = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self._pause_requested = False

    # ------------------------------------------------------------------ control (any thread)

    def stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            if self.trainer is not None:
                self.trainer.stop()

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            if self.trainer is not None:
                self.trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause_requested = False
            if self.trainer is not None:
                self.trainer.resume()

    @property
    def paused(self) -> bool:
        return self._pause_requested

    # ------------------------------------------------------------------ the thread

    def run(self) -> None:  # noqa: D401 - QThread's entry point
        # The trainer's per-batch Python holds the GIL; a shorter switch interval hands it to the
        # GUI thread within ~1 ms instead of 5 ms, which keeps the event loop's stalls short.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, SWITCH_INTERVAL_S))
        try:
            self.result = self._train()
        except BaseException as exc:  # the trainer never raises; an import or set-up error may
            self.result = self._failed_run(exc)
        finally:
            sys.setswitchinterval(interval)
        self.run_done.emit(self.result)

    def _train(self):
        import torch

        from modstudio.learn.trainer import Trainer

        trainer = Trainer(self.graph, self.tasks, self.settings, [self.bridge])
        with self._lock:
            self.trainer = trainer
            if self._stop_requested:
                trainer.stop()
            elif self._pause_requested:
                trainer.pause()
        threads = torch.get_num_threads()
        # Leave a core to the GUI thread: CPU kernels of studio-sized networks gain little from the
        # last core, and the event loop stalls when every core is busy with intra-op threads.
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            return trainer.run()
        finally:
            torch.set_num_threads(threads)

    def _failed_run(self, exc: BaseException):
        from dataclasses import asdict

        from modstudio.learn.events import RunFinished
        from modstudio.project.model import Run, now_iso

        run = Run(strategy=self.settings.strategy, settings=asdict(self.settings), graph=self.graph.to_dict(),
                  status="failed", message=f"{type(exc).__name__}: {exc}", ended=now_iso())
        run.metrics["traceback"] = traceback.format_exc()
        try:
            self.bridge(RunFinished("failed", run.message, dict(run.metrics)))
        except Exception:
            pass
        return run
