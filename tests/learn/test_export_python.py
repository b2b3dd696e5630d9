"""The Python export: one readable PyTorch file plus safetensors weights that reproduce the studio
without ModStudio.

Each file runs in a child Python whose ``sys.path`` holds torch and safetensors but no ModStudio
(``-I -S``: no user site, no ``.pth`` files, so not the editable install's finder either), with the
file's folder as its working directory; its logits must match ``restore_network`` + forward to 1e-6.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import safetensors
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from modstudio.cli import build_parser, main
from modstudio.learn import builders
from modstudio.learn.export import ExportError, export
from modstudio.learn.export.pycode import HELPERS, PythonExportError, identifier, layer_code
from modstudio.learn.network import ChannelMix
from modstudio.learn.restore import restore_network
from tests.learn.test_export import trained  # noqa: F401  (the module-scoped fixture, reused)

TOLERANCE = 1e-6
SITE_DIRS = sorted({str(Path(m.__file__).resolve().parents[1]) for m in (torch, safetensors)})

# The child: a sys.path without ModStudio, the file loaded from its folder, outputs back as safetensors.
DRIVER = textwrap.dedent('''
    import importlib.util, json, runpy, sys
    from pathlib import Path
    sys.path.extend(json.loads(sys.argv[1]))
    blocked = [p for p in sys.path if (Path(p or ".") / "modstudio" / "__init__.py").exists()]
    assert not blocked, f"sys.path holds ModStudio: {blocked}"
    try:
        import modstudio
    except ImportError:
        pass
    else:
        raise SystemExit(f"modstudio is importable from {modstudio.__file__}")
    import torch
    from safetensors.torch import load_file, save_file
    spec = importlib.util.spec_from_file_location("exported", sys.argv[2])
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    model = code.load("cpu")
    assert not model.training
    outputs = {}
    with torch.no_grad():
        for key, x in load_file("inputs.safetensors").items():
            task = key.split("/")[1]
            outputs[key] = model(x) if task == "-" else model(x, int(task))
    save_file(outputs, "outputs.safetensors")
    assert not any(name.split(".")[0] == "modstudio" for name in sys.modules), "the file imported ModStudio"
    runpy.run_path(sys.argv[2], run_name="__main__")  # the file's own example runs too
''')


def site_dirs(folder: Path) -> list[str]:
    """Where torch and safetensors live; where ModStudio is installed there too (not as an editable
    checkout), a folder of links to everything else in it instead."""
    dirs = []
    for site in SITE_DIRS:
        if not (Path(site) / "modstudio").exists():
            dirs.append(site)
            continue
        clean = folder / f"site-{len(dirs)}"
        clean.mkdir()
        for entry in Path(site).iterdir():
            if not entry.name.lower().startswith(("modstudio", "__editable__")):
                (clean / entry.name).symlink_to(entry)
        dirs.append(str(clean))
    return dirs


def run_isolated(path: Path, inputs: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """Outputs of ``path``'s model on ``inputs`` (keys ``x/<task or ->/...``), run without ModStudio."""
    folder = path.parent
    save_file({k: v.contiguous() for k, v in inputs.items()}, str(folder / "inputs.safetensors"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    done = subprocess.run([sys.executable, "-I", "-S", "-c", DRIVER, json.dumps(site_dirs(folder)), path.name],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return load_file(str(folder / "outputs.safetensors")), done.stdout


def studio_logits(t, tasks) -> dict[int, np.ndarray]:
    """The reference: the run rebuilt by restore_network, forward per task."""
    net = restore_network(t.project, t.project.runs[-1])
    with torch.no_grad():
        return {task: net(t.x[task], task).numpy() for task in tasks}


def assert_close(label, got: torch.Tensor, expected: np.ndarray) -> None:
    got = got.numpy()
    assert got.shape == expected.shape, label
    diff = float(np.abs(got - expected).max())
    assert diff <= TOLERANCE, f"{label}: max abs difference {diff}"


# ---------------------------------------------------------------- the files reproduce the studio

CASES = [
    ("digits-finetune", {"task": 1}),
    ("digits-finetune", {"all_tasks": True}),
    ("digits-expansion", {"all_tasks": True}),
    ("digits-progressive", {"all_tasks": True}),
    ("digits-progressive", {"task": 1}),
    ("digits-ewc-class", {"all_tasks": True}),
    ("conv-expansion", {"all_tasks": True}),
    ("residual-progressive", {"all_tasks": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES,
                         ids=[f"{n}-{'all' if 'all_tasks' in k else 'task' + str(k['task'])}" for n, k in CASES])
def test_python_file_reproduces_the_studio_without_modstudio(trained, tmp_path, name, kwargs):
    t = trained(name)
    path = tmp_path / "model.py"
    done = export(t.project, path, **kwargs)
    assert done.format == "python" and done.paths == [path, tmp_path / "model.safetensors"]
    all_tasks = kwargs.get("all_tasks", False) and not t.shared_head
    tasks = [0, 1] if kwargs.get("all_tasks") else [kwargs["task"]]
    inputs = {f"x/{task if all_tasks else '-'}/{task}": t.x[task] for task in tasks}
    outputs, stdout = run_isolated(path, inputs)
    expected = studio_logits(t, tasks)
    for task in tasks:
        key = f"x/{task if all_tasks else '-'}/{task}"
        assert_close(f"{name}/task {task}", outputs[key], expected[task])
        assert_close(f"{name}/task {task} vs trainer", outputs[key], t.logits[task])
    assert stdout.strip().startswith("[")  # the file's own example printed class names


def test_every_class_of_a_shared_head_and_no_task_argument(trained, tmp_path):
    t = trained("digits-ewc-class")
    export(t.project, tmp_path / "model.py", all_tasks=True)
    source = (tmp_path / "model.py").read_text()
    assert "class AllClasses(nn.Module)" in source and "def forward(self, x: torch.Tensor) -> torch.Tensor" in source
    assert 'CLASS_NAMES = ["0", "1", "2", "3"]' in source


def test_expansion_reuses_and_grows_modules_by_name(trained, tmp_path):
    """A reused instance is one attribute for both tasks; a grown one an attribute per instance."""
    t = trained("digits-expansion")
    run = t.project.runs[-1]
    export(t.project, tmp_path / "model.py", all_tasks=True)
    source = (tmp_path / "model.py").read_text()
    tree = ast.parse(source)
    model = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "AllTasks")
    methods = {f.name for f in model.body if isinstance(f, ast.FunctionDef)}
    assert {"__init__", "forward", "task_0", "task_1"} <= methods
    seen = set()
    for node_id in run.paths[0]:
        node = t.project.graph.nodes[node_id]
        if node.kind == "head":
            continue
        stem = identifier(node.name, "")
        if run.paths[0][node_id] == run.paths[1][node_id]:
            seen.add("reused")
            assert f"self.{stem} = " in source and f"self.{stem}_i1" not in source
        else:
            seen.add("grown")
            assert f"self.{stem}_i0 = " in source and f"self.{stem}_i1 = " in source
    assert seen == {"reused", "grown"}, f"the run should reuse one block and grow another: {run.paths}"
    assert "self.task_head_1_t0 = nn.Linear(64, 2)" in source and "self.task_head_1_t1 = nn.Linear(64, 2)" in source
    weights = load_file(str(tmp_path / "model.safetensors"))
    assert "task_head_1_t1.weight" in weights


def test_the_code_is_readable_and_imports_only_torch(trained, tmp_path):
    t = trained("digits-finetune")
    run = t.project.runs[-1]
    export(t.project, tmp_path / "model.py", task=1)
    source = (tmp_path / "model.py").read_text()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    for text in ("split digits", run.id, "finetune", "digits 0-1", "digits 2-3", "classes 2, 3", "model.safetensors"):
        assert text in doc, text
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"pathlib", "torch", "safetensors.torch"}  # import torch, from torch import nn
    assert "modstudio" not in source.replace("ModStudio", "").split('"""', 2)[2]  # nothing after the docstring
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes == ["Task1"]  # one class per task path; no helper needed by an MLP
    load = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "load")
    assert [a.arg for a in load.args.args] == ["device"] and ast.literal_eval(load.args.defaults[0]) == "cpu"
    assert ("self.mlp_block_1 = nn.Sequential(\n            nn.Linear(64, 64),\n            nn.ReLU(),\n        )"
            in source)
    assert "logits = self.task_head_1(mlp_block_2)" in source
    assert "load_file(WEIGHTS), strict=True" in source
    assert max(len(line) for line in source.splitlines()) <= 120


def test_progressive_laterals_are_written_as_adapters(trained, tmp_path):
    t = trained("digits-progressive")
    export(t.project, tmp_path / "model.py", task=1)
    source = (tmp_path / "model.py").read_text()
    assert "class LateralAdapter(nn.Module)" in source and "class ChannelMix" not in source
    assert "self.lateral_t1_task_head_1 = LateralAdapter(1, 64, 16)" in source
    assert "+ self.lateral_t1_task_head_1([col0_mlp_block_2])" in source
    assert "col0_task_head_1" not in source  # an older column's head is never needed
    net = restore_network(t.project, t.project.runs[-1])
    weights = load_file(str(tmp_path / "model.safetensors"))
    assert sum(v.numel() for v in weights.values()) == net.task_parameter_count(1) - sum(
        p.numel() for p in net.instances(net.head_id)[0].parameters())


def test_conv_blocks_become_sequentials_and_our_pool_a_class(trained, tmp_path):
    t = trained("conv-expansion")
    export(t.project, tmp_path / "model.py", task=0)
    source = (tmp_path / "model.py").read_text()
    assert "nn.Conv2d(1, 16, 3, padding=1, bias=False)" in source and "nn.BatchNorm2d(16)" in source
    assert "nn.MaxPool2d(2, stride=2)" in source
    assert "class GlobalAvgPool(nn.Module)" in source and "self.global_average_pool_1 = GlobalAvgPool()" in source


def test_residual_blocks_are_written_as_their_body_skip_and_activation(trained, tmp_path):
    t = trained("residual-progressive")
    export(t.project, tmp_path / "model.py", task=0)
    source = (tmp_path / "model.py").read_text()
    assert "class ResidualBlock(nn.Module)" in source and source.count("class ResidualBlock") == 1
    assert "return self.act(self.body(x) + self.skip(x))" in source
    assert "= ResidualBlock(\n" in source and "nn.Identity(),\n" in source  # the block that keeps its shape
    assert "nn.Conv2d(8, 16, 1, stride=2, bias=False)" in source  # the projection of the one that halves it


def test_merges_and_plain_layers_of_a_hand_made_graph(tmp_path):
    """Add, Concat, Flatten, LayerNorm, a bare Linear and an activation node: every edge in order."""
    import modstudio as ms
    from modstudio.examples import build_example
    from modstudio.graph import Graph

    project = build_example("split-digits")
    project.tasks[:] = project.tasks[:2]
    g = Graph()
    x = g.add_node("input")
    a = g.add_node("linear", out_features=16)
    act = g.add_node("gelu")
    b = g.add_node("linear", out_features=16, bias=False)
    add = g.add_node("add")
    norm = g.add_node("layernorm")
    cat = g.add_node("concat")
    flat = g.add_node("flatten")
    head = g.add_node("head")
    for src, dst in ((x, a), (a, act), (x, b), (act, add), (b, add), (add, norm), (norm, cat), (b, cat),
                     (cat, flat), (flat, head)):
        g.connect(src, dst)
    project.graph = g
    result = ms.train(project, strategy="expansion", epochs=1, device="cpu")
    assert result.run.status == "finished", result.run.message
    export(project, tmp_path / "model.py", all_tasks=True)
    source = (tmp_path / "model.py").read_text()
    assert "class Add(nn.Module)" in source and "class Concat(nn.Module)" in source
    assert "= self.add_1([gelu_1, linear_2])" in source and "= self.concatenate_1([layer_norm_1, linear_2])" in source
    xs = [torch.tensor(t.test.x) for t in project.tasks]
    outputs, _ = run_isolated(tmp_path / "model.py", {"x/0/0": xs[0], "x/1/1": xs[1]})
    net = restore_network(project, project.runs[-1])
    with torch.no_grad():
        for task in (0, 1):
            assert_close(f"merges/task {task}", outputs[f"x/{task}/{task}"], net(xs[task], task).numpy())


# ---------------------------------------------------------------- every layer the builders make

LAYERS = [
    nn.Linear(3, 4), nn.Linear(3, 4, bias=False), nn.Conv1d(2, 3, 5, stride=2, padding=2),
    nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.MaxPool1d(3, stride=1), nn.MaxPool2d(2),
    nn.AvgPool1d(2), nn.AvgPool2d(3, stride=2), nn.BatchNorm1d(5), nn.BatchNorm2d(5, eps=1e-3),
    nn.LayerNorm(7), nn.Flatten(start_dim=1), nn.ReLU(), nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(),
    nn.Tanh(), nn.Sigmoid(), nn.LeakyReLU(0.2), nn.Dropout(0.25), nn.Identity(), builders.Add(),
    builders.Concat(1), builders.GlobalAvgPool(), ChannelMix(6),
    nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.GELU(), nn.Dropout(0.1)),
    builders.build_module("residual_block", {"out_channels": 4, "stride": 2, "norm": "batch", "activation": "relu"},
                          [(2, 8, 8)]),
    builders.build_module("residual_block", {"out_channels": 2, "stride": 1, "norm": "none", "activation": "silu"},
                          [(2, 8, 8)]),
]


@pytest.mark.parametrize("module", LAYERS, ids=lambda m: type(m).__name__)
def test_each_layer_is_rebuilt_from_its_code(module):
    helpers: set[type] = set()
    code = layer_code(module, helpers)
    namespace = {"torch": torch, "nn": nn}
    for kind in helpers:
        exec(HELPERS[kind], namespace)
    rebuilt = eval(code, namespace)
    assert repr(rebuilt) == repr(module)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in module.state_dict().items()}


