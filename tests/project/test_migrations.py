"""Ordered migrations: old files are brought up to date step by step, newer ones refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modstudio.project import FORMAT_VERSION, ProjectFileError, load_project
from modstudio.project import migrations

from .conftest import make_project, read_members, write_zip


def test_chain_runs_in_version_order():
    calls = []

    def step(v):
        def run(doc):
            calls.append(v)
            doc.setdefault("trail", []).append(v)
            return doc
        return run

    table = {2: step(2), 0: step(0), 1: step(1)}  # declared out of order on purpose
    out = migrations.migrate({"format_version": 0}, table, current=3)
    assert calls == [0, 1, 2] and out == {"format_version": 3, "trail": [0, 1, 2]}
    assert migrations.migrate({"format_version": 2, "x": 1}, table, current=3)["trail"] == [2]


def test_missing_step_and_too_old_and_broken_step():
    with pytest.raises(ProjectFileError, match="no migration from format 1 to 2"):
        migrations.migrate({"format_version": 1}, {0: lambda d: d}, current=3)
    with pytest.raises(ProjectFileError, match="older than any"):
        migrations.migrate({"format_version": -1}, {}, current=1)
    with pytest.raises(ProjectFileError, match="cannot migrate from format 0: KeyError"):
        migrations.migrate({"format_version": 0}, {0: lambda d: d["absent"]}, current=1)


def test_newer_version_names_both():
    with pytest.raises(ProjectFileError) as info:
        migrations.migrate({"format_version": FORMAT_VERSION + 6, "app_version": "9.1"})
    message = str(info.value)
    assert f"format {FORMAT_VERSION + 6} (ModStudio 9.1)" in message
    assert f"reads up to format {FORMAT_VERSION}" in message and "update ModStudio" in message


def test_v0_file_loads_through_a_migration(tmp_path, monkeypatch):
    """A format-0 fixture (settings called "training", no project id) migrates on load."""
    project = make_project(runs=1, weights=False)
    members = read_members(project.save(tmp_path / "v1.modstudio"))
    doc = json.loads(members["project.json"])
    v0 = {**{k: v for k, v in doc.items() if k not in ("settings", "id")}, "format_version": 0,
          "training": doc["settings"]}

    def v0_to_v1(old):
        old["settings"] = old.pop("training")
        old["id"] = project.id
        return old

    monkeypatch.setitem(migrations.MIGRATIONS, 0, v0_to_v1)
    path = write_zip(tmp_path / "v0.modstudio", {**members, "project.json": json.dumps(v0).encode()})
    assert load_project(path) == project
    monkeypatch.delitem(migrations.MIGRATIONS, 0)
    with pytest.raises(ProjectFileError, match="older than any"):
        load_project(path)


FIXTURES = Path(__file__).parent / "fixtures"


def test_format_1_file_opens_with_replays_buffer_size_as_memory(tmp_path):
    """fixtures/format1-replay.project.json was written by format 1: settings and a run of replay
    with ``buffer_size`` 50, no run memory; its tasks are recipes, so project.json is the whole file."""
    text = (FIXTURES / "format1-replay.project.json").read_bytes()
    old = json.loads(text)
    assert old["format_version"] == 1 and old["settings"]["strategy_params"]["buffer_size"] == 50
    path = write_zip(tmp_path / "v1.modstudio", {"project.json": text})
    project = load_project(path)
    assert project.settings.strategy == "replay"
    assert project.settings.strategy_params == {"memory": 50, "replay_batch": 8}
    run = project.runs[0]
    assert run.settings["strategy_params"] == {"memory": 50, "replay_batch": 8}
    assert run.memory is None and run.acc_matrix == old["runs"][0]["acc_matrix"]
    saved = json.loads(read_members(project.save(tmp_path / "v2.modstudio"))["project.json"])
    assert saved["format_version"] == FORMAT_VERSION == 2
    assert saved["runs"][0]["memory"] is None and "buffer_size" not in json.dumps(saved)
    assert load_project(tmp_path / "v2.modstudio") == project


def test_v1_to_v2_renames_only_replays_parameter_and_survives_odd_documents():
    step = migrations.MIGRATIONS[1]
    doc = {"settings": {"strategy": "ewc", "strategy_params": {"buffer_size": 3}},
           "runs": [{"settings": {"strategy": "replay", "strategy_params": {"buffer_size": 9}}}, "junk"]}
    out = step(doc)
    assert out["settings"]["strategy_params"] == {"buffer_size": 3}  # not replay's: the schema judges it
    assert out["runs"][0] == {"memory": None, "settings": {"strategy": "replay", "strategy_params": {"memory": 9}}}
    both = {"settings": {"strategy": "replay", "strategy_params": {"buffer_size": 1, "memory": 2}}, "runs": 5}
    assert step(both)["settings"]["strategy_params"] == {"buffer_size": 1, "memory": 2}  # refused by the schema
