"""Exports reproduce the studio: every format, on the example projects and the strategies that train.

Each project trains once per module (2 tasks, 1 epoch), is saved and loaded back like a user's
file, and exported from the loaded copy; the reference is the network the trainer ended with.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

import modstudio as ms
from modstudio.cli import main
from modstudio.examples import build_example
from modstudio.learn.export import FORMATS, ExportError, export, load_model
from modstudio.learn.export.models import TaskModel
from modstudio.learn.restore import restore_network

# The tests load TorchScript files on purpose; torch marks torch.jit.load deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")

HAS_ONNX = all(importlib.util.find_spec(m) for m in ("onnx", "onnxscript"))
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason='ONNX export needs pip install "modstudio[onnx]"')
needs_ort = pytest.mark.skipif(not (HAS_ONNX and HAS_ORT), reason="onnxruntime is not installed")
TOLERANCE = 1e-5
DOC = Path(__file__).resolve().parents[2] / "docs" / "export.md"

CONFIGS = {
    "digits-expansion": ("split-digits", "expansion", "task"),
    "digits-progressive": ("split-digits", "progressive", "task"),
    "digits-finetune": ("split-digits", "finetune", "task"),
    "conv-expansion": ("split-digits-conv", "expansion", "task"),
    "signals-finetune": ("split-signals", "finetune", "task"),
    "permuted-finetune": ("permuted-digits", "finetune", "task"),
    "digits-replay": ("split-digits", "replay", "task"),
    "digits-expansion-class": ("split-digits", "expansion", "class", {"task_inference": "unified"}),
    "digits-confidence-class": ("split-digits", "expansion", "class", {"task_inference": "confidence"}),
    "digits-ewc-class": ("split-digits", "ewc", "class"),
    "residual-expansion-class": ("residual-digits", "expansion", "class", {"task_inference": "unified"}),
    "residual-progressive": ("residual-digits", "progressive", "task"),
}
MAX_DIFF: dict[str, float] = {}  # what the runs measured, printed at the end with -s


def residual_digits() -> ms.Project:
    """The split-digits-conv tasks through a ResNet-style body: a stem, a residual block with the
    identity skip and one that doubles the channels and halves the size (a projection on its skip)."""
    from modstudio.graph import Graph

    project = build_example("split-digits-conv")
    g = Graph()
    ids = [g.add_node("input"), g.add_node("conv_block", out_channels=8, pool="none"),
           g.add_node("residual_block", out_channels=8), g.add_node("residual_block", out_channels=16, stride=2),
           g.add_node("global_avg_pool"), g.add_node("head")]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    project.graph = g
    return project


PROJECTS = {"residual-digits": residual_digits}  # projects of the tests' own, beside the examples


class Trained:
    """A loaded project with one run, and what the trainer's own network answered per task."""

    def __init__(self, example, strategy, scenario, params=None, *, folder: Path) -> None:
        project = PROJECTS[example]() if example in PROJECTS else build_example(example)
        project.tasks[:] = project.tasks[:2]
        result = ms.train(project, strategy=strategy, scenario=scenario, epochs=1, device="cpu",
                          strategy_params=params or {})
        assert result.run.status == "finished", result.run.message
        net = result.network.eval()
        self.x = [torch.tensor(t.test.x) for t in project.tasks]
        with torch.no_grad():
            self.logits = [net(x, t).numpy() for t, x in enumerate(self.x)]
        self.project = ms.load_project(project.save(folder / "p.modstudio"))
        self.file = folder / "p.modstudio"
        self.shared_head = net.shared_head is not None or net.unified is not None  # one model, every class


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cache: dict[str, Trained] = {}

    def get(name: str) -> Trained:
        if name not in cache:
            cache[name] = Trained(*CONFIGS[name], folder=tmp_path_factory.mktemp(name))
        return cache[name]

    yield get
    if MAX_DIFF:
        print("\nmax |Δlogits| per export:", json.dumps(MAX_DIFF, indent=1))


def _export_cache(trained, **kwargs):
    """``get(name, fmt) → (trained, path, Exported)``, each export made once: ONNX export costs seconds."""
    cache = {}
    stem = "all" if kwargs.get("all_tasks") else f"task{kwargs.get('task')}"

    def get(name: str, fmt: str):
        if (name, fmt) not in cache:
            t = trained(name)
            path = t.file.parent / f"{stem}{FORMATS[fmt]}"
            cache[name, fmt] = t, path, export(t.project, path, format=fmt, **kwargs)
        return cache[name, fmt]

    return get


@pytest.fixture(scope="module")
def all_tasks_file(trained):
    return _export_cache(trained, all_tasks=True)


@pytest.fixture(scope="module")
def task1_file(trained):
    return _export_cache(trained, task=1)