def test_every_builder_kind_can_be_written():
    """Every catalog kind's torch layer is one the writer knows (a new kind needs an emitter here)."""
    from modstudio.graph import catalog

    def shapes(kind):
        if kind in ("add", "concat"):
            return [(4,), (4,)]
        if kind.endswith("1d"):
            return [(2, 9)]
        if kind.endswith("2d") or kind in ("conv_block", "residual_block", "global_avg_pool", "flatten"):
            return [(2, 8, 8)]
        return [(8,)]

    for kind in builders.BUILDERS:
        params = {p.name: p.default for p in catalog.get(kind).params}
        if kind == "head":
            params["classes"] = 3
        layer_code(builders.build_module(kind, params, shapes(kind)), set())


@pytest.mark.parametrize("module", [nn.Conv2d(1, 2, 3, dilation=2), nn.Conv2d(2, 2, 3, groups=2),
                                    nn.Conv1d(1, 1, 3, padding="same"), nn.MaxPool2d(2, ceil_mode=True),
                                    nn.AvgPool2d(2, divisor_override=2), nn.ELU()],
                         ids=["dilation", "groups", "padding-same", "ceil", "divisor", "elu"])
def test_layers_it_cannot_write_are_refused(module):
    with pytest.raises(PythonExportError):
        layer_code(module, set())


