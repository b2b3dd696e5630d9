"""A run's history in MLflow (`train --mlflow`, `runs --mlflow`), logged to a local file store in
tmp_path and read back with MLflow's own client, compared with the run record value by value."""

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

import modstudio as ms
from modstudio.cli import main
from tests.tracking.expected import expected_scalars, expected_settings

pytest.importorskip("mlflow")
from mlflow.entities import ViewType  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from modstudio.tracking import mlflow as tracking_mlflow  # noqa: E402

INSTALL = 'pip install "modstudio[tracking]"'


@pytest.fixture
def reader(monkeypatch):
    """MLflow's client over a store the code under test wrote. MLflow 3 opens a file store only when
    MLFLOW_ALLOW_FILE_STORE says so: the writer says it for its own calls and takes it back after
    (checked here), the test says it for its reading client."""
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)

    def client(uri: str) -> MlflowClient:
        assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        return MlflowClient(uri)
    return client


def param_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else str(value)


def ms_of(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def active_runs(client, experiment_id):
    return client.search_runs([experiment_id], run_view_type=ViewType.ACTIVE_ONLY)


def check_logged(client, mlflow_run, run, index) -> None:
    """The MLflow run holds the ModStudio run: every metric's history, the settings, name, times, status."""
    info, data = mlflow_run.info, mlflow_run.data
    assert info.run_name == f"{index:02d}-{run.strategy}-{run.id[:8]}"
    assert data.tags["modstudio.run_id"] == run.id and data.tags["modstudio.status"] == run.status
    assert info.status == {"finished": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}[run.status]
    assert info.start_time == ms_of(run.started) and info.end_time >= ms_of(run.ended)
    expected = expected_scalars(run)
    assert set(data.metrics) == set(expected)
    for key, points in expected.items():
        history = client.get_metric_history(info.run_id, key)
        assert sorted((m.step, m.value) for m in history) == points, key
        assert all(info.start_time <= m.timestamp <= info.end_time for m in history), key
    assert len(expected["accuracy_by_epoch/task_1"]) == len(run.curves) and len(expected) > 10
    assert data.params == {k: param_text(v) for k, v in expected_settings(run).items()}


def test_train_mlflow_logs_the_saved_run_to_a_folder(project_file, tmp_path, capsys, reader):
    out, store = tmp_path / "trained.modstudio", tmp_path / "mlruns"
    assert main(["train", str(project_file), "--strategy", "expansion", "--scenario", "class", "--epochs", "1",
                 "--seed", "3", "--param", "tolerance=0.02", "--device", "cpu", "--json", "-o", str(out),
                 "--mlflow", str(store)]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)  # --json keeps stdout one JSON object: the MLflow line goes to stderr
    project = ms.load_project(out)
    run = project.runs[1]
    client = reader(store.as_uri())
    experiment = client.get_experiment_by_name(project.name)
    [logged] = active_runs(client, experiment.experiment_id)
    assert f"logged the run to MLflow as 01-expansion-{run.id[:8]} (run {logged.info.run_id}" in captured.err
    assert run.metrics.task_inference  # class-incremental: the right-path rates are logged too
    check_logged(client, logged, run, 1)
    assert logged.data.params["strategy.tolerance"] == "0.02" and logged.data.params["seed"] == "3"
    assert logged.data.metrics["metrics/acc"] == run.metrics.acc  # the latest value: the run's ACC


def test_runs_mlflow_logs_every_run_once_and_replaces_what_it_logged(project_file, tmp_path, capsys, reader):
    two = tmp_path / "two.modstudio"
    assert main(["train", str(project_file), "--strategy", "ewc", "--epochs", "1", "--device", "cpu",
                 "-o", str(two)]) == 0
    project = ms.load_project(two)
    project.runs[1].status = "stopped"  # as a Ctrl-C leaves it
    project.save(two)
    capsys.readouterr()
    uri = (tmp_path / "store").as_uri()
    assert main(["runs", str(two), "--mlflow", uri]) == 0
    out = capsys.readouterr().out
    assert f"2 run(s) logged to MLflow experiment “{project.name}” at {uri}" in out
    assert f"MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri {uri}" in out
    client = reader(uri)
    experiment_id = client.get_experiment_by_name(project.name).experiment_id

    def logged_by_id():
        return {r.data.tags["modstudio.run_id"]: r for r in active_runs(client, experiment_id)}

    first = logged_by_id()
    assert set(first) == {r.id for r in project.runs}
    for index, run in enumerate(project.runs):
        check_logged(client, first[run.id], run, index)
    assert main(["runs", str(two), "--mlflow", uri]) == 0  # again: each run once, its history not doubled
    again = logged_by_id()
    assert len(again) == 2 and all(again[k].info.run_id != first[k].info.run_id for k in again)
    for index, run in enumerate(project.runs):
        check_logged(client, again[run.id], run, index)
    deleted = client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert {r.info.run_id for r in deleted} == {r.info.run_id for r in first.values()}  # in MLflow's trash


def test_tensorboard_and_mlflow_together(project_file, tmp_path, capsys, reader):
    logs, store = tmp_path / "tb", tmp_path / "mlruns"
    assert main(["runs", str(project_file), "--tensorboard", str(logs), "--mlflow", str(store)]) == 0
    run = ms.load_project(project_file).runs[0]
    assert [p.name for p in logs.iterdir()] == [f"00-finetune-{run.id[:8]}"]
    client = reader(store.as_uri())
    [logged] = active_runs(client, client.get_experiment_by_name("split digits").experiment_id)
    check_logged(client, logged, run, 0)


def test_a_file_in_the_way_is_refused_before_training(project_file, tmp_path, capsys):
    blocker = tmp_path / "mlruns"
    blocker.write_text("")
    before = project_file.read_bytes()
    assert main(["train", str(project_file), "--mlflow", str(blocker)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"modstudio train: {blocker} is not a folder: give a folder or a tracking URI for MLflow"
    assert project_file.read_bytes() == before


def test_a_uri_mlflow_has_no_store_for_is_refused_before_training(project_file, capsys):
    before = project_file.read_bytes()
    assert main(["train", str(project_file), "--mlflow", "nosuchscheme://somewhere"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("modstudio train: cannot use MLflow tracking URI nosuchscheme://")
    assert project_file.read_bytes() == before


BLOCKED = ("import sys\nsys.modules['mlflow'] = None\nsys.modules['mlflow.tracking'] = None\n"
           "from modstudio.cli import main\nsys.exit(main({argv!r}))\n")


@pytest.mark.parametrize("command", ["train", "runs"])
def test_without_mlflow_the_option_says_what_to_install(project_file, tmp_path, command):
    before = project_file.read_bytes()
    argv = [command, str(project_file), "--tensorboard", str(tmp_path / "tb"), "--mlflow", str(tmp_path / "mlruns")]
    result = subprocess.run([sys.executable, "-c", BLOCKED.format(argv=argv)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"modstudio {command}: ") and INSTALL in lines[0]
    assert "mlflow package" in lines[0] and "Traceback" not in result.stderr
    assert project_file.read_bytes() == before  # nothing trained
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "tb").exists()  # nor half written


def test_a_partial_record_logs_what_it_has(tmp_path, reader):
    """A run stopped before its first epoch ended, with a gap in its matrix: no epochs, no None."""
    from modstudio.project.run import Run, RunMetrics
    from modstudio.project.settings import TrainingSettings

    run = Run(strategy="finetune", settings=TrainingSettings(strategy="finetune").to_dict(), status="stopped",
              acc_matrix=[[0.5, None]], metrics=RunMetrics(tasks_trained=0))
    logged = tracking_mlflow.write_run(run, tmp_path / "store", "", 7)
    assert logged.name == f"07-finetune-{run.id[:8]}" and logged.experiment == "ModStudio"
    client = reader((tmp_path / "store").as_uri())
    got = client.get_run(logged.run_id)
    assert got.data.metrics == {"accuracy_by_task/task_1": 0.5} and got.info.status == "KILLED"
    history = client.get_metric_history(logged.run_id, "accuracy_by_task/task_1")
    assert [(m.step, m.value) for m in history] == [(0, 0.5)]


@pytest.mark.parametrize("target, uri", [
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("sqlite:///runs.db", "sqlite:///runs.db"),
    ("databricks", "databricks"),
])
def test_a_tracking_uri_is_passed_on_as_it_is(target, uri):
    assert tracking_mlflow.tracking_uri(target) == uri and tracking_mlflow.local_folder(uri) is None


def test_a_folder_becomes_a_file_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = tracking_mlflow.tracking_uri("my runs")
    assert uri == (tmp_path / "my runs").as_uri() and tracking_mlflow.local_folder(uri) == tmp_path / "my runs"
