"""Save → load gives the same project, weights bit for bit, in every combination that matters."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import safetensors.numpy as stnp

import modstudio as ms
from modstudio.project import FORMAT_VERSION, Project, ProjectFileError, load_project
from modstudio.project import tensors

from .conftest import make_project, read_members, tiny_task


def _assert_same(a: Project, b: Project) -> None:
    assert b.graph.to_dict() == a.graph.to_dict()
    assert [t.fingerprint for t in b.tasks] == [t.fingerprint for t in a.tasks]
    assert [t.name for t in b.tasks] == [t.name for t in a.tasks]
    assert b.settings == a.settings
    assert b.runs == a.runs
    for ra, rb in zip(a.runs, b.runs):
        if ra.weights is not None:
            for key, array in ra.weights.items():
                assert rb.weights[key].dtype == array.dtype
                assert rb.weights[key].tobytes() == array.tobytes()
    assert b == a


@pytest.mark.parametrize("runs,weights", [(0, False), (1, False), (2, True)])
@pytest.mark.parametrize("embed", ["always", "never"])
def test_round_trip(tmp_path, digit_tasks, runs, weights, embed):
    project = make_project(digit_tasks[:3], runs=runs, weights=weights, embed=embed)
    path = project.save(tmp_path / "p.modstudio")
    loaded = load_project(path)
    _assert_same(project, loaded)
    assert loaded.warnings == []
    members = set(read_members(path))
    assert ({"data/0.npz", "data/1.npz", "data/2.npz"} <= members) == (embed == "always")
    assert sum(m.startswith("weights/") for m in members) == (runs if weights else 0)


def test_empty_project_round_trip(tmp_path):
    project = ms.Project.new("empty")
    loaded = ms.load_project(project.save(tmp_path / "e.modstudio"))
    assert loaded == project and loaded.tasks == [] and loaded.runs == []


def test_auto_embeds_small_and_rebuildable_tasks_by_recipe(tmp_path, digit_tasks, monkeypatch):
    from modstudio.project import taskstore

    project = make_project([*digit_tasks[:2], tiny_task()], runs=0)
    monkeypatch.setattr(taskstore, "AUTO_EMBED_BYTES", 100)  # the digits tasks now count as big
    path = project.save(tmp_path / "p.modstudio")
    assert set(read_members(path)) == {"project.json", "data/2.npz"}  # no origin → embedded anyway
    _assert_same(project, load_project(path))
    monkeypatch.undo()
    path = project.save(tmp_path / "q.modstudio")
    assert {"data/0.npz", "data/1.npz", "data/2.npz"} <= set(read_members(path))


def test_renamed_task_keeps_its_name_when_rebuilt(tmp_path, digit_tasks):
    project = make_project(digit_tasks[:1], runs=0, embed="never")
    project.tasks[0] = ms.data.Task.from_dict({**project.tasks[0].to_dict(), "name": "zeros and ones"},
                                              project.tasks[0].arrays())
    loaded = load_project(project.save(tmp_path / "p.modstudio"))
    assert loaded.tasks[0].name == "zeros and ones"


def test_changed_source_warns_or_refuses_when_strict(tmp_path, digit_tasks):
    project = make_project(digit_tasks[:2], runs=0, embed="never")
    path = project.save(tmp_path / "p.modstudio")
    members = read_members(path)
    doc = json.loads(members["project.json"])
    doc["tasks"][1]["fingerprint"] = "0" * 64  # as if the source changed since saving
    members["project.json"] = json.dumps(doc).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    loaded = load_project(path)
    assert len(loaded.warnings) == 1 and "source data changed" in loaded.warnings[0]
    assert loaded.tasks[1].fingerprint == digit_tasks[1].fingerprint
    with pytest.raises(ProjectFileError, match="source data changed"):
        load_project(path, strict=True)


def test_project_json_is_deterministic_and_versioned(tmp_path, digit_tasks):
    project = make_project(digit_tasks[:2], runs=1)
    a = project.save(tmp_path / "a.modstudio").read_bytes()
    b = project.save(tmp_path / "b.modstudio").read_bytes()
    assert a == b
    doc = json.loads(read_members(tmp_path / "a.modstudio")["project.json"].decode("utf-8"))
    assert doc["format_version"] == FORMAT_VERSION and doc["app_version"] == ms.__version__
    assert doc["name"] == "Split digits ✓"
    assert set(doc) == {"format_version", "app_version", "id", "name", "graph", "tasks", "settings", "runs"}
    with zipfile.ZipFile(tmp_path / "a.modstudio") as z:
        kinds = {i.filename.split("/")[0]: i.compress_type for i in z.infolist()}
    assert kinds == {"project.json": zipfile.ZIP_DEFLATED, "weights": zipfile.ZIP_STORED,
                     "data": zipfile.ZIP_STORED}


def test_nan_in_records_is_saved_as_null(tmp_path):
    project = make_project(runs=1, weights=False)
    project.runs[0].curves = [{"loss": float("nan")}]
    loaded = load_project(project.save(tmp_path / "p.modstudio"))
    assert loaded.runs[0].curves == [{"loss": None}]


def test_weights_are_writable_and_compatible_with_safetensors(tmp_path, digit_tasks):
    project = make_project(digit_tasks[:2], runs=1)
    path = project.save(tmp_path / "p.modstudio")
    loaded = load_project(path)
    assert all(a.flags.writeable for a in loaded.runs[0].weights.values())
    # our writer → the safetensors library, and the library's writer → our reader
    member = next(n for n in read_members(path) if n.startswith("weights/"))
    theirs = stnp.load(read_members(path)[member])
    assert theirs.keys() == project.runs[0].weights.keys()
    for key, array in project.runs[0].weights.items():
        assert theirs[key].tobytes() == array.tobytes() and theirs[key].shape == array.shape
    mixed = {"a": np.arange(5, dtype=np.int8), "b": np.ones((2, 3), ">f8"), "c": np.array(True),
             "d": np.zeros((0, 4), np.float16), "e": np.arange(6, dtype=np.uint16).reshape(2, 3)[:, ::2]}
    ours = tensors.decode(stnp.save({k: v.astype(v.dtype.newbyteorder("<"), order="C")
                                     for k, v in mixed.items()}), "x")
    again = tensors.decode(tensors.encode(mixed), "y")
    for key, array in mixed.items():
        assert np.array_equal(ours[key], array) and np.array_equal(again[key], array)
        assert again[key].shape == array.shape


def test_save_refuses_weights_that_do_not_fit_and_writes_nothing(tmp_path, digit_tasks):
    project = make_project(digit_tasks[:2], runs=1)
    key = next(k for k in project.runs[0].weights if k.endswith("/0/weight") and "bank/" in k)
    project.runs[0].weights[key] = np.zeros((3, 3), np.float32)
    with pytest.raises(ProjectFileError, match=r"expected shape 8×64, found 3×3"):
        project.save(tmp_path / "p.modstudio")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_non_numeric_weights(tmp_path):
    project = make_project(runs=1)
    project.runs[0].weights["extra/names"] = np.array(["a", "b"])
    with pytest.raises(ProjectFileError, match="not a plain numeric type"):
        project.save(tmp_path / "p.modstudio")


def test_public_api():
    import modstudio.project as mp

    assert {"Project", "Run", "TrainingSettings", "load_project", "ProjectFileError", "FORMAT_VERSION"} <= set(mp.__all__)
    assert ms.Project is mp.Project and ms.load_project is mp.load_project
    assert ms.ProjectFileError is mp.ProjectFileError


def test_project_layer_imports_neither_torch_nor_qt():
    import subprocess
    import sys

    code = ("import sys, modstudio.project, modstudio.project.io_bench, modstudio.project.recovery; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
