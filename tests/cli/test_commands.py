"""The headless commands end to end: new → train --json → info, the way a cluster user runs them."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import modstudio as ms
from modstudio.cli import main


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "modstudio", *args], capture_output=True, text=True, timeout=timeout)


def test_examples_lists_the_three_required(capsys):
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    for name in ("split-digits", "permuted-digits", "split-signals"):
        assert name in out


def test_new_refuses_unknown_example_and_existing_file(tmp_path, capsys):
    assert main(["new", str(tmp_path / "a.modstudio"), "--example", "nope"]) == 2
    assert "unknown example 'nope'" in capsys.readouterr().err
    target = tmp_path / "b.modstudio"
    assert main(["new", str(target), "--example", "split-digits"]) == 0
    assert main(["new", str(target), "--example", "split-digits"]) == 2
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("example", ["split-digits", "permuted-digits", "split-signals", "split-digits-conv"])
def test_every_example_is_a_valid_project(example, tmp_path):
    project = ms.examples.build_example(example)
    tasks = project.tasks
    report = project.graph.check(input_shape=tasks[0].sample_shape, classes=tasks[0].num_classes)
    assert report.ok, report.summary()
    path = project.save(tmp_path / "e.modstudio")
    assert ms.load_project(path) == project


def test_train_json_equals_the_stored_run(tmp_path):
    path = tmp_path / "p.modstudio"
    out = tmp_path / "trained.modstudio"
    assert run_cli("new", str(path), "--example", "split-digits").returncode == 0
    result = run_cli("train", str(path), "--strategy", "expansion", "--epochs", "2", "--json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["status"] == "finished" and len(printed["acc_matrix"]) == 6
    assert "task 5/5 done" in result.stderr
    project = ms.load_project(out)
    run = project.runs[-1]
    assert printed["run_id"] == run.id
    assert printed["acc_matrix"] == run.acc_matrix
    for key in ("acc", "bwt", "fwt", "forgetting"):
        assert printed[key] == getattr(run.metrics, key)
    assert printed["params_per_task"] == run.params_per_task
    assert run.weights  # kept for export
    assert ms.load_project(path).runs == []  # -o leaves the source alone

    info = run_cli("info", str(out), "--json")
    summary = json.loads(info.stdout)
    assert summary["runs"][0]["acc"] == run.metrics.acc and len(summary["tasks"]) == 5
    text = run_cli("info", str(out)).stdout
    assert "expansion" in text and "digits 0-1" in text


def test_train_reports_bad_input_in_one_line(tmp_path):
    missing = run_cli("train", str(tmp_path / "none.modstudio"))
    assert missing.returncode == 2 and "no such project file" in missing.stderr
    (tmp_path / "bad.modstudio").write_bytes(b"not a zip")
    bad = run_cli("train", str(tmp_path / "bad.modstudio"))
    assert bad.returncode == 2 and "not a readable project archive" in bad.stderr and "Traceback" not in bad.stderr


def test_ctrl_c_keeps_a_valid_project_with_the_partial_run(tmp_path):
    path = tmp_path / "p.modstudio"
    assert run_cli("new", str(path), "--example", "permuted-digits").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "modstudio", "train", str(path), "--strategy", "finetune", "--epochs", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # interrupt once the first task is done: mid-run, whatever the load
        line = process.stderr.readline()
        if "task 1/5 done" in line or not line:
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "stopped" in stdout
    run = ms.load_project(path).runs[-1]
    assert run.status == "stopped" and len(run.curves) >= 20 and 2 <= len(run.acc_matrix) < 6
    assert os.path.exists(str(path) + "~")  # the previous version was kept as a backup
