"""``ms.train``: train a project's task sequence and keep the run in the project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from modstudio.learn.metrics import Summary, summarize
from modstudio.learn.trainer import Callback, Trainer
from modstudio.project import strategy_specs
from modstudio.project.run import Run
from modstudio.project.settings import TrainingSettings


@dataclass
class TrainResult:
    run: Run
    metrics: Summary
    trainer: Trainer

    @property
    def network(self):
        return self.trainer.net


def settings_with(project, **overrides: Any) -> TrainingSettings:
    """The project's settings with the given (non-None) overrides, every one checked before any
    training: SettingsError (a ValueError) names a bad setting, StrategyError a bad strategy or
    strategy parameter. The strategy's parameters are returned checked and normalised."""
    settings = project.settings.replace(**{k: v for k, v in overrides.items() if v is not None})
    spec = strategy_specs.get(settings.strategy)
    return settings.replace(strategy_params=spec.check_params(settings.strategy_params))


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
    return TrainResult(run, run_summary(run), trainer)


def run_summary(run: Run) -> Summary:
    """The run's figures; a run that failed before its first evaluation has none (not made-up ones)."""
    return summarize(run.acc_matrix) if run.acc_matrix else Summary(0, None, None, None, None)
