"""Settings declared after a file was written: the file opens with their defaults (how it trained),
a project saves and loads them, and a setting every format-2 file has is still required."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modstudio.project import FORMAT_VERSION, ProjectFileError, TrainingSettings, load_project
from modstudio.project.schema import FORMAT_2_SETTINGS
from modstudio.project.settings import SETTING_SPECS

from .conftest import make_project, read_members, write_zip

FIXTURES = Path(__file__).parent / "fixtures"
NEWER = {"lr_schedule": "cosine", "lr_step_epochs": 3, "lr_step_factor": 0.5, "early_stopping_patience": 4,
         "reset_optimizer": False, "evaluate": "task"}


def test_a_format_2_file_from_before_the_schedules_opens_with_the_defaults(tmp_path):
    """fixtures/format2-replay.project.json was written by ModStudio before schedules, early stopping,
    reset_optimizer and evaluate existed (the format-1 fixture opened and saved again)."""
    text = (FIXTURES / "format2-replay.project.json").read_bytes()
    old = json.loads(text)
    assert old["format_version"] == FORMAT_VERSION == 2 and not set(NEWER) & set(old["settings"])
    project = load_project(write_zip(tmp_path / "old.modstudio", {"project.json": text}))
    defaults = TrainingSettings()
    assert all(getattr(project.settings, name) == getattr(defaults, name) for name in NEWER)
    assert project.settings.reset_optimizer is True and project.settings.evaluate == "epoch"
    assert project.settings.strategy == "replay" and project.settings.epochs == 1  # what the file says stays
    assert project.runs[0].acc_matrix == old["runs"][0]["acc_matrix"]


def test_the_settings_save_and_load(tmp_path):
    project = make_project(runs=1, weights=False)
    project.configure(**NEWER)
    path = project.save(tmp_path / "p.modstudio")
    saved = json.loads(read_members(path)["project.json"])["settings"]
    assert {k: saved[k] for k in NEWER} == NEWER
    assert load_project(path).settings == project.settings


def test_every_setting_but_the_newer_ones_is_still_required(tmp_path):
    assert set(NEWER) == set(SETTING_SPECS) - FORMAT_2_SETTINGS  # a new setting is optional by itself
    project = make_project(runs=0, weights=False)
    members = read_members(project.save(tmp_path / "p.modstudio"))
    doc = json.loads(members["project.json"])
    del doc["settings"]["epochs"]
    with pytest.raises(ProjectFileError, match="settings: missing field 'epochs'"):
        load_project(write_zip(tmp_path / "q.modstudio", {**members, "project.json": json.dumps(doc).encode()}))
    doc = json.loads(members["project.json"])
    doc["settings"]["evaluate"] = "sometimes"
    with pytest.raises(ProjectFileError, match="settings.evaluate: evaluate must be one of epoch, task"):
        load_project(write_zip(tmp_path / "r.modstudio", {**members, "project.json": json.dumps(doc).encode()}))
