"""A run record walked into what every experiment tracker shows: scalar series and hyper-parameters.

The one place that decides what a run's history is, so TensorBoard and MLflow show the same
figures under the same names. Every series is a tag with steps (J: a task, 1-based, as the
progress bar counts them; what a step counts: see ``TAGS``):

* ``accuracy_by_epoch/task_J`` — task J's test accuracy after every epoch (``Run.curves``),
  ``loss/train`` the epoch's mean training loss; step = epochs trained so far in the run (1, 2, …);
* ``accuracy_by_task/task_J`` — the accuracy matrix (``Run.acc_matrix``): step 0 before training,
  step i after task i;
* ``parameters/network`` (``Run.params_per_task``), ``parameters/path`` (what task i's inference
  uses) and ``seconds/task``, step = task i (1-based);
* ``metrics/NAME`` for every headline figure of ``RunMetrics.FIGURES`` (ACC, BWT, FWT,
  forgetting) and ``task_inference/task_J`` (class-incremental path runs), step = tasks trained.

The hyper-parameters are every training setting but ``embed_data`` (a file setting), and the
strategy's parameters as ``strategy.NAME`` with its defaults filled in (what the run used). Wall
times follow the run: its start, plus the seconds each task took.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modstudio.project.run import RunMetrics

if TYPE_CHECKING:
    from modstudio.project.run import Run

SKIPPED_SETTINGS = ("strategy_params", "embed_data")  # the first is spread out; the second is not a hyper-parameter
EPOCHS, TASKS_TRAINED, TASK = "epochs trained in the run", "tasks trained", "task"

# every scalar tag (J: a task, 1-based) and what its step counts
TAGS = {
    "accuracy_by_epoch/task_J": EPOCHS,
    "loss/train": EPOCHS,
    "accuracy_by_task/task_J": f"{TASKS_TRAINED} (0: before training)",
    "parameters/network": TASK,
    "parameters/path": TASK,
    "seconds/task": TASK,
    "task_inference/task_J": TASKS_TRAINED,
    **{f"metrics/{name}": TASKS_TRAINED for name in RunMetrics.FIGURES},
}


@dataclass(frozen=True)
class Point:
    """One value of one series: what a tracker logs as a scalar."""

    tag: str
    step: int
    value: float
    wall_time: float  # seconds since the epoch


def run_name(index: int, run: Run) -> str:
    """How a run is named in a tracker: ``03-expansion-1a2b3c4d`` (index in the project, strategy,
    short id), so runs sort in project order and each name is unique."""
    strategy = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.strategy or "run")
    return f"{index:02d}-{strategy}-{run.id[:8]}"


def scalars(run: Run) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series of ``run``: tag → [(step, value)]; None and NaN values left out."""
    series: dict[str, list[tuple[int, float]]] = {}

    def add(tag: str, step: int, value: Any) -> None:
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            series.setdefault(tag, []).append((step, float(value)))

    for step, point in enumerate(run.curves, start=1):
        for j, acc in enumerate(point.get("acc") or ()):
            add(f"accuracy_by_epoch/task_{j + 1}", step, acc)
        add("loss/train", step, point.get("loss"))
    for step, row in enumerate(run.acc_matrix):
        for j, acc in enumerate(row):
            add(f"accuracy_by_task/task_{j + 1}", step, acc)
    m = run.metrics
    for i, count in enumerate(run.params_per_task, start=1):
        add("parameters/network", i, count)
    for i, count in enumerate(m.task_parameters, start=1):
        add("parameters/path", i, count)
    for i, seconds in enumerate(m.seconds_per_task, start=1):
        add("seconds/task", i, seconds)
    trained = tasks_trained(run)
    for j, rate in enumerate(m.task_inference or ()):
        add(f"task_inference/task_{j + 1}", trained, rate)
    for name, value in m.figures().items():
        add(f"metrics/{name}", trained, value)
    return series


def points(run: Run) -> list[Point]:
    """Every value of every series of ``run`` with its wall time, series by series."""
    clock = Clock(run)
    return [Point(tag, step, value, clock.at(tag, step))
            for tag, series in scalars(run).items() for step, value in series]


def tasks_trained(run: Run) -> int:
    return run.metrics.tasks_trained or max(len(run.acc_matrix) - 1, 0)


def hparams(run: Run) -> dict[str, bool | int | float | str]:
    """The run's settings as hyper-parameters; the strategy's parameters as ``strategy.NAME``, its
    defaults filled in (what the run used). Lists and objects as their JSON."""
    from modstudio.project import strategy_specs

    values: dict[str, Any] = {k: v for k, v in run.settings.items() if k not in SKIPPED_SETTINGS}
    values.setdefault("strategy", run.strategy)
    spec = strategy_specs.find(run.strategy)  # its defaults are what ran where the settings name none
    params = {**(spec.defaults() if spec else {}), **(run.settings.get("strategy_params") or {})}
    for name, value in params.items():
        values[f"strategy.{name}"] = value
    return {k: _hparam_value(v) for k, v in sorted(values.items()) if v is not None}


def _hparam_value(value: Any) -> bool | int | float | str:
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


class Clock:
    """Wall times for a run's points: its start plus the seconds each task took (an epoch's share
    of its task's time), so a tracker's "relative time" axis shows the run's own time."""

    def __init__(self, run: Run) -> None:
        self.start = _timestamp(run.started) or datetime.now().timestamp()
        self.task_end = [self.start]  # task_end[i]: after i tasks
        for s in run.metrics.seconds_per_task:
            self.task_end.append(self.task_end[-1] + max(float(s), 0.0))
        self.end = max(_timestamp(run.ended) or self.task_end[-1], self.task_end[-1])
        self.epochs = len(run.curves)
        tasks = [int(point.get("task", 0)) for point in run.curves]
        per_task = Counter(tasks)
        self.epoch_time = []
        seen: dict[int, int] = {}
        for t in tasks:
            seen[t] = seen.get(t, 0) + 1
            begin = self._after(t)
            span = self._after(t + 1) - begin
            self.epoch_time.append(begin + span * seen[t] / per_task[t])

    def _after(self, tasks: int) -> float:
        return self.task_end[min(tasks, len(self.task_end) - 1)]

    def at(self, tag: str, step: int) -> float:
        if TAGS.get(_family(tag)) == EPOCHS:
            return self.epoch_time[step - 1] if 0 < step <= len(self.epoch_time) else self.end
        return self._after(step)


def _family(tag: str) -> str:
    return re.sub(r"/task_\d+$", "/task_J", tag)


def _timestamp(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except (TypeError, ValueError):
        return None
