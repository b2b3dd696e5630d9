"""A run's history in MLflow: one MLflow run per ModStudio run, in a local folder or at a tracking URI.

The target is a folder (a path or a ``file://`` URI: MLflow's file store, opted into for these
calls since MLflow 3 keeps that store in maintenance mode) or any tracking URI MLflow's client
takes (``http://host:5000``, ``sqlite:///mlflow.db``, ``databricks``). Runs go to the experiment
named after the project (created if missing). An MLflow run holds:

* every series of ``history.scalars`` as a metric of the same name (``accuracy_by_epoch/task_1``,
  ``metrics/bwt``, …), each value with its step and the run's own wall time;
* the settings as parameters (``history.hparams``: ``lr``, ``strategy.lambda``, …);
* the run name ``history.run_name`` (``03-expansion-1a2b3c4d``), its start and end, its status
  (finished: FINISHED, failed: FAILED, stopped: KILLED) and the tags ``modstudio.run_id``,
  ``modstudio.status`` (and ``modstudio.message`` where the run has one).

Logging a ModStudio run again replaces the MLflow run logged for it before (found by the
``modstudio.run_id`` tag; MLflow's delete keeps it in the trash), so a project's runs are there
once each. Uses the ``mlflow`` client library (``mlflow-skinny`` is enough for a folder or a
server); MLflow's usage telemetry is off unless the environment turns it on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator
from urllib.parse import urlparse
from urllib.request import url2pathname

from modstudio.tracking import TrackingError, history, unavailable

if TYPE_CHECKING:
    from modstudio.project.run import Run

RUN_ID_TAG = "modstudio.run_id"
STATUSES = {"finished": "FINISHED", "failed": "FAILED", "stopped": "KILLED"}  # "running": left RUNNING
DEFAULT_EXPERIMENT = "ModStudio"  # for a project without a name
ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: C:\… is a Windows path
BARE_URIS = ("databricks",)  # tracking URIs without a scheme


@dataclass(frozen=True)
class Logged:
    """Where one ModStudio run went."""

    name: str  # the MLflow run name (history.run_name)
    run_id: str  # MLflow's id for it
    experiment: str  # the experiment's name
    experiment_id: str


def available() -> bool:
    """Whether the mlflow package is installed, without importing it (that takes seconds)."""
    return importlib.util.find_spec("mlflow") is not None


def require() -> None:
    """TrackingUnavailable (saying what to install) unless MLflow's client can be imported."""
    try:
        _client_class()
    except ImportError:
        raise unavailable("logging to MLflow", "mlflow") from None


def tracking_uri(target: str | Path) -> str:
    """The tracking URI for ``target``: a folder as a ``file://`` URI, a URI as it is."""
    text = str(target)
    if text in BARE_URIS or _SCHEME.match(text):
        return text
    return Path(text).expanduser().resolve().as_uri()