def test_a_kind_it_cannot_write_is_an_export_error_naming_it(trained, tmp_path, monkeypatch):
    t = trained("digits-finetune")
    monkeypatch.setitem(builders.BUILDERS, "relu", lambda params, shapes: nn.ELU())  # a layer without an emitter
    with pytest.raises(ExportError, match=r"cannot write node 'MLP block 1' \(kind 'mlp_block'\) as Python code: "
                                          r"its layer torch\.nn\.modules\.activation\.ELU is not one"):
        export(t.project, tmp_path / "model.py", task=0)
    assert not list(tmp_path.iterdir())


def test_identifiers_from_node_names():
    assert identifier("MLP block 1", "mlp_block") == "mlp_block_1"
    assert identifier("1st layer", "linear") == "n1st_layer"
    assert identifier("for", "linear") == "for_"
    assert identifier("forward", "linear") == "forward_"  # an nn.Module attribute
    assert identifier("Résumé ∑", "linear") == "resume"
    assert identifier("***", "conv_block") == "conv_block"


def test_odd_node_names_still_give_valid_code(trained, tmp_path):
    t = trained("digits-finetune")
    project = t.project
    run = project.runs[-1]
    saved = {nid: n.name for nid, n in project.graph.nodes.items()}
    odd = iter(['x', 'Task 0 """\\', 'task_0', 'x'])
    try:
        for node in project.graph.nodes.values():
            node.name = next(odd)
        if run.graph is not None:
            for node in run.graph["nodes"]:
                node["name"] = project.graph.nodes[node["id"]].name
        export(project, tmp_path / "model.py", all_tasks=True)
    finally:
        for nid, name in saved.items():
            project.graph.nodes[nid].name = name
        if run.graph is not None:
            for node in run.graph["nodes"]:
                node["name"] = saved[node["id"]]
    outputs, _ = run_isolated(tmp_path / "model.py", {"x/0/0": t.x[0], "x/1/1": t.x[1]})
    expected = studio_logits(t, [0, 1])
    assert_close("odd names", outputs["x/1/1"], expected[1])


