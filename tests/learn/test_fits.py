"""Tasks that do not fit the network are refused before anything trains, by the API and the CLI."""

import subprocess
import sys

import pytest

import modstudio as ms
from modstudio.learn.trainer import TrainingError


def _mismatched(tmp_path):
    project = ms.examples.build_example("split-digits-conv")  # 1×8×8 images
    input_id = next(n for n, node in project.graph.nodes.items() if node.kind == "input")
    project.graph.set_param(input_id, "shape", [64])  # typed by hand: a flat vector
    return project


def test_the_api_refuses_tasks_that_do_not_fit_and_records_no_run(tmp_path):
    project = _mismatched(tmp_path)
    with pytest.raises(TrainingError, match=r"the tasks do not fit the network: .*64.*1×8×8"):
        ms.train(project, epochs=1)
    assert len(project.runs) == 0


def test_the_cli_refuses_them_too_and_info_says_why(tmp_path):
    path = _mismatched(tmp_path).save(tmp_path / "m.modstudio")
    before = path.read_bytes()
    out = subprocess.run([sys.executable, "-m", "modstudio", "train", str(path), "--epochs", "1"],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "the tasks do not fit the network" in out.stderr
    assert path.read_bytes() == before  # nothing trained, nothing written
    info = subprocess.run([sys.executable, "-m", "modstudio", "info", str(path)], capture_output=True, text=True)
    assert info.returncode == 0 and "1×8×8" in info.stdout
