"""A run's history as TensorBoard event files: one folder per run, so ``tensorboard --logdir DIR``
compares runs.

A folder (named by ``history.run_name``: ``03-expansion-1a2b3c4d``) holds every series of
``history.scalars`` and, for the hparams plugin, a session named by the run id with the settings as
hyper-parameters (``history.hparams``) and the run's end status (finished: success, failed:
failure, stopped: unknown). No experiment summary is written, so runs of any strategy (each with
its own parameters) can share one log folder: the hparams plugin gathers the hyper-parameters of
every session, and every scalar is a metric it can show.

Writing uses the ``tensorboard`` package's own event-file writer and protocol buffers; no torch,
no TensorFlow. A folder written before is rewritten: the event files this module left there
(``*.modstudio``) are replaced, anything else in it is left alone.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from modstudio.tracking import TrackingError, history, unavailable

if TYPE_CHECKING:
    from modstudio.project.run import Run

FILE_SUFFIX = ".modstudio"  # marks the event files written here (events.out.tfevents.….modstudio)


def available() -> bool:
    """Whether the tensorboard package is installed, without importing it (cheap on the GUI thread)."""
    return importlib.util.find_spec("tensorboard") is not None


def require() -> None:
    """TrackingUnavailable (saying what to install) unless the tensorboard package can be used."""
    try:
        _tb()
    except ImportError:
        raise unavailable("writing TensorBoard files", "tensorboard") from None


def check_target(directory: str | Path) -> Path:
    """The log folder, once it is known that runs can be written there (the package is installed,
    the path is not a file): a check to make before a long training run."""
    require()
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise TrackingError(f"{path} is not a folder: give a folder for the TensorBoard files")
    return path


def write_runs(runs: Iterable[Run], directory: str | Path, indices: Iterable[int] | None = None) -> list[Path]:
    """Every run to its own sub-folder of ``directory``; ``indices``: the runs' places in the project
    (default 0, 1, …), which name the folders. Returns the folders."""
    runs = list(runs)
    indices = range(len(runs)) if indices is None else indices
    return [write_run(run, directory, index) for run, index in zip(runs, indices)]


def write_run(run: Run, directory: str | Path, index: int) -> Path:
    """One run's history to ``directory/run_name(index, run)``; returns that folder."""
    base = check_target(directory)
    folder = base / history.run_name(index, run)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"events.out.tfevents.*{FILE_SUFFIX}"):
            old.unlink()
        _write(run, folder)
    except OSError as exc:
        raise TrackingError(f"cannot write TensorBoard files to {folder}: {exc.strerror or exc}") from None
    return folder


def _tb():
    """The tensorboard pieces used here, imported on first use (ImportError if not installed)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2, summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    return event_pb2, summary_pb2, api_pb2, metadata, plugin_data_pb2, summary_v2, EventFileWriter


def _write(run: Run, folder: Path) -> None:
    event_pb2, summary_pb2, api_pb2, metadata, plugin_data_pb2, summary_v2, EventFileWriter = _tb()
    clock = history.Clock(run)
    writer = EventFileWriter(str(folder), max_queue_size=1024, filename_suffix=FILE_SUFFIX)
    try:
        def emit(summary, step: int, wall_time: float) -> None:
            writer.add_event(event_pb2.Event(wall_time=wall_time, step=step, summary=summary))

        start = clock.start
        emit(summary_v2.hparams_pb(history.hparams(run), trial_id=run.id, start_time_secs=start), 0, start)
        for point in history.points(run):
            value = summary_pb2.Summary.Value(tag=point.tag, simple_value=point.value)
            emit(summary_pb2.Summary(value=[value]), point.step, point.wall_time)
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
