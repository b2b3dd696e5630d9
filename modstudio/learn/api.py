"""``ms.train``: train a project's task sequence and keep the run in the project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from modstudio.learn.metrics import Summary, summarize
from modstudio.learn.trainer import Callback, Trainer, TrainingError
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
    strategy parameter, TrainingError a ``project`` that is not one. The strategy's parameters are
    returned checked and normalised."""
    _check_project(project)
    settings = project.settings.replace(**{k: v for k, v in overrides.items() if v is not None})
    spec = strategy_specs.get(settings.strategy)
    return settings.replace(strategy_params=spec.check_params(settings.strategy_params))


def train(project, *, callbacks: Sequence[Callback] = (), trainer_ready=None, **overrides: Any) -> TrainResult:
    """Train ``project.tasks`` with its settings (``strategy=``, ``epochs=``, … override them for this
    run); the run, finished, stopped or failed, is appended to ``project.runs``.

    ``trainer_ready(trainer)`` is called before training starts, so a caller can keep a handle
    for ``stop()``/``pause()`` (the CLI's Ctrl-C, the GUI's buttons).

    Ctrl-C (KeyboardInterrupt) during training stops the run: it is appended to ``project.runs``
    as stopped, with its history and weights, and then the KeyboardInterrupt is raised again, so
    a script or notebook cell stops as the user asked (the run is ``project.runs[-1]``). A callback
    that raises makes the run failed, with the reason in ``run.message``; the run is still kept.
    Bad arguments raise before anything trains: SettingsError or StrategyError (ValueErrors naming
    the setting), TrainingError for a bad ``project`` (tasks that do not fit the network included),
    ``callbacks`` or ``trainer_ready``.
    """
    settings = settings_with(project, **overrides)
    check_fits(project)
    callbacks = _check_callbacks(callbacks, trainer_ready)
    trainer = Trainer(project.graph, project.tasks, settings, callbacks)
    if trainer_ready is not None:
        trainer_ready(trainer)
    run = trainer.run()
    project.runs.append(run)
    if trainer.interrupted:
        raise KeyboardInterrupt
    return TrainResult(run, run_summary(run), trainer)


def check_fits(project) -> None:
    """TrainingError, before anything trains, when the tasks do not fit the network (the Input's
    shape against their samples, their shapes among themselves, a fixed head against their classes):
    a problem that can be seen now is said now, not recorded as a failed run after the first batch."""
    from modstudio.project.check import task_errors

    tasks = list(project.tasks)
    if not tasks:
        return
    report = project.graph.check(input_shape=tuple(tasks[0].sample_shape), classes=int(tasks[0].num_classes))
    errors = task_errors(project.graph, report, tasks)
    if errors:
        raise TrainingError("the tasks do not fit the network: " + "; ".join(e.message for e in errors))


def _check_project(project) -> None:
    from modstudio.project import Project

    if not isinstance(project, Project):
        raise TrainingError(f"project: expected a modstudio Project, got {type(project).__name__}")


def _check_callbacks(callbacks, trainer_ready) -> list[Callback]:
    if callable(callbacks) or isinstance(callbacks, (str, bytes)):
        raise TrainingError("callbacks: expected a list of functions (callbacks=[fn]), got one "
                            f"{type(callbacks).__name__}")
    try:
        listed = list(callbacks)
    except TypeError:
        raise TrainingError(f"callbacks: expected a list of functions, got {type(callbacks).__name__}") from None
    for index, callback in enumerate(listed):
        if not callable(callback):
            raise TrainingError(f"callbacks[{index}]: expected a function of one event, got "
                                f"{type(callback).__name__}")
    if trainer_ready is not None and not callable(trainer_ready):
        raise TrainingError(f"trainer_ready: expected a function of the trainer, got {type(trainer_ready).__name__}")
    return listed


def run_summary(run: Run) -> Summary:
    """The run's figures; a run that failed before its first evaluation has none (not made-up ones)."""
    return summarize(run.acc_matrix, run.metrics.test_sizes) if run.acc_matrix else Summary(0, None, None, None, None)