def local_folder(uri: str) -> Path | None:
    """The folder of a ``file:`` tracking URI (MLflow's file store); None for any other store."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(url2pathname(parsed.path))  # unquoted; a drive letter on Windows


def check_target(target: str | Path) -> str:
    """The tracking URI, once it is known that runs can be logged there: the package is installed,
    MLflow has a store for the URI, a folder is not a file. Contacts no server: a check to make
    before a long training run."""
    require()
    uri = tracking_uri(target)
    folder = local_folder(uri)
    if folder is not None and folder.exists() and not folder.is_dir():
        raise TrackingError(f"{folder} is not a folder: give a folder or a tracking URI for MLflow")
    with _errors(uri, "cannot use MLflow tracking URI"):
        with _store_allowed(uri):
            _client_class()(tracking_uri=uri)  # builds the store: a missing driver or a bad URI is said now
    return uri


def write_runs(runs: Iterable[Run], target: str | Path, experiment: str,
               indices: Iterable[int] | None = None) -> list[Logged]:
    """Every run to MLflow at ``target``, in ``experiment``; ``indices``: the runs' places in the
    project (default 0, 1, …), which name them."""
    uri = check_target(target)
    runs = list(runs)
    indices = list(range(len(runs)) if indices is None else indices)
    if not runs:
        return []
    with _errors(uri, "cannot log to MLflow at"), _store_allowed(uri):
        client = _client_class()(tracking_uri=uri)
        experiment = experiment or DEFAULT_EXPERIMENT
        experiment_id = _experiment(client, experiment)
        return [Logged(history.run_name(index, run), _log(client, experiment_id, run, index), experiment,
                       experiment_id) for run, index in zip(runs, indices)]


def write_run(run: Run, target: str | Path, experiment: str, index: int) -> Logged:
    """One run to MLflow at ``target``, in ``experiment``, named by its ``index`` in the project."""
    return write_runs([run], target, experiment, [index])[0]


def view_hint(uri: str) -> str:
    """How to see the runs logged at ``uri``: a server's own page, else MLflow's UI over the store."""
    if uri.startswith(("http:", "https:")):
        return f"view them at {uri}"
    allow = f"{ALLOW_FILE_STORE}=true " if local_folder(uri) is not None else ""
    return f"view them with: {allow}mlflow ui --backend-store-uri {uri}"


# ---------------------------------------------------------------------------------------- writing

def _client_class():
    """MLflow's client class, imported on first use (ImportError if mlflow is not installed)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # logging a run sends nothing anywhere else
    from mlflow.tracking import MlflowClient

    return MlflowClient


def _experiment(client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name)
    if found.lifecycle_stage == "deleted":  # a name in MLflow's trash cannot be created again
        client.restore_experiment(found.experiment_id)
    return found.experiment_id


def _log(client, experiment_id: str, run: Run, index: int) -> str:
    """Log one run (replacing the one logged for it before); its MLflow run id."""
    from mlflow.entities import Metric, Param

    for old in client.search_runs([experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run.id}'"):
        client.delete_run(old.info.run_id)
    clock = history.Clock(run)
    name = history.run_name(index, run)
    tags = {RUN_ID_TAG: run.id, "modstudio.status": run.status}
    if run.message:
        tags["modstudio.message"] = run.message[:5000]
    created = client.create_run(experiment_id, start_time=_ms(clock.start), tags=tags, run_name=name)
    run_id = created.info.run_id
    try:
        client.log_batch(
            run_id,
            metrics=[Metric(p.tag, p.value, _ms(p.wall_time), p.step) for p in history.points(run)],
            params=[Param(k, _param_text(v)) for k, v in history.hparams(run).items()],
        )
        if run.status in STATUSES:
            client.set_terminated(run_id, STATUSES[run.status], end_time=_ms(clock.end))
    except BaseException:
        with contextlib.suppress(Exception):
            client.delete_run(run_id)  # no half-logged run is left to look like a whole one
        raise
    return run_id


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _param_text(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@contextlib.contextmanager
def _store_allowed(uri: str) -> Iterator[None]:
    """MLflow 3 refuses its file store unless ``MLFLOW_ALLOW_FILE_STORE`` says yes: a folder chosen
    here is that yes, for these calls (a value the user set is left as it is)."""
    if local_folder(uri) is None or ALLOW_FILE_STORE in os.environ:
        yield
        return
    os.environ[ALLOW_FILE_STORE] = "true"
    try:
        yield
    finally:
        os.environ.pop(ALLOW_FILE_STORE, None)


@contextlib.contextmanager
def _errors(uri: str, what: str) -> Iterator[None]:
    """MLflow's exceptions (and a driver it cannot import) as a one-line TrackingError."""
    try:
        yield
    except TrackingError:
        raise
    except ImportError as exc:
        raise TrackingError(f"{what} {uri}: MLflow needs the {exc.name or 'missing'} package for it "
                            f"(pip install mlflow)") from None
    except Exception as exc:  # MlflowException, OSError, a requests error from a server
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(f"{what} {uri}: {message[:300]}") from None
