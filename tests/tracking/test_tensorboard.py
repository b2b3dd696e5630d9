"""A run's history in TensorBoard files (`train --tensorboard`, `runs --tensorboard`), read back with
TensorBoard's own event reader and compared with the run record, value by value."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import modstudio as ms
from modstudio.cli import main
from tests.tracking.expected import expected_scalars, expected_settings

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import api_pb2, metadata  # noqa: E402

from modstudio.tracking import tensorboard  # noqa: E402

INSTALL = 'pip install "modstudio[tracking]"'


def f32(value) -> float:
    return float(np.float32(value))  # what a TensorBoard scalar holds


def expected_hparams(run) -> dict:
    return {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in expected_settings(run).items()}


def read_back(folder: Path):
    """(scalars tag → [(step, value)], hparams name → value, session start, session end)."""
    assert len(list(folder.glob("events.out.tfevents.*"))) == 1
    acc = EventAccumulator(str(folder))
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
    hparams = {name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()}
    return scalars, hparams, start, end


def check_folder(folder: Path, run) -> None:
    scalars, hparams, start, end = read_back(folder)
    expected = expected_scalars(run, f32)
    assert scalars == expected
    assert len(expected["accuracy_by_epoch/task_1"]) == len(run.curves) and len(expected) > 10
    assert hparams == expected_hparams(run)
    assert start.group_name == run.id
    assert end.status == (api_pb2.STATUS_SUCCESS if run.status == "finished" else api_pb2.STATUS_UNKNOWN)


def test_train_tensorboard_writes_the_saved_run(project_file, tmp_path, capsys):
    out, logs = tmp_path / "trained.modstudio", tmp_path / "logs"
    assert main(["train", str(project_file), "--strategy", "expansion", "--scenario", "class", "--epochs", "1",
                 "--seed", "3", "--param", "tolerance=0.02", "--device", "cpu", "--json", "-o", str(out),
                 "--tensorboard", str(logs)]) == 0
    captured = capsys.readouterr()
    run = ms.load_project(out).runs[1]
    folder = logs / f"01-expansion-{run.id[:8]}"
    assert f"wrote the run's TensorBoard files to {folder}" in captured.err
    assert [p.name for p in logs.iterdir()] == [folder.name]
    assert run.metrics.task_inference  # class-incremental: the right-path rates are written too
    check_folder(folder, run)
    assert read_back(folder)[1]["strategy.tolerance"] == 0.02 and read_back(folder)[1]["seed"] == 3.0


def test_runs_tensorboard_writes_every_run_and_rewrites_its_own_files(project_file, tmp_path, capsys):
    two = tmp_path / "two.modstudio"
    assert main(["train", str(project_file), "--strategy", "ewc", "--epochs", "1", "--device", "cpu",
                 "-o", str(two)]) == 0
    project = ms.load_project(two)
    project.runs[1].status = "stopped"  # as a Ctrl-C leaves it
    project.save(two)
    capsys.readouterr()
    logs = tmp_path / "logs"
    assert main(["runs", str(two), "--tensorboard", str(logs)]) == 0
    folders = [logs / f"{i:02d}-{run.strategy}-{run.id[:8]}" for i, run in enumerate(project.runs)]
    assert sorted(logs.iterdir()) == folders
    assert f"view them with: tensorboard --logdir {logs}" in capsys.readouterr().out
    for folder, run in zip(folders, project.runs):
        check_folder(folder, run)
    (folders[0] / "notes.txt").write_text("mine")
    assert main(["runs", str(two), "--tensorboard", str(logs)]) == 0  # again: the same, not twice over
    for folder, run in zip(folders, project.runs):
        check_folder(folder, run)
    assert (folders[0] / "notes.txt").read_text() == "mine"


def test_runs_lists_the_runs(project_file, capsys):
    assert main(["runs", str(project_file)]) == 0
    run = ms.load_project(project_file).runs[0]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "split digits: 1 run(s)"
    assert lines[1].split()[:6] == ["0", run.id[:8], run.started, "finetune", "task", "finished"]
    assert f"acc {run.metrics.acc:+.3f}" in lines[1]


def test_a_file_in_the_way_is_refused_before_training(project_file, tmp_path, capsys):
    blocker = tmp_path / "logs"
    blocker.write_text("")
    before = project_file.read_bytes()
    assert main(["train", str(project_file), "--tensorboard", str(blocker)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"modstudio train: {blocker} is not a folder: give a folder for the TensorBoard files"
    assert project_file.read_bytes() == before


BLOCKED = "import sys\nsys.modules['tensorboard'] = None\nfrom modstudio.cli import main\nsys.exit(main({argv!r}))\n"


@pytest.mark.parametrize("command", ["train", "runs"])
def test_without_tensorboard_the_option_says_what_to_install(project_file, tmp_path, command):
    before = project_file.read_bytes()
    argv = [command, str(project_file), "--tensorboard", str(tmp_path / "logs")]
    result = subprocess.run([sys.executable, "-c", BLOCKED.format(argv=argv)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"modstudio {command}: ") and INSTALL in lines[0]
    assert "tensorboard package" in lines[0] and "Traceback" not in result.stderr
    assert project_file.read_bytes() == before and not (tmp_path / "logs").exists()  # nothing trained or written


def test_a_partial_record_writes_what_it_has(tmp_path):
    """A run stopped before its first epoch ended, with a gap in its matrix: no epochs, no None."""
    from modstudio.project.run import Run, RunMetrics
    from modstudio.project.settings import TrainingSettings

    run = Run(strategy="finetune", settings=TrainingSettings(strategy="finetune").to_dict(), status="stopped",
              acc_matrix=[[0.5, None]], metrics=RunMetrics(tasks_trained=0))
    folder = tensorboard.write_run(run, tmp_path, 7)
    assert folder == tmp_path / f"07-finetune-{run.id[:8]}"
    scalars, hparams, _, end = read_back(folder)
    assert scalars == {"accuracy_by_task/task_1": [(0, 0.5)]} == expected_scalars(run, f32)
    assert hparams == expected_hparams(run) and end.status == api_pb2.STATUS_UNKNOWN