def run_file(fmt: str, path: Path, x: torch.Tensor, task: int | None):
    """Outputs of an exported file as numpy; ``task`` None for a one-task file."""
    inputs = (x,) if task is None else (x, torch.full((len(x),), task, dtype=torch.long))
    if fmt == "onnx":
        import onnx
        import onnxruntime

        onnx.checker.check_model(str(path), full_check=True)
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        return session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    if fmt == "torchscript":
        model = torch.jit.load(str(path))
    else:
        model = torch.export.load(str(path)).module()
    with torch.no_grad():
        out = model(*inputs)
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def assert_same(label: str, got: np.ndarray, expected: np.ndarray) -> None:
    got = got[:, : expected.shape[1]]  # an all-tasks file pads narrower heads with -inf
    diff = float(np.abs(got - expected).max())
    MAX_DIFF[label] = max(MAX_DIFF.get(label, 0.0), diff)
    assert diff <= TOLERANCE, f"{label}: max abs difference {diff}"
    assert np.array_equal(got.argmax(1), expected.argmax(1)), label


def studio_accuracy(project, run, outputs_per_task) -> list[float]:
    """Accuracy as the trainer counts it, from exported outputs: the run's last accuracy row."""
    accuracies = []
    for j, task in enumerate(project.tasks):
        y = task.test.y if run.settings["scenario"] == "task" else np.asarray(task.classes)[task.test.y]
        accuracies.append(float((outputs_per_task[j] == y).mean()))
    return accuracies


# ---------------------------------------------------------------- every format reproduces the studio

# ONNX export takes seconds of CPU each: every strategy family and both scenarios, not every config.
ONNX_CONFIGS = ["digits-expansion", "digits-progressive", "digits-finetune", "conv-expansion", "digits-expansion-class",
                "digits-confidence-class", "residual-expansion-class"]


@pytest.mark.parametrize(("name", "fmt"), [
    *[pytest.param(name, "onnx", marks=needs_ort) for name in ONNX_CONFIGS],
    *[(name, fmt) for name in CONFIGS for fmt in ("torchscript", "pt2")],
])
def test_all_tasks_file_reproduces_the_studio(all_tasks_file, name, fmt):
    t, path, done = all_tasks_file(name, fmt)
    assert done.format == fmt and done.tasks == [0, 1] and done.paths == [path]
    for task, (x, expected) in enumerate(zip(t.x, t.logits)):
        outputs = run_file(fmt, path, x, None if t.shared_head else task)
        assert_same(f"{name}/{fmt}/all", outputs[0], expected)
        if not t.shared_head:  # every head, the selected one among them
            assert outputs[1].shape[:2] == (len(x), 2)
            assert np.array_equal(outputs[1][:, task], outputs[0])


@pytest.mark.parametrize(("name", "fmt"), [
    pytest.param("digits-progressive", "onnx", marks=needs_ort),
    *[(name, fmt) for name in ("digits-progressive", "conv-expansion", "digits-expansion-class")
      for fmt in ("torchscript", "pt2")],
])
def test_one_task_file_reproduces_the_studio(task1_file, name, fmt):
    t, path, done = task1_file(name, fmt)
    assert done.tasks == [1] and done.metadata["exported_tasks"] == [1]
    assert_same(f"{name}/{fmt}/task1", run_file(fmt, path, t.x[1], None)[0], t.logits[1])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_load_model_round_trips(trained, tmp_path, name):
    t = trained(name)
    done = export(t.project, tmp_path / "m.safetensors")
    assert [p.name for p in done.paths] == ["m.safetensors", "m.json"]
    model = load_model(done.paths[0])
    assert not any(p.requires_grad for p in model.parameters()) and not model.training
    with torch.no_grad():
        for task, (x, expected) in enumerate(zip(t.x, t.logits)):
            assert_same(f"{name}/safetensors", model(x, task).numpy(), expected)
    assert model.metadata == done.metadata
    assert load_model(tmp_path / "m.json").metadata == done.metadata  # the description names its weights
    assert json.loads((tmp_path / "m.json").read_text())["metadata"] == done.metadata


@needs_ort
def test_exported_outputs_give_the_runs_accuracies(all_tasks_file):
    """Task-incremental: argmax of the task's logits; class-incremental with a unified classifier:
    argmax over every class; with a path per task and confidence inference: the most confident head
    names the task, as the trainer infers it. Each gives the run's last accuracy row."""
    for name in ("digits-expansion", "digits-expansion-class", "digits-confidence-class"):
        t, path, done = all_tasks_file(name, "onnx")
        meta = done.metadata
        predictions = []
        for task, x in enumerate(t.x):
            if meta["shared_head"]:
                logits = run_file("onnx", path, x, None)[0]
                predictions.append(np.asarray(meta["shared_head"]["classes"])[logits.argmax(1)])
                continue
            logits, all_logits = run_file("onnx", path, x, task)
            if meta["scenario"] == "task":
                predictions.append(logits.argmax(1))
                continue
            probs = torch.tensor(all_logits).softmax(2).numpy()
            best = probs.max(2).argmax(1)
            local = all_logits[np.arange(len(x)), best].argmax(1)
            predictions.append(np.array([meta["tasks"][b]["classes"][c] for b, c in zip(best, local)]))
        run = t.project.runs[-1]
        assert studio_accuracy(t.project, run, predictions) == pytest.approx(run.acc_matrix[-1])