# ---------------------------------------------------------------- where it writes

def test_both_files_go_through_the_safe_output_path(trained, tmp_path):
    t = trained("digits-finetune")
    code, weights = tmp_path / "model.py", tmp_path / "model.safetensors"
    export(t.project, code, task=0)
    with pytest.raises(ExportError, match="model.py exists: use --force"):
        export(t.project, code, task=0)
    code.unlink()
    with pytest.raises(ExportError, match=r"model.safetensors \(where the export's weights go\) exists: use --force"):
        export(t.project, code, task=0)
    export(t.project, code, task=1, force=True)  # both replaced: our own weights
    assert "class Task1" in code.read_text()
    save_file({"w": torch.zeros(2)}, str(weights))  # someone else's safetensors
    before = weights.read_bytes()
    with pytest.raises(ExportError, match="not a ModStudio export's weights, so it is not replaced even with --force"):
        export(t.project, code, task=0, force=True)
    assert weights.read_bytes() == before and "class Task1" in code.read_text()
    with pytest.raises(ExportError, match="writes its weights to NAME.safetensors beside the code: name the file m.py"):
        export(t.project, tmp_path / "m.safetensors", format="python", task=0)
    link = tmp_path / "link.py"
    link.hardlink_to(t.file)  # the project under a code file's name
    with pytest.raises(ExportError, match="never replaces its project"):
        export(t.project, link, task=0, force=True, project_file=t.file)


