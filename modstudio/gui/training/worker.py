"""The QThread that runs one training run, in a training process of its own.

The thread relays: it hands the run to ``modstudio.learn.remote`` (which starts the process, or
takes one started ahead), and passes each event the process sends to the bridge. It spends its
time blocked on the process's output, without the GIL, so the window's Python never waits for
the trainer's, nor the trainer's for the window's (see ``modstudio.learn.host`` for the figures).
Torch is never imported into the studio's process for training.
"""

from __future__ import annotations

import os
import traceback

from PySide6.QtCore import QThread, Signal


def default_threads(device: str) -> int | None:
    """Intra-op threads for a CPU run started from the window: every core but one (None: torch's choice)."""
    if device not in ("cpu", "auto"):
        return None
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores > 1 else None


class TrainingWorker(QThread):
    run_done = Signal(object)  # the Run record (finished, stopped or failed); queued to the GUI thread

    def __init__(self, graph, tasks, settings, bridge, threads: int | None = -1, parent=None) -> None:
        from modstudio.learn.remote import RemoteTrainer

        super().__init__(parent)
        # The run gets its own copies: the project may be saved (or, after the run, edited) meanwhile.
        self.graph = graph.copy()
        self.tasks = list(tasks)
        self.settings = settings
        self.bridge = bridge
        self.threads = default_threads(settings.device) if threads == -1 else threads
        self.trainer = RemoteTrainer(self.graph, self.tasks, settings, [bridge], self.threads)
        self.result = None
        self._paused = False

    # ------------------------------------------------------------------ control (any thread)

    def stop(self) -> None:
        self.trainer.stop()

    def pause(self) -> None:
        self._paused = True
        self.trainer.pause()

    def resume(self) -> None:
        self._paused = False
        self.trainer.resume()

    def kill(self) -> None:
        """End the training process at once: for a run that does not answer stop."""
        self.trainer.kill()

    @property
    def paused(self) -> bool:
        return self._paused

    # ------------------------------------------------------------------ the thread

    def run(self) -> None:  # noqa: D401 - QThread's entry point
        try:
            self.result = self.trainer.run()
        except BaseException as exc:  # run() returns every failure as a run; this is a bug's safety net
            self.result = self._failed_run(exc)
        self.run_done.emit(self.result)

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