def test_shared_head_exports_one_row_over_every_class(trained, tmp_path):
    t = trained("digits-ewc-class")
    done = export(t.project, tmp_path / "m.pt2", all_tasks=True)
    assert done.metadata["inputs"] == ["x"] and done.metadata["shared_head"]["classes"] == [0, 1, 2, 3]
    assert run_file("pt2", tmp_path / "m.pt2", t.x[0], None)[0].shape == (len(t.x[0]), 4)


@pytest.mark.parametrize("name", ["digits-progressive", "digits-expansion"])
def test_one_task_file_carries_only_that_tasks_parameters(trained, name):
    t = trained(name)
    net = restore_network(t.project, t.project.runs[-1])
    for task in range(2):
        kept = sum(p.numel() for p in TaskModel(net, task).parameters())
        assert kept == net.task_parameter_count(task)


# ---------------------------------------------------------------- metadata

@needs_ort
def test_metadata_travels_in_every_format(all_tasks_file):
    import onnx

    metas = {}
    for fmt in ("onnx", "torchscript", "pt2", "safetensors"):
        t, path, done = all_tasks_file("digits-finetune", fmt)
        metas[fmt] = done.metadata
    folder = path.parent
    stored = {p.key: p.value for p in onnx.load(str(folder / "all.onnx")).metadata_props}
    assert json.loads(stored["modstudio"]) == metas["onnx"]
    assert json.loads(stored["class_names"]) == [["0", "1"], ["2", "3"]] and stored["normalization"] == "none"
    assert json.loads(stored["input_shape"]) == [64]
    extra = {"modstudio.json": ""}
    torch.jit.load(str(folder / "all.pt"), _extra_files=extra)
    assert json.loads(extra["modstudio.json"]) == metas["torchscript"]
    extra = {"modstudio.json": ""}
    torch.export.load(str(folder / "all.pt2"), extra_files=extra)
    meta = json.loads(extra["modstudio.json"])
    assert meta == metas["pt2"]
    with safe_open(str(folder / "all.safetensors"), "np") as f:
        assert json.loads(f.metadata()["modstudio"]) == metas["safetensors"]
    run = t.project.runs[-1]
    assert meta["project"] == "split digits" and meta["run_id"] == run.id and meta["strategy"] == "finetune"
    assert meta["scenario"] == "task" and meta["modstudio_version"] == ms.__version__
    assert meta["input"]["shape"] == [64] and meta["input"]["normalization"] == "none"
    x = np.concatenate([task.train.x for task in t.project.tasks])
    assert meta["input"]["value_range"] == [float(x.min()), float(x.max())]
    assert [task["class_names"] for task in meta["tasks"]] == [["0", "1"], ["2", "3"]]
    assert meta["inputs"] == ["x", "task"] and meta["outputs"] == ["logits", "all_logits"]


# ---------------------------------------------------------------- choosing the run and the task

def test_run_and_task_by_index_id_or_name(trained, tmp_path):
    t = trained("digits-finetune")
    run = t.project.runs[-1]
    for chosen in (0, -1, run.id, run.id[:6], "0"):
        assert export(t.project, tmp_path / "m.pt2", task=1, run=chosen, force=True).run_id == run.id
    assert export(t.project, tmp_path / "m.pt2", task="digits 2-3", force=True).tasks == [1]
    assert export(t.project, tmp_path / "m.pt2", task="1", force=True).tasks == [1]


def test_the_last_run_with_weights_is_the_default(trained, tmp_path):
    t = trained("digits-finetune")
    good = t.project.runs[-1]
    ms.train(t.project, device="cuda:7")  # a failed run after the good one (no such GPU here)
    try:
        assert export(t.project, tmp_path / "m.pt2", task=0).run_id == good.id
        with pytest.raises(ExportError, match="no saved weights .*failed"):
            export(t.project, tmp_path / "m.pt2", task=0, run=-1)
    finally:
        t.project.runs.pop()


# ---------------------------------------------------------------- clear messages

@pytest.fixture
def untrained():
    project = build_example("split-digits")
    project.tasks[:] = project.tasks[:2]
    return project


