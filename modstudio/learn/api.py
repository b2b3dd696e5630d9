"""``ms.train``: train a project's task sequence and keep the run in the project."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

from modstudio.learn.metrics import Summary, summarize
from modstudio.learn.trainer import Callback, Trainer
from modstudio.project.model import Run


@dataclass
class TrainResult:
    run: Run
    metrics: Summary
    trainer: Trainer

    @property
    def network(self):
        return self.trainer.net


def settings_with(project, **overrides: Any):
    """The project's settings with the given (non-None) overrides, checked field by field."""
    fields = {f.name for f in dataclasses.fields(project.settings)}
    unknown = set(overrides) - fields
    if unknown:
        raise TypeError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
    return dataclasses.replace(project.settings, **{k: v for k, v in overrides.items() if v is not None})


def train(project, *, callbacks: Sequence[Callback] = (), trainer_ready=None, **overrides: Any) -> TrainResult:
    """Train ``project.tasks`` with its settings (``strategy=``, ``epochs=``, … override them for this
    run); the run, finished, stopped or failed, is appended to ``project.runs``.

    ``trainer_ready(trainer)`` is called before training starts, so a caller can keep a handle
    for ``stop()``/``pause()`` (the CLI's Ctrl-C, the GUI's buttons).
    """
    settings = settings_with(project, **overrides)
    trainer = Trainer(project.graph, project.tasks, settings, callbacks)
    if trainer_ready is not None:
        trainer_ready(trainer)
    run = trainer.run()
    project.runs.append(run)
    # A run that failed before its first evaluation has no matrix: no figures, rather than made-up ones.
    metrics = summarize(run.acc_matrix) if run.acc_matrix else Summary(0, None, None, None, None)
    return TrainResult(run, metrics, trainer)
