"""Exports never destroy what the user had, and treat their arguments and files as untrusted.

Issue 17, the export side: an export never replaces its project (or any project), never a file
it was not told to replace, never a good file with a partial one; an unwritable output, a bad
argument or a crafted file is an ExportError that says why, on the command line one line and
exit status 2. One tiny progressive run (3 tasks of 8-D blobs, laterals included) serves all.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.numpy import save as save_safetensors

import modstudio as ms
from modstudio.cli import main
from modstudio.learn.export import ExportError, export, load_model
from modstudio.learn.export import bundle
from modstudio.project import Project, TrainingSettings
from tests.learn.conftest import mlp_graph

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")

FORMATS = {"pt2": "m.pt2", "torchscript": "m.pt", "onnx": "m.onnx", "safetensors": "m.safetensors"}
TRACED = {"pt2": {"task": 0}, "torchscript": {"task": 0}, "onnx": {"task": 0}, "safetensors": {}}


@pytest.fixture(scope="module")
def trained(blob_tasks, tmp_path_factory):
    """(project, its file): a progressive run, so laterals are in every export."""
    project = Project.new("blobs")
    project.graph = mlp_graph()
    project.tasks.extend(blob_tasks)
    project.settings = TrainingSettings(strategy="progressive", epochs=1, batch_size=64, lr=1e-2, device="cpu")
    assert ms.train(project).run.status == "finished"
    path = project.save(tmp_path_factory.mktemp("project") / "p.modstudio")
    return ms.load_project(path), path


@pytest.fixture(scope="module")
def good_export(trained, tmp_path_factory):
    """A valid safetensors export: (weights, metadata, description) to craft bad ones from."""
    path = tmp_path_factory.mktemp("export") / "good.safetensors"
    export(trained[0], path)
    with safe_open(str(path), framework="np") as f:
        header = f.metadata()
        weights = {k: f.get_tensor(k) for k in f.keys()}
    return weights, json.loads(header["modstudio"]), json.loads(header["network"])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(f"modstudio {command}: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def _fails_to_write(folder: Path) -> bool:
    try:
        (folder / ".probe").write_bytes(b"")
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False


@pytest.fixture
def read_only(tmp_path, monkeypatch):
    """A folder whose files cannot be replaced: chmod 0o555, or (as root, whom chmod does not stop)
    a rename into it that fails as on a read-only file system."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if not _fails_to_write(folder):
        real = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst).parent == folder:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))
            return real(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
    yield folder
    folder.chmod(0o755)


# ---------------------------------------------------------------- item 1: never over a project

@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_project_itself_is_refused_under_any_name(trained, tmp_path, fmt):
    project, source = trained
    before = source.read_bytes()
    hard = tmp_path / FORMATS[fmt]
    os.link(source, hard)
    soft = tmp_path / ("s" + FORMATS[fmt])
    soft.symlink_to(source)
    for target in (source, hard, soft):
        for force in (False, True):
            with pytest.raises(ExportError, match="is the project .* itself"):
                export(project, target, format=fmt, force=force, project_file=source, **TRACED[fmt])
            with pytest.raises(ExportError, match="ModStudio project"):  # without knowing the source
                export(project, target, format=fmt, force=force, **TRACED[fmt])
    assert source.read_bytes() == before and hard.read_bytes() == before and soft.is_symlink()


def test_no_other_project_is_replaced_or_written(trained, tmp_path):
    project, source = trained
    other = tmp_path / "other.pt2"
    other.write_bytes(source.read_bytes())  # a project under an export's name
    with pytest.raises(ExportError, match="is a ModStudio project"):
        export(project, other, task=0, force=True)
    assert other.read_bytes() == source.read_bytes()
    for name in ("new.modstudio", "NEW.MODSTUDIO", "p.modstudio~"):
        with pytest.raises(ExportError, match=r"named as a ModStudio project"):
            export(project, tmp_path / name, format="pt2", task=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.pt2"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_cli_export_onto_its_project_exits_2(trained, capsys, fmt):
    _, source = trained
    before = source.read_bytes()
    extra = ["--task", "0"] if fmt != "safetensors" else []
    for force in ([], ["--force"]):
        assert main(["export", str(source), "-o", str(source), "--format", fmt, *extra, *force]) == 2
        assert "itself" in one_line_error(capsys, "export")
    assert source.read_bytes() == before


# ---------------------------------------------------------------- item 2: existing files need --force

def test_an_existing_export_is_replaced_only_with_force(trained, tmp_path):
    project, _ = trained
    target = tmp_path / "m.pt2"
    target.write_bytes(b"previous")
    with pytest.raises(ExportError, match=r"m.pt2 exists: use --force \(force=True\)"):
        export(project, target, task=0)
    assert target.read_bytes() == b"previous"
    export(project, target, task=0, force=True)
    assert torch.export.load(str(target)).module() is not None


def test_the_safetensors_description_never_replaces_a_users_file(trained, tmp_path):
    project, _ = trained
    notes = tmp_path / "m.json"
    notes.write_text('{"my": "notes"}')
    for force in (False, True):
        with pytest.raises(ExportError, match="m.json .*where the export's description goes"):
            export(project, tmp_path / "m.safetensors", force=force)
    assert snapshot(tmp_path) == {"m.json": b'{"my": "notes"}'}
    notes.unlink()
    export(project, tmp_path / "m.safetensors")
    with pytest.raises(ExportError, match="exists: use --force"):  # an earlier export: ask first
        export(project, tmp_path / "m.safetensors")
    done = export(project, tmp_path / "m.safetensors", force=True)  # then it may be replaced
    assert load_model(done.paths[0]).metadata == done.metadata


def test_a_safetensors_export_named_json_is_refused(trained, tmp_path):
    with pytest.raises(ExportError, match="name the file m.safetensors, not m.json"):
        export(trained[0], tmp_path / "m.json", format="safetensors")
    assert not list(tmp_path.iterdir())


def test_cli_export_force(trained, tmp_path, capsys):
    _, source = trained
    out = tmp_path / "m.pt"
    out.write_bytes(b"mine")
    assert main(["export", str(source), "-o", str(out), "--task", "1"]) == 2
    assert "--force" in one_line_error(capsys, "export") and out.read_bytes() == b"mine"
    assert main(["export", str(source), "-o", str(out), "--task", "1", "--force"]) == 0
    assert out.read_bytes() != b"mine"


# ---------------------------------------------------------------- item 3: atomic, a full disk costs nothing

@pytest.mark.parametrize("fmt", ["pt2", "safetensors"])
def test_a_full_disk_leaves_the_previous_export_whole(trained, tmp_path, monkeypatch, fmt):
    project, _ = trained
    target = tmp_path / FORMATS[fmt]
    export(project, target, **TRACED[fmt])
    before = snapshot(tmp_path)

    def full(src, dst, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ExportError, match="cannot write .*No space left on device"):
        export(project, target, force=True, **TRACED[fmt])
    assert snapshot(tmp_path) == before  # same files, same bytes, no temp files left


def test_the_exporters_never_write_the_target_themselves(trained, tmp_path, monkeypatch):
    """torch's file writers abort the process on a full disk: they only ever get a buffer."""
    seen = []
    real_export, real_jit = torch.export.save, torch.jit.save

    def export_save(program, f, *args, **kwargs):
        seen.append(f)
        return real_export(program, f, *args, **kwargs)

    def jit_save(module, f, *args, **kwargs):
        seen.append(f)
        return real_jit(module, f, *args, **kwargs)

    monkeypatch.setattr(torch.export, "save", export_save)
    monkeypatch.setattr(torch.jit, "save", jit_save)
    export(trained[0], tmp_path / "m.pt2", task=0)
    export(trained[0], tmp_path / "m.pt", task=0)
    assert len(seen) == 2 and not any(isinstance(f, (str, os.PathLike)) for f in seen)


# ---------------------------------------------------------------- item 23: unwritable outputs

@pytest.mark.parametrize("case", ["missing-folder", "a-folder", "under-a-file", "read-only"])
@pytest.mark.parametrize("fmt", ["pt2", "safetensors"])
def test_unwritable_outputs_say_why(trained, tmp_path, request, case, fmt):
    name = FORMATS[fmt]
    if case == "missing-folder":
        target, message = tmp_path / "nowhere" / name, "folder .*nowhere does not exist"
    elif case == "a-folder":
        target, message = tmp_path / name, "is a folder"
        target.mkdir()
    elif case == "under-a-file":
        (tmp_path / "file").write_text("x")
        target, message = tmp_path / "file" / name, "folder .*file is not a folder"
    else:
        target, message = request.getfixturevalue("read_only") / name, "cannot write .*(Read-only|Permission)"
    with pytest.raises(ExportError, match=message):
        export(trained[0], target, **TRACED[fmt])
    assert not target.is_file() and not (tmp_path / "nowhere").exists()


def test_cli_unwritable_output_is_one_line(trained, tmp_path, capsys):
    _, source = trained
    assert main(["export", str(source), "-o", str(tmp_path / "no" / "m.pt2"), "--task", "0"]) == 2
    assert "does not exist" in one_line_error(capsys, "export")
    assert main(["export", str(source), "-o", str(tmp_path), "--format", "pt2", "--task", "0"]) == 2
    assert "is a folder" in one_line_error(capsys, "export")


# ---------------------------------------------------------------- every argument is checked

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"project": 5}, "project: expected a modstudio Project, got int"),
    ({"path": 5}, "path: expected a file name"),
    ({"path": ""}, "path: '' is not a file name"),
    ({"path": "m\0.pt2"}, "is not a file name"),
    ({"format": 3}, "format: expected one of"),
    ({"task": 1.5}, "task: expected an index or a name, got float"),
    ({"task": True}, "task: expected an index or a name, got bool"),
    ({"run": [0]}, "run: expected an index or a name, got list"),
    ({"all_tasks": "yes"}, "all_tasks: expected True or False"),
    ({"force": 1}, "force: expected True or False"),
    ({"project_file": 3}, "project_file: expected a file name"),
    ({"run": ""}, "no run ''"),
    ({"run": "-" + "9" * 5000}, "no run '-999"),
    ({"task": "9" * 5000}, "no task '999"),
])
def test_bad_arguments_name_themselves(trained, tmp_path, kwargs, message):
    arguments = {"project": trained[0], "path": tmp_path / "m.pt2", "task": 0, **kwargs}
    with pytest.raises(ExportError, match=message):
        export(**arguments)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- item 24: crafted exports

