"""`--map-data` / `--no-map-data`: the commands that load a project's data pass the choice to
``load_project`` (every embedded array mapped from the file, or none; default: the big ones)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import modstudio.project as msproject
from modstudio.cli import main
from modstudio.project.mapping import mapped_archive
from tests.project.test_mapped_data import byte_task, project_file

CHOICES = {"--map-data": (True, True), "--no-map-data": (False, False), None: (None, False)}  # (map_data, mapped)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Two small byte tasks (far under the 256 MiB at which arrays are mapped by default)."""
    return project_file(tmp_path_factory.mktemp("map-data"), [byte_task("a", n=300, seed=0),
                                                              byte_task("b", n=300, seed=1)])


@pytest.fixture(scope="module")
def trained(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "t.modstudio"
    args = ["train", str(small), "--epochs", "1", "--device", "cpu", "--strategy", "finetune", "-o", str(out)]
    assert main(args) == 0
    return out


@pytest.fixture
def loads(monkeypatch):
    """Each ``load_project`` of a command: the ``map_data`` it was given, and whether the first
    task's training array is a view of the mapped file."""
    real, seen = msproject.load_project, []

    def spy(path, **options):
        project = real(path, **options)
        seen.append((options.get("map_data"), mapped_archive(project.tasks[0].train.x) is not None))
        return project

    monkeypatch.setattr(msproject, "load_project", spy)
    return seen


def _flag(choice):
    return [] if choice is None else [choice]


def test_train_maps_the_data_when_asked_and_trains_to_the_same_matrix(small, tmp_path, loads, capsys):
    matrices = {}
    for choice in CHOICES:
        out = tmp_path / f"{choice}.modstudio"
        args = ["train", str(small), "--epochs", "1", "--device", "cpu", "--strategy", "replay", "--json",
                "-o", str(out)]
        assert main(args + _flag(choice)) == 0
        assert loads[-1] == CHOICES[choice]
        matrices[choice] = json.loads(capsys.readouterr().out)["acc_matrix"]
    assert matrices["--map-data"] == matrices["--no-map-data"] == matrices[None]


@pytest.mark.parametrize("choice", list(CHOICES))
@pytest.mark.parametrize("command", ["info", "evaluate", "predict", "export"])
def test_every_command_that_loads_the_data_takes_the_flag(trained, tmp_path, loads, capsys, command, choice):
    extra = {"info": [], "evaluate": ["--json"], "export": ["-o", str(tmp_path / "m.safetensors")]}
    if command == "predict":
        np.save(tmp_path / "x.npy", np.zeros((1, 8, 8), np.float32))
        extra["predict"] = [str(tmp_path / "x.npy"), "--json"]
    assert main([command, str(trained), *extra[command], *_flag(choice)]) == 0, capsys.readouterr().err
    assert loads == [CHOICES[choice]]


@pytest.mark.parametrize("command", ["train", "info", "evaluate", "export"])
def test_refusals_say_the_same_with_the_flag(small, tmp_path, capsys, command):
    extra = ["-o", str(tmp_path / "m.safetensors")] if command == "export" else []
    projects = [str(tmp_path / "missing.modstudio")]
    if command in ("evaluate", "export"):
        projects.append(str(small))  # no trained run
    said = {}
    for flag in (None, "--map-data", "--no-map-data"):
        said[flag] = []
        for project in projects:
            assert main([command, project, *extra, *_flag(flag)]) == 2
            said[flag].append(capsys.readouterr().err)
    assert said["--map-data"] == said["--no-map-data"] == said[None]
    assert "no such project file" in said[None][0]


def test_the_help_says_why(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--map-data, --no-map-data" in text and "data larger than memory" in text and "256 MiB" in text
