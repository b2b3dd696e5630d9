"""The QThread that runs one training run, in a training process of its own.

The thread relays: it hands the run to ``modstudio.learn.remote`` (which starts the process, or
takes one started ahead), and passes each event the process sends to the bridge. It spends its
time blocked on the process's output, without the GIL, so the window's Python never waits for
the trainer's, nor the trainer's for the window's (see ``modstudio.learn.host`` for the figures).
Torch is never imported into the studio's process for training. (Tests may hand it another
``trainer_factory``: one that trains in the test's own process, see ``tests/gui/helpers.py``.)
"""

from __future__ import annotations

import os
import traceback

from modstudio.gui.jobs import Job


def default_threads(device: str) -> int | None:
    """Intra-op threads for a CPU run started from the window: every core but one (None: torch's choice)."""
    if device not in ("cpu", "auto"):
        return None
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores > 1 else None


def remote_trainer(graph, tasks, settings, callbacks, threads):
    """The default ``trainer_factory``: a run in a training process of its own."""
    from modstudio.learn.remote import RemoteTrainer

    return RemoteTrainer(graph, tasks, settings, callbacks, threads)


class TrainingWorker(Job):
    """A :class:`Job` whose work is the run: ``done`` brings the Run record
    (finished, stopped or failed; never ``failed``), queued to the GUI thread.

    ``trainer_factory(graph, tasks, settings, callbacks, threads)`` makes the trainer: an object with
    ``run()`` (returning the Run) and thread-safe ``stop()``, ``pause()``, ``resume()``, ``kill()``.
    """

    def __init__(self, graph, tasks, settings, bridge, threads: int | None = -1, trainer_factory=None,
                 parent=None) -> None:
        super().__init__(self._train, parent)
        # The run gets its own copies: the project may be saved (or, after the run, edited) meanwhile.
        self.graph = graph.copy()
        self.tasks = list(tasks)
        self.settings = settings
        self.bridge = bridge
        self.threads = default_threads(settings.device) if threads == -1 else threads
        self.trainer = (trainer_factory or remote_trainer)(self.graph, self.tasks, settings, [bridge], self.threads)
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

    def _train(self):
        """The job's work, on its thread: the Run record, whatever happens."""
        try:
            self.result = self.trainer.run()
        except BaseException as exc:  # run() returns every failure as a run; this is a bug's safety net
            self.result = self._failed_run(exc)
        return self.result

    def _failed_run(self, exc: BaseException):
        from modstudio.learn.events import RunFinished
        from modstudio.learn.recorder import RunRecorder

        event = RunFinished("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        recorder = RunRecorder(self.graph, self.settings)
        recorder(event)
        try:
            self.bridge(event)
        except Exception:
            pass
        return recorder.run