def _craft(tmp_path, good_export, *, meta=None, description=None, weights=None, header=None) -> Path:
    weights0, meta0, description0 = good_export
    if header is None:
        header = {"modstudio": json.dumps(meta0 if meta is None else meta),
                  "network": json.dumps(description0 if description is None else description)}
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(save_safetensors(weights0 if weights is None else weights, metadata=header))
    return path


def _described(good_export, **changes) -> dict:
    return {**good_export[2], **changes}


def _node(good_export, kind: str) -> str:
    return next(n["id"] for n in good_export[2]["graph"]["nodes"] if n["kind"] == kind)


def _with_param(good_export, kind: str, **params) -> dict:
    graph = json.loads(json.dumps(good_export[2]["graph"]))
    for node in graph["nodes"]:
        if node["kind"] == kind:
            node["params"].update(params)
    return _described(good_export, graph=graph)


CRAFTED = {
    "metadata-not-object": (lambda g: {"meta": [1, 2]}, "must be\\s+JSON objects"),
    "description-not-object": (lambda g: {"description": "x"}, "must be\\s+JSON objects"),
    "no-description": (lambda g: {"header": {"modstudio": "{}"}}, "not a ModStudio export"),
    "description-not-json": (lambda g: {"header": {"modstudio": "{}", "network": "{"}}, "not a ModStudio export"),
    "version-text": (lambda g: {"meta": {**g[1], "format_version": "1"}}, "format_version must be a whole number"),
    "version-newer": (lambda g: {"meta": {**g[1], "format_version": 99}}, "newer ModStudio"),
    "field-missing": (lambda g: {"description": {k: v for k, v in g[2].items() if k != "paths"}},
                      "description lacks the field 'paths'"),
    "graph-junk": (lambda g: {"description": _described(g, graph=[1])}, "graph is not a valid graph"),
    "graph-infinite-width": (lambda g: {"description": _with_param(g, "mlp_block", hidden=[float("inf")])},
                             "graph is not a valid graph|does not describe"),
    "graph-text-width": (lambda g: {"description": _with_param(g, "mlp_block", hidden="wide")},
                         "graph is not a valid graph|does not describe"),
    "input-shape-text": (lambda g: {"description": _described(g, input_shape="x")}, "input_shape must be"),
    "input-shape-huge": (lambda g: {"description": _described(g, input_shape=[10**12])}, r"input_shape\[0\] must be"),
    "input-shape-deep": (lambda g: {"description": _described(g, input_shape=[1] * 50)}, "at most 8"),
    "no-tasks": (lambda g: {"description": _described(g, task_classes=[])}, "task_classes must be"),
    "task-classes-text": (lambda g: {"description": _described(g, task_classes=["a", 2, 2])}, r"task_classes\[0\]"),
    "union-bool": (lambda g: {"description": _described(g, union_size=True)}, "union_size must be"),
    "strategy-number": (lambda g: {"description": _described(g, strategy=5)}, "strategy must be"),
    "strategy-unknown": (lambda g: {"description": _described(g, strategy="nope")}, "nope"),
    "scenario-odd": (lambda g: {"description": _described(g, scenario="both")}, "scenario must be"),
    "paths-not-list": (lambda g: {"description": _described(g, paths={"a": 1})}, "paths must be"),
    "path-negative": (lambda g: {"description": _described(g, paths=[{**g[2]["paths"][0], _node(g, "head"): -1}])},
                      "must be a whole number from 0"),
    "path-far-instance": (lambda g: {"description": _described(g, paths=[{**g[2]["paths"][0],
                                                                          _node(g, "mlp_block"): 10**5}])},
                          "uses instance 100000 .*which the weights do not hold"),
    "path-unknown-node": (lambda g: {"description": _described(g, paths=[{**g[2]["paths"][0], "ghost": 0}])},
                          "ghost"),
    # A head of 2**31-1 classes would ask for ~100 GB before loading a byte; the check builds on meta.
    "huge-head": (lambda g: {"description": _described(g, task_classes=[2, 2**31 - 1, 2], union_size=6)},
                  "has shape .* the network needs"),
    # Progressive laterals of 10**6 × 10**6 would be allocated (4 TB) before the old loader compared a tensor.
    "huge-lateral": (lambda g: {"description": _with_param(g, "mlp_block", hidden=[1_000_000])},
                     "has shape .* the network needs|lack"),
    "weight-far-instance": (lambda g: {"weights": {**g[0], f"bank/{_node(g, 'mlp_block')}/99999999/0.weight":
                                                   np.zeros((16, 8), np.float32)}}, "not instances 0"),
    "weight-wrong-shape": (lambda g: {"weights": {k: (v[:1] if k.endswith("weight") else v) for k, v in g[0].items()}},
                           "has shape"),
    "weight-missing": (lambda g: {"weights": dict(list(g[0].items())[1:])}, "lack"),
    "weight-stranger": (lambda g: {"weights": {**g[0], "elsewhere/x": np.zeros(2, np.float32)}}, "no place"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_exports_are_export_errors(good_export, tmp_path, case):
    make, message = CRAFTED[case]
    path = _craft(tmp_path, good_export, **make(good_export))
    with pytest.raises(ExportError, match=message):
        load_model(path)


def test_the_untouched_export_loads(good_export, tmp_path):
    model = load_model(_craft(tmp_path, good_export))
    assert model(torch.zeros(2, 8), 2).shape == (2, 2)


def test_too_many_tensors_and_damaged_files(good_export, tmp_path, monkeypatch):
    path = _craft(tmp_path, good_export)
    monkeypatch.setattr(bundle, "MAX_TENSORS", 3)
    with pytest.raises(ExportError, match="more than an export may"):
        load_model(path)
    monkeypatch.undo()
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ExportError, match="not a readable safetensors file"):
        load_model(path)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"path": 5}, "path: expected a file name"),
    ({"device": 5}, "device: expected a device name"),
    ({"device": "cuda:7"}, "device: .*not available"),
    ({"device": "banana"}, "device: unknown device"),
])
def test_load_model_arguments(good_export, tmp_path, kwargs, message):
    with pytest.raises(ExportError, match=message):
        load_model(**{"path": _craft(tmp_path, good_export), **kwargs})
