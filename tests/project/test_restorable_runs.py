"""Runs that load can be restored (issue 17, items 20-22): the project layer's expectations of a
run's weights (paths, lateral adapters, shared head) are exactly what the trainer writes, and a
file lacking any of them is refused at load instead of crashing an export later."""

from __future__ import annotations

import json

import numpy as np
import pytest

import modstudio.data as msdata
from modstudio.graph import Graph
from modstudio.project import Project, ProjectFileError, load_project, tensors
from modstudio.project import strategy_specs
from modstudio.project.weights import LATERALS, SHARED_HEAD, _lateral_shapes, _Shapes

from .conftest import read_members, write_zip

pytest.importorskip("torch")


def _tasks():
    rng = np.random.default_rng(0)

    def split(n):
        return msdata.Split(rng.standard_normal((n, 6)).astype(np.float32), np.arange(n) % 2)

    return [msdata.Task(f"t{k}", [2 * k, 2 * k + 1], ["a", "b"], split(8), split(4), split(4)) for k in range(3)]


def _graph() -> Graph:
    g = Graph()
    ids = [g.add_node("input", shape=(6,)), g.add_node("linear", out_features=5), g.add_node("relu"),
           g.add_node("linear", out_features=3), g.add_node("head")]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    return g


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from modstudio.learn.api import train

    folder = tmp_path_factory.mktemp("runs")
    out = {}
    for strategy, scenario in (("progressive", "task"), ("finetune", "class")):
        project = Project(f"{strategy} {scenario}", graph=_graph(), tasks=_tasks())
        train(project, strategy=strategy, scenario=scenario, epochs=1, batch_size=4, device="cpu")
        out[strategy] = project, project.save(folder / f"{strategy}.modstudio")
    return out


def test_expected_extras_are_what_the_trainer_writes(trained):
    project, path = trained["progressive"]
    run = project.runs[0]
    assert run.status == "finished" and len(run.paths) == 3
    report = _Shapes(project.graph, project.tasks).report
    width = strategy_specs.get("progressive").defaults()["adapter_width"]
    expected = _lateral_shapes(project.graph, report, len(run.paths), width)
    written = {k: tuple(v.shape) for k, v in run.weights.items() if k.startswith(LATERALS)}
    assert expected == written and len(written) == 12  # tasks 1, 2 × (second linear, head) × (α, down, up)
    assert load_project(path) == project

    project, path = trained["finetune"]
    heads = {k: tuple(v.shape) for k, v in project.runs[0].weights.items() if k.startswith(SHARED_HEAD)}
    assert heads == {SHARED_HEAD + "weight": (6, 3), SHARED_HEAD + "bias": (6,)}
    assert load_project(path) == project


def _without(path, tmp_path, change):
    members = read_members(path)
    member = next(n for n in members if n.startswith("weights/"))
    arrays = tensors.decode(members[member], member)
    change(arrays)
    return write_zip(tmp_path / "changed.modstudio", {**members, member: tensors.encode(arrays)})


def test_a_progressive_run_without_its_laterals_is_refused(trained, tmp_path):
    _, path = trained["progressive"]
    keys = sorted(k for k in tensors.decode(read_members(path)[next(
        n for n in read_members(path) if n.startswith("weights/"))], "w") if k.startswith(LATERALS))
    for key in (keys[0], keys[-1]):
        changed = _without(path, tmp_path, lambda a: a.pop(key))
        with pytest.raises(ProjectFileError, match=rf"a progressive run with these paths needs its lateral adapter '{key}'"):
            load_project(changed)
    changed = _without(path, tmp_path, lambda a: [a.pop(k) for k in keys])
    with pytest.raises(ProjectFileError, match="needs its lateral adapter"):
        load_project(changed)
    changed = _without(path, tmp_path, lambda a: a.__setitem__(keys[0], np.zeros((2, 2), np.float32)))
    with pytest.raises(ProjectFileError, match=r"expected shape [\d×]+, found 2×2"):
        load_project(changed)


def test_a_class_incremental_run_without_its_shared_head_is_refused(trained, tmp_path):
    _, path = trained["finetune"]
    changed = _without(path, tmp_path, lambda a: a.pop(SHARED_HEAD + "weight"))
    with pytest.raises(ProjectFileError, match=r"a finetune run that is class-incremental needs its shared head "
                                               r"tensor 'extra/shared_head/weight'"):
        load_project(changed)
    # the same weights in a task-incremental run need no shared head
    members = read_members(changed)
    doc = json.loads(members["project.json"])
    doc["runs"][0]["settings"]["scenario"] = "task"
    task_run = write_zip(tmp_path / "task.modstudio", {**members, "project.json": json.dumps(doc).encode()})
    assert load_project(task_run).runs[0].settings["scenario"] == "task"
