"""``modstudio train`` has one option per training setting, built from its declaration, and the
run (and the saved project) carries what they said."""

from __future__ import annotations

import argparse

import pytest

from modstudio import cli
from modstudio.cli import build_parser, main
from modstudio.data import load_builtin, split_by_class
from modstudio.graph import Graph
from modstudio.project import Project, TrainingSettings, load_project
from modstudio.project.settings import SETTING_SPECS


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MODSTUDIO_DATA_DIR", str(tmp_path / "user-data"))


@pytest.fixture
def project_file(tmp_path):
    project = Project.new("tiny")
    g = project.graph = Graph()
    x, m, h = g.add_node("input"), g.add_node("mlp_block", hidden=[8]), g.add_node("head")
    g.connect(x, m)
    g.connect(m, h)
    data = load_builtin("blobs", n_samples=120, n_features=8, n_classes=4, spread=1.5, seed=3)
    project.tasks.extend(split_by_class(data, n_tasks=2))
    project.settings = TrainingSettings(strategy="finetune", epochs=1, batch_size=64, device="cpu")
    return project.save(tmp_path / "p.modstudio", backup=False)


def _train_options() -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices["train"]._actions}


def test_every_run_setting_is_an_option_with_its_declared_choices():
    options = _train_options()
    for name, spec in SETTING_SPECS.items():
        if name in cli.NOT_OPTIONS:
            assert name == "strategy" or name not in options  # --strategy is the strategy specs'
            continue
        action = options[name]
        assert action.option_strings[0] == "--" + name.replace("_", "-")
        if spec.type == "choice":
            assert tuple(action.choices) == spec.choices
        if spec.type == "bool":
            assert action.option_strings == [f"--{name.replace('_', '-')}", f"--no-{name.replace('_', '-')}"]
        assert action.default is None  # unset: the project's own setting stands


def test_the_options_reach_the_run_and_the_saved_project(project_file, tmp_path, capsys):
    out = tmp_path / "trained.modstudio"
    assert main(["train", str(project_file), "-o", str(out), "--epochs", "6", "--lr-schedule", "step",
                 "--lr-step-epochs", "2", "--lr-step-factor", "0.5", "--early-stopping-patience", "3",
                 "--no-reset-optimizer", "--evaluate", "task", "--weight-decay", "0.001"]) == 0
    run = load_project(out).runs[-1]
    assert {k: run.settings[k] for k in ("epochs", "lr_schedule", "lr_step_epochs", "lr_step_factor",
                                         "early_stopping_patience", "reset_optimizer", "evaluate",
                                         "weight_decay")} == {
        "epochs": 6, "lr_schedule": "step", "lr_step_epochs": 2, "lr_step_factor": 0.5,
        "early_stopping_patience": 3, "reset_optimizer": False, "evaluate": "task", "weight_decay": 0.001}
    assert all(point["acc"] == [] for point in run.curves)  # evaluated after each task only
    first = [p["lr"] for p in run.curves if p["task"] == 0]
    assert first == pytest.approx([1e-3 * 0.5 ** (e // 2) for e in range(len(first))])
    assert "task 1:" in capsys.readouterr().err  # early stopping's line: stopped, or kept its best epoch
    assert load_project(project_file).settings.evaluate == "epoch"  # the options were for this run


def test_a_bad_value_is_refused_in_one_line(project_file, capsys):
    assert main(["train", str(project_file), "--lr-step-factor", "2"]) == 2
    assert "lr_step_factor" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", str(project_file), "--evaluate", "never"])