def test_the_project_is_never_the_weights_file(trained, tmp_path):
    t = trained("digits-finetune")
    project_copy = tmp_path / "model.safetensors"
    project_copy.write_bytes(t.file.read_bytes())  # a project under the weights' name
    with pytest.raises(ExportError, match="is a ModStudio project"):
        export(t.project, tmp_path / "model.py", task=0, force=True)
    assert project_copy.read_bytes() == t.file.read_bytes() and not (tmp_path / "model.py").exists()


# ---------------------------------------------------------------- command line

def test_cli_writes_python_code(trained, tmp_path, capsys):
    t = trained("digits-finetune")
    out = tmp_path / "digits.py"
    assert main(["export", str(t.file), "-o", str(out), "--all-tasks"]) == 0
    said = capsys.readouterr().out
    assert f"wrote {out}, {tmp_path / 'digits.safetensors'}: python, all tasks" in said
    assert main(["export", str(t.file), "-o", str(tmp_path / "code.txt"), "--format", "python", "--task", "0"]) == 0
    assert (tmp_path / "code.safetensors").exists()
    outputs, _ = run_isolated(out, {"x/1/1": t.x[1]})
    assert_close("cli", outputs["x/1/1"], studio_logits(t, [1])[1])


def test_cli_help_names_the_format():
    parser = build_parser()
    export_parser = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "export")[1]
    text = export_parser.format_help()
    assert "python" in text and ".py" in text
