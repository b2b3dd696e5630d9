"""A run's history as TensorBoard event files (the optional extra ``modstudio[tracking]``).

One folder per run, named by its index in the project, its strategy and its short id
(``03-expansion-1a2b3c4d``), so ``tensorboard --logdir DIR`` compares runs. What a folder holds,
each a scalar series (step: see ``TAGS``) plus the settings as hyper-parameters:

* ``accuracy_by_epoch/task_J`` — task J's test accuracy after every epoch (``Run.curves``),
  ``loss/train`` the epoch's mean training loss; step = epochs trained so far in the run (1, 2, …);
* ``accuracy_by_task/task_J`` — the accuracy matrix (``Run.acc_matrix``): step 0 before training,
  step i after task i;
* ``parameters/network`` (``Run.params_per_task``), ``parameters/path`` (what task i's inference
  uses) and ``seconds/task``, step = task i (1-based);
* ``metrics/acc``, ``metrics/bwt``, ``metrics/fwt``, ``metrics/forgetting`` (``Run.metrics``) and
  ``task_inference/task_J`` (class-incremental path runs), step = tasks trained;
* the hparams plugin's session (its name the run id): every training setting but ``embed_data``
  (a file setting), the strategy's parameters as ``strategy.NAME`` (defaults filled in), and the
  run's end status (finished: success, failed: failure, stopped: unknown).

Task numbers in tags are 1-based, as the progress bar counts them. No experiment summary is
written, so runs of any strategy (each with its own parameters) can share one log folder: the
hparams plugin gathers the hyper-parameters of every session, and every scalar is a metric it can
show. Wall times follow the run: its start, plus the seconds each task took.

Writing uses the ``tensorboard`` package's own event-file writer and protocol buffers; no torch,
no TensorFlow. A folder written before is rewritten: the event files this module left there
(``*.modstudio``) are replaced, anything else in it is left alone.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from modstudio.project.run import Run

EXTRA = "modstudio[tracking]"
INSTALL_HINT = f'pip install "{EXTRA}"'
FILE_SUFFIX = ".modstudio"  # marks the event files written here (events.out.tfevents.….modstudio)
SKIPPED_SETTINGS = ("strategy_params", "embed_data")  # the first is spread out; the second is not a hyper-parameter

# every scalar tag (J: a task, 1-based) and what its step counts
TAGS = {
    "accuracy_by_epoch/task_J": "epochs trained in the run",
    "loss/train": "epochs trained in the run",
    "accuracy_by_task/task_J": "tasks trained (0: before training)",
    "parameters/network": "task",
    "parameters/path": "task",
    "seconds/task": "task",
    "task_inference/task_J": "tasks trained",
    **{f"metrics/{name}": "tasks trained" for name in ("acc", "bwt", "fwt", "forgetting")},
}


class TrackingError(Exception):
    """TensorBoard files cannot be written; the message says why in one line."""


class TrackingUnavailable(TrackingError):
    """The ``tensorboard`` package is not installed."""


def require() -> None:
    """TrackingUnavailable (saying what to install) unless the tensorboard package can be used."""
    try:
        _tb()
    except ImportError:
        raise TrackingUnavailable(f"writing TensorBoard files needs the tensorboard package, which is not "
                                  f"installed: {INSTALL_HINT}") from None


def check_target(directory: str | Path) -> Path:
    """The log folder, once it is known that runs can be written there (the package is installed,
    the path is not a file): a check to make before a long training run."""
    require()
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise TrackingError(f"{path} is not a folder: give a folder for the TensorBoard files")
    return path


def run_folder(index: int, run: Run) -> str:
    """The sub-folder a run goes to: ``03-expansion-1a2b3c4d`` (index in the project, strategy, id)."""
    strategy = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.strategy or "run")
    return f"{index:02d}-{strategy}-{run.id[:8]}"


def write_runs(runs: Iterable[Run], directory: str | Path) -> list[Path]:
    """Every run to its own sub-folder of ``directory`` (named by ``run_folder``); their folders."""
    return [write_run(run, directory, index) for index, run in enumerate(runs)]


def write_run(run: Run, directory: str | Path, index: int) -> Path:
    """One run's history to ``directory/run_folder(index, run)``; returns that folder."""
    base = check_target(directory)
    folder = base / run_folder(index, run)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"events.out.tfevents.*{FILE_SUFFIX}"):
            old.unlink()
        _write(run, folder)
    except OSError as exc:
        raise TrackingError(f"cannot write TensorBoard files to {folder}: {exc.strerror or exc}") from None
    return folder


# ---------------------------------------------------------------------------------------- writing

def _tb():
    """The tensorboard pieces used here, imported on first use (ImportError if not installed)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2, summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    return event_pb2, summary_pb2, api_pb2, metadata, plugin_data_pb2, summary_v2, EventFileWriter


def scalars(run: Run) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series written for ``run``: tag → [(step, value)], None values left out."""
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
    trained = m.tasks_trained or max(len(run.acc_matrix) - 1, 0)
    for j, rate in enumerate(m.task_inference or ()):
        add(f"task_inference/task_{j + 1}", trained, rate)
    for name, value in m.figures().items():
        add(f"metrics/{name}", trained, value)
    return series


def hparams(run: Run) -> dict[str, bool | int | float | str]:
    """The run's settings as TensorBoard hyper-parameters; the strategy's parameters as ``strategy.NAME``,
    its defaults filled in (what the run used)."""
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
    return json.dumps(value, sort_keys=True)  # a list or object: shown as its JSON


def _write(run: Run, folder: Path) -> None:
    event_pb2, summary_pb2, api_pb2, metadata, plugin_data_pb2, summary_v2, EventFileWriter = _tb()
    clock = _Clock(run)
    writer = EventFileWriter(str(folder), max_queue_size=1024, filename_suffix=FILE_SUFFIX)
    try:
        def emit(summary, step: int, wall_time: float) -> None:
            writer.add_event(event_pb2.Event(wall_time=wall_time, step=step, summary=summary))

        start = clock.start
        emit(summary_v2.hparams_pb(hparams(run), trial_id=run.id, start_time_secs=start), 0, start)
        for tag, points in scalars(run).items():
            for step, value in points:
                summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
                emit(summary, step, clock.at(tag, step))
        status = {"finished": api_pb2.STATUS_SUCCESS, "failed": api_pb2.STATUS_FAILURE,
                  "running": api_pb2.STATUS_RUNNING}.get(run.status, api_pb2.STATUS_UNKNOWN)  # stopped: unknown
        end_info = plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=clock.end))
        end = summary_pb2.Summary()
        end.value.add(tag=metadata.SESSION_END_INFO_TAG, metadata=metadata.create_summary_metadata(end_info),
                      tensor=metadata.NULL_TENSOR)
        emit(end, clock.epochs, clock.end)
    finally:
        writer.close()


class _Clock:
    """Wall times for a run's points: its start plus the seconds each task took (an epoch's share
    of its task's time), so TensorBoard's "relative" axis shows the run's own time."""

    def __init__(self, run: Run) -> None:
        self.start = _timestamp(run.started) or datetime.now().timestamp()
        seconds = list(run.metrics.seconds_per_task)
        self.task_end = [self.start]  # task_end[i]: after i tasks
        for s in seconds:
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
        if TAGS.get(_family(tag)) == "epochs trained in the run":
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