def test_untrained_and_failed_projects_say_why(untrained, tmp_path):
    with pytest.raises(ExportError, match="has no training runs: train it first"):
        export(untrained, tmp_path / "m.onnx", task=0)
    ms.train(untrained, device="cuda:7")  # no such GPU here: the run fails
    with pytest.raises(ExportError, match="no run of project 'split digits' has trained weights .*failed: .*cuda:7"):
        export(untrained, tmp_path / "m.onnx", task=0)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"task": 7}, r"no task 7 in run \w+: it trained tasks 0 'digits 0-1', 1 'digits 2-3'"),
    ({"task": "nine"}, "no task 'nine'"),
    ({"task": -1}, "no task -1"),
    ({"task": 0, "run": "zzz"}, r"no run 'zzz' in project 'split digits'; runs: 0 \(\w+, finetune, finished\)"),
    ({"task": 0, "run": 5}, "no run 5"),
    ({"task": 0, "format": "tflite"}, "unknown export format 'tflite'; use onnx, torchscript, pt2, safetensors"),
    ({}, "trained 2 tasks: choose one"),
    ({"task": 0, "all_tasks": True}, "not both"),
], ids=["task-index", "task-name", "negative-task", "run-id", "run-index", "format", "no-choice", "both"])
def test_bad_choices_say_what_exists(trained, tmp_path, kwargs, message):
    with pytest.raises(ExportError, match=message):
        export(trained("digits-finetune").project, tmp_path / "m.pt2", **kwargs)


def test_unknown_suffix_and_safetensors_task(trained, tmp_path):
    project = trained("digits-finetune").project
    with pytest.raises(ExportError, match=r"cannot tell the format from 'm.bin': name it .onnx"):
        export(project, tmp_path / "m.bin", task=0)
    with pytest.raises(ExportError, match="holds every task of the run"):
        export(project, tmp_path / "m.safetensors", task=0)


def test_missing_onnx_packages_name_the_extra(trained, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import fails as if not installed
    with pytest.raises(ExportError, match=re.escape('ONNX export needs the optional package(s) onnx, onnxscript: '
                                                    'pip install "modstudio[onnx]"')):
        export(trained("digits-finetune").project, tmp_path / "m.onnx", task=0)


def test_load_model_refuses_other_files(tmp_path):
    with pytest.raises(ExportError, match=r"torch.export.load\(path\).module\(\)"):
        load_model(tmp_path / "m.pt2")
    with pytest.raises(ExportError, match="no such file"):
        load_model(tmp_path / "m.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ExportError, match="not a readable safetensors file"):
        load_model(tmp_path / "bad.safetensors")


# ---------------------------------------------------------------- command line

def test_cli_export(trained, tmp_path, capsys):
    t = trained("digits-finetune")
    out = tmp_path / "m.pt2"
    assert main(["export", str(t.file), "-o", str(out), "--task", "1"]) == 0
    assert "pt2, task 1 of run" in capsys.readouterr().out
    assert_same("cli/pt2", run_file("pt2", out, t.x[1], None)[0], t.logits[1])
    assert main(["export", str(t.file), "-o", str(tmp_path / "m.pt"), "--all-tasks", "--run", "0"]) == 0
    assert "torchscript, all tasks" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--task", "9"], "no task '9'"),
    (["--run", "abc"], "no run 'abc'"),
    ([], "choose one"),
    (["--format", "safetensors", "--task", "0"], "holds every task"),
])
def test_cli_export_errors_are_one_line(trained, tmp_path, capsys, args, message):
    t = trained("digits-finetune")
    assert main(["export", str(t.file), "-o", str(tmp_path / "m.pt2"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("modstudio export: ") and message in err and err.count("\n") == 1


def test_cli_export_of_an_untrained_project(untrained, tmp_path, capsys):
    path = untrained.save(tmp_path / "u.modstudio")
    assert main(["export", str(path), "-o", str(tmp_path / "m.onnx"), "--task", "0"]) == 2
    assert "no training runs" in capsys.readouterr().err


# ---------------------------------------------------------------- the documentation runs

@needs_ort
def test_the_docs_code_runs(all_tasks_file, task1_file, tmp_path, monkeypatch, capsys):
    t, path, _ = all_tasks_file("digits-progressive", "onnx")
    monkeypatch.chdir(tmp_path)
    shutil.copy(path, "digits-all.onnx")
    shutil.copy(task1_file("digits-progressive", "onnx")[1], "digits.onnx")
    shutil.copy(task1_file("digits-progressive", "pt2")[1], "digits.pt2")
    export(t.project, "digits.safetensors")
    export(t.project, "digits_model.py", task=0)
    monkeypatch.syspath_prepend(str(tmp_path))  # `from digits_model import load`, as from its folder
    monkeypatch.delitem(sys.modules, "digits_model", raising=False)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 6
    try:
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), {})
    finally:
        sys.modules.pop("digits_model", None)
    assert capsys.readouterr().out.count("\n") >= 7


def test_public_names():
    assert ms.export is export and ms.load_model is load_model
