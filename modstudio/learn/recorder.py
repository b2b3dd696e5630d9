"""The one builder of run records: a subscriber to the trainer's events.

The trainer in this process, and the studio's side of a run in a training process of its own,
both keep the run this recorder writes from the events, so a run is the same record whichever
way it was trained, and a run whose process died mid-way keeps everything its events had said.
Only the trained weights do not travel as events; their owner attaches them. Torch-free.
"""

from __future__ import annotations

from modstudio.learn import events as ev
from modstudio.learn.metrics import summarize
from modstudio.project.run import Run, RunMetrics, now_iso


class RunRecorder:
    """Call it with every event of one run; ``run`` is the record so far."""

    def __init__(self, graph, settings) -> None:
        self.run = Run(strategy=settings.strategy, settings=settings.to_dict(), graph=graph.to_dict())
        self.finished = False  # a RunFinished event came
        self._handlers = {
            ev.RunStarted: self._on_run_started,
            ev.Evaluated: self._on_evaluated,
            ev.EpochEnded: self._on_epoch_ended,
            ev.TaskEnded: self._on_task_ended,
            ev.MemoryUpdated: self._on_memory_updated,
            ev.RunFinished: self._on_run_finished,
        }

    def __call__(self, event: ev.Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _on_run_started(self, event: ev.RunStarted) -> None:
        self.run.id = event.run_id
        self.run.metrics.test_sizes = list(event.test_sizes)
        if event.started:
            self.run.started = event.started

    def _on_evaluated(self, event: ev.Evaluated) -> None:
        if event.task == -1:  # before training: row 0 of the matrix
            self.run.acc_matrix = [list(event.accuracies)]

    def _on_epoch_ended(self, event: ev.EpochEnded) -> None:
        self.run.curves.append(event.curve_point())

    def _on_task_ended(self, event: ev.TaskEnded) -> None:
        run, metrics = self.run, self.run.metrics
        run.acc_matrix.append(list(event.accuracies))
        run.paths.append(dict(event.path))
        run.params_per_task.append(event.parameters)
        metrics.seconds_per_task.append(round(event.seconds, 3))
        metrics.task_parameters.append(event.task_parameters)
        if event.task_inference is not None:
            metrics.task_inference = list(event.task_inference)

    def _on_memory_updated(self, event: ev.MemoryUpdated) -> None:
        self.run.memory = {"samples": event.samples, "bytes": event.nbytes,
                           "items": [list(item) for item in event.items]}

    def _on_run_finished(self, event: ev.RunFinished) -> None:
        self.finished = True
        self.end(event.status, event.message, event.details, event.ended)
        self.run.metrics.bank_sizes = dict(event.bank_sizes)
        self.run.metrics.total_parameters = event.total_parameters

    def end(self, status: str, message: str, details: str = "", ended: str = "") -> Run:
        """Close the record (also for a run whose process died before saying so itself)."""
        run = self.run
        run.status, run.message, run.ended = status, message, ended or now_iso()
        previous = run.metrics
        figures = summarize(run.acc_matrix, previous.test_sizes).to_dict() if run.acc_matrix else {}
        run.metrics = RunMetrics(**{**previous.to_dict(), **figures, "traceback": details or previous.traceback})
        return run
