"""Task recipes are untrusted (issue 17, items 18-19): a recipe that names a file is followed only
with consent, and every recipe stays within the limits, whatever its own options say."""

from __future__ import annotations

import json
import resource
import time

import pytest

import modstudio.data as msdata
from modstudio.project import Limits, Project, ProjectFileError, TrainingSettings, load_project

from .conftest import make_graph, make_project, read_members, tiny_task, write_zip


def _csv(path, rows=60):
    path.write_text("\n".join(f"{i % 7},{(i * 3) % 5},{i % 4}" for i in range(rows)) + "\n")
    return path


@pytest.fixture
def csv_project(tmp_path):
    """A project whose tasks are rebuilt from a CSV file outside it (embed_data="never")."""
    source = _csv(tmp_path / "private.csv")
    tasks = msdata.split_by_class(msdata.import_path(source))
    graph, _ = make_graph(2)
    project = Project("csv", graph=graph, tasks=tasks, settings=TrainingSettings(embed_data="never"))
    path = project.save(tmp_path / "csv.modstudio")
    assert set(read_members(path)) == {"project.json"}
    return project, path, source


@pytest.fixture
def no_reads(monkeypatch):
    """Fails the test if a recipe's file source is opened."""
    from modstudio.data import rebuild

    calls = []
    real = rebuild.import_path
    monkeypatch.setattr(rebuild, "import_path", lambda *a, **k: calls.append(a) or real(*a, **k))
    return calls


def test_a_recipe_naming_a_file_needs_consent(csv_project, no_reads):
    project, path, source = csv_project
    with pytest.raises(ProjectFileError) as info:
        load_project(path)
    message = str(info.value)
    assert f"tasks[0] is rebuilt from {str(source.resolve())!r}, a file outside the project" in message
    assert "allow_external_data=True" in message and "--allow-external-data" in message
    assert no_reads == []
    asked = []
    with pytest.raises(ProjectFileError, match="opening was declined"):
        load_project(path, allow_external_data=lambda files: asked.append(files) or False)
    assert asked == [[str(source.resolve())]] and no_reads == []
    assert load_project(path, allow_external_data=lambda files: True) == project
    assert load_project(path, allow_external_data=True) == project
    assert no_reads  # now, and only now, the file was read
    with pytest.raises(ProjectFileError, match="could not ask"):
        load_project(path, allow_external_data=lambda files: 1 / 0)
    with pytest.raises(ProjectFileError, match="outside the project"):
        load_project(path, allow_external_data="yes")  # only True (or a function saying True) allows


def test_a_hostile_recipe_never_reads_the_file_it_names(tmp_path, no_reads):
    secret = _csv(tmp_path / "secret.csv")
    project = make_project([tiny_task()], runs=0, features=4)
    members = read_members(project.save(tmp_path / "p.modstudio"))
    doc = json.loads(members["project.json"])
    for i, spec in enumerate([{"path": str(secret)}, {"builtin": "digits"}]):
        origin = {"builder": "datasets_as_tasks", "datasets": [{"builtin": "digits"}, spec,
                                                               {"path": "x.npy", "options": {"labels": str(secret)}}],
                  "options": {}, "index": 0}
        doc["tasks"][0].update(embedded=False, origin=origin)
        doc["tasks"][0]["meta"]["origin"] = origin
        path = write_zip(tmp_path / f"evil{i}.modstudio", {"project.json": json.dumps(doc).encode()})
        asked = []
        with pytest.raises(ProjectFileError, match="outside the project"):
            load_project(path, allow_external_data=lambda files: asked.append(files) or False)
        assert str(secret) in asked[0] and no_reads == []  # for i = 1 only as a labels file
    assert secret.read_text().startswith("0,0,0")


def test_a_recipe_cannot_raise_the_read_limit(csv_project, monkeypatch):
    project, path, source = csv_project
    members = read_members(path)
    doc = json.loads(members["project.json"])
    for task in doc["tasks"]:
        task["origin"]["dataset"]["options"]["max_bytes"] = 10**12
        task["meta"]["origin"] = task["origin"]
    raised = write_zip(path.with_name("raised.modstudio"), {"project.json": json.dumps(doc).encode()})
    assert load_project(raised, allow_external_data=True).tasks[0].fingerprint == project.tasks[0].fingerprint
    monkeypatch.setattr(msdata, "MAX_BYTES", 100)  # the default import limit, as if the file were bigger
    with pytest.raises(ProjectFileError, match=r"tasks\[0\]: cannot rebuild .*over the import limit of 100 bytes"):
        load_project(raised, allow_external_data=True)


def _recipe_project(tmp_path, origin, name="recipe.modstudio"):
    project = make_project([tiny_task()], runs=0, features=4)
    doc = json.loads(read_members(project.save(tmp_path / "base.modstudio"))["project.json"])
    doc["tasks"][0].update(embedded=False, origin=origin)
    doc["tasks"][0]["meta"]["origin"] = origin
    return write_zip(tmp_path / name, {"project.json": json.dumps(doc).encode()})


@pytest.mark.parametrize("origin,message", [
    ({"builder": "split_by_class", "dataset": {"builtin": "signals", "options": {"n_samples": 10_000_000, "length": 8}},
      "options": {}, "index": 0}, r"the recipe generates 381.5 MiB of data, over the limit of 256.0 MiB"),
    ({"builder": "datasets_as_tasks", "datasets": [{"builtin": "blobs", "options": {"n_samples": 4_000_000}}] * 5,
      "options": {}, "index": 0}, r"generates 305.2 MiB of data, over the limit"),
    ({"builder": "rotated", "dataset": {"builtin": "digits"}, "options": {"n_tasks": 10**9}, "index": 0},
     r"n_tasks is 1,000,000,000, more than the 10,000"),
    ({"builder": "split_by_class", "dataset": {"builtin": "blobs", "options": {"n_samples": 10**40}},
      "options": {}, "index": 0}, r"must be at most 10000000"),
])
def test_recipes_are_bounded_before_anything_is_generated(tmp_path, origin, message):
    path = _recipe_project(tmp_path, origin)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ProjectFileError, match=message):
        load_project(path)
    assert time.perf_counter() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_generated_data_within_the_limit_still_rebuilds(tmp_path):
    tasks = msdata.split_by_class(msdata.load_builtin("signals", n_samples=400, length=16), n_tasks=2)
    graph, _ = make_graph(16)
    project = Project("signals", graph=graph, tasks=tasks, settings=TrainingSettings(embed_data="never"))
    path = project.save(tmp_path / "s.modstudio")
    assert load_project(path) == project
    with pytest.raises(ProjectFileError, match="over the limit of 1.0 KiB"):
        load_project(path, limits=Limits(max_generated_bytes=1024))


def test_the_command_line_asks_for_the_flag(csv_project, capsys):
    from modstudio.cli import main

    _, path, source = csv_project
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert "private.csv" in err and "--allow-external-data" in err
    assert main(["info", str(path), "--allow-external-data"]) == 0
    assert "csv" in capsys.readouterr().out
