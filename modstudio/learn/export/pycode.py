"""The Python export: the trained network as one readable PyTorch file plus its weights.

``write_python`` turns a restored :class:`ModularNetwork` into source code that needs only torch
and safetensors: one ``nn.Module`` class for one task's path (or one class with
``forward(x, task)`` for every task), its layers named after the graph's nodes, written from the
built modules' types and constructor arguments; and the weights as safetensors, named as that
class's ``state_dict``. Nothing is guessed: a layer the writer does not know is an ExportError
naming the node and its kind, and before anything is written the generated code is run on the
weights and must give the studio's logits.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn

from modstudio.learn import builders
from modstudio.learn.export.meta import from_bytes_text
from modstudio.learn.network import ChannelMix, LateralAdapter, ModularNetwork

PARITY_TOLERANCE = 1e-6  # the generated code runs the same torch layers in the same order: exact in practice

# Helper layers of our own, written into the file when the network uses them (same maths as
# ``learn/builders.py`` and ``learn/network.py``; the parity check holds them to it).
HELPERS: dict[type, str] = {
    builders.Add: '''
class Add(nn.Module):
    """Sum of all inputs (residual connections), in the order they were connected."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out
''',
    builders.Concat: '''
class Concat(nn.Module):
    """Join the inputs along ``dim`` (counted without the batch axis), in the order they were connected."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim + 1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
''',
    builders.GlobalAvgPool: '''
class GlobalAvgPool(nn.Module):
    """Mean of every channel over all spatial positions: (batch, C, ...) → (batch, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(dim=2)
''',
    builders.ResidualBlock: '''
class ResidualBlock(nn.Module):
    """A residual block: act(body(x) + skip(x)); the skip is the identity or a 1×1 conv and norm."""

    def __init__(self, body: nn.Module, skip: nn.Module, act: nn.Module) -> None:
        super().__init__()
        self.body, self.skip, self.act = body, skip, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))
''',
    LateralAdapter: '''
class LateralAdapter(nn.Module):
    """A progressive lateral adapter (Rusu et al. 2016): the older columns' activations, each scaled
    by a learned alpha, projected to a small width, a ReLU, projected back to this column's channels."""

    def __init__(self, columns: int, channels: int, width: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(columns))
        self.down = nn.Parameter(torch.zeros(width, columns * channels))
        self.up = nn.Parameter(torch.zeros(channels, width))

    def forward(self, older: list[torch.Tensor]) -> torch.Tensor:
        scaled = torch.cat([a * self.alpha[j] for j, a in enumerate(older)], dim=1)
        hidden = torch.relu(torch.einsum("oc,bc...->bo...", self.down, scaled))
        return torch.einsum("oc,bc...->bo...", self.up, hidden)
''',
    ChannelMix: '''
class ChannelMix(nn.Module):
    """A progressive lateral adapter: a learned C×C mix over the channel axis of an older column."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("oc,bc...->bo...", self.weight, x)
''',
}

# Names the generated code uses itself, or that would shadow what a module needs.
_RESERVED = (set(dir(nn.Module)) | set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)
             | {"x", "xs", "task", "self", "torch", "nn", "load", "load_file", "out", "logits"})


class PythonExportError(ValueError):
    """A layer the Python export cannot write (``export`` says it as an ExportError)."""


# ---------------------------------------------------------------- one layer as code

def _single(value):
    """``(3, 3)`` → ``3``: torch keeps square sizes as tuples; the constructor takes either."""
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def literal(value) -> str:
    """A Python literal, strings in double quotes (JSON's escapes are Python's)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (str, list, tuple)) for v in value):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


def _call(name: str, positional: Sequence, keywords: dict, defaults: dict) -> str:
    parts = [literal(v) for v in positional]
    parts += [f"{k}={literal(v)}" for k, v in keywords.items() if k not in defaults or defaults[k] != v]
    return f"{name}({', '.join(parts)})"


def _same(module: nn.Module, **expected) -> None:
    """Refuse a layer whose other settings are not the ones the written call gives."""
    for name, value in expected.items():
        if _single(getattr(module, name, value)) != value:
            raise PythonExportError(f"{type(module).__name__} with {name}={getattr(module, name)!r}")


def _linear(m: nn.Linear) -> str:
    return _call("nn.Linear", [m.in_features, m.out_features], {"bias": m.bias is not None}, {"bias": True})


def _conv(m: nn.Conv1d | nn.Conv2d) -> str:
    if isinstance(m.padding, str):
        raise PythonExportError(f"{type(m).__name__} with padding={m.padding!r}")
    _same(m, dilation=1, groups=1, padding_mode="zeros", transposed=False)
    return _call(f"nn.{type(m).__name__}", [m.in_channels, m.out_channels, _single(m.kernel_size)],
                 {"stride": _single(m.stride), "padding": _single(m.padding), "bias": m.bias is not None},
                 {"stride": 1, "padding": 0, "bias": True})


def _maxpool(m: nn.MaxPool1d | nn.MaxPool2d) -> str:
    _same(m, dilation=1, return_indices=False, ceil_mode=False)
    return _call(f"nn.{type(m).__name__}", [_single(m.kernel_size)],
                 {"stride": _single(m.stride), "padding": _single(m.padding)}, {"padding": 0})


def _avgpool(m: nn.AvgPool1d | nn.AvgPool2d) -> str:
    _same(m, ceil_mode=False, count_include_pad=True)
    if getattr(m, "divisor_override", None) is not None:
        raise PythonExportError(f"{type(m).__name__} with divisor_override={m.divisor_override!r}")
    return _call(f"nn.{type(m).__name__}", [_single(m.kernel_size)],
                 {"stride": _single(m.stride), "padding": _single(m.padding)}, {"padding": 0})


def _batchnorm(m: nn.BatchNorm1d | nn.BatchNorm2d) -> str:
    return _call(f"nn.{type(m).__name__}", [m.num_features],
                 {"eps": m.eps, "momentum": m.momentum, "affine": m.affine,
                  "track_running_stats": m.track_running_stats},
                 {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True})


def _layernorm(m: nn.LayerNorm) -> str:
    shape = m.normalized_shape
    has_bias = getattr(m, "bias", None) is not None or not m.elementwise_affine
    if not has_bias:
        raise PythonExportError("LayerNorm without bias")
    return _call("nn.LayerNorm", [shape[0] if len(shape) == 1 else tuple(shape)],
                 {"eps": m.eps, "elementwise_affine": m.elementwise_affine},
                 {"eps": 1e-5, "elementwise_affine": True})


def _plain(name: str, **defaults) -> Callable[[nn.Module], str]:
    def emit(m: nn.Module) -> str:
        return _call(name, [], {k: getattr(m, k) for k in defaults}, defaults)

    return emit


EMITTERS: dict[type, Callable[[nn.Module], str]] = {
    nn.Identity: _plain("nn.Identity"),
    nn.Linear: _linear,
    nn.Conv1d: _conv,
    nn.Conv2d: _conv,
    nn.MaxPool1d: _maxpool,
    nn.MaxPool2d: _maxpool,
    nn.AvgPool1d: _avgpool,
    nn.AvgPool2d: _avgpool,
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.LayerNorm: _layernorm,
    nn.Flatten: _plain("nn.Flatten", start_dim=1, end_dim=-1),
    nn.ReLU: _plain("nn.ReLU", inplace=False),
    nn.GELU: _plain("nn.GELU", approximate="none"),
    nn.SiLU: _plain("nn.SiLU", inplace=False),
    nn.Tanh: _plain("nn.Tanh"),
    nn.Sigmoid: _plain("nn.Sigmoid"),
    nn.LeakyReLU: _plain("nn.LeakyReLU", negative_slope=0.01, inplace=False),
    nn.Dropout: _plain("nn.Dropout", p=0.5, inplace=False),
    builders.Add: lambda m: "Add()",
    builders.Concat: lambda m: f"Concat({m.dim!r})",
    builders.GlobalAvgPool: lambda m: "GlobalAvgPool()",
    ChannelMix: lambda m: f"ChannelMix({m.weight.shape[0]})",
    LateralAdapter: lambda m: f"LateralAdapter({m.alpha.numel()}, {m.up.shape[0]}, {m.up.shape[1]})",
}


def layer_code(module: nn.Module, helpers: set[type]) -> str:
    """The constructor call that builds ``module`` (an ``nn.Sequential`` of its parts for blocks)."""
    kind = type(module)
    if kind is builders.ResidualBlock:
        helpers.add(kind)
        parts = [layer_code(child, helpers) for child in (module.body, module.skip, module.act)]
        inner = "".join(f"    {textwrap.indent(part, '    ').lstrip()},\n" for part in parts)
        return f"ResidualBlock(\n{inner})"
    if kind is nn.Sequential or kind is nn.ModuleList:
        parts = [layer_code(child, helpers) for child in module]
        inner = "".join(f"    {textwrap.indent(part, '    ').lstrip()},\n" for part in parts)
        opener = "nn.Sequential(" if kind is nn.Sequential else "nn.ModuleList(["
        closer = ")" if kind is nn.Sequential else "])"
        return f"{opener}\n{inner}{closer}" if parts else f"{opener}{closer}"
    emit = EMITTERS.get(kind)
    if emit is None:
        raise PythonExportError(f"its layer {kind.__module__}.{kind.__qualname__} is not one the Python export "
                                "knows")
    if kind in HELPERS:
        helpers.add(kind)
    return emit(module)


# ---------------------------------------------------------------- names

def identifier(name: str, fallback: str) -> str:
    """A readable Python identifier from a node's name: ``"MLP block 1"`` → ``mlp_block_1``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text:
        text = re.sub(r"[^0-9a-zA-Z]+", "_", fallback).strip("_").lower() or "node"
    if text[0].isdigit():
        text = "n" + text
    if text in _RESERVED:
        text += "_"
    return text


class _Names:
    """Unique identifiers: the first asker gets ``base``, later ones ``base_2``, ``base_3``, …"""

    def __init__(self, taken: Sequence[str] = ()) -> None:
        self.taken = set(taken)

    def take(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken or name in _RESERVED:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name


# ---------------------------------------------------------------- what each task computes

@dataclass
class _TaskCode:
    """What one task's logits need: steps per column (a progressive task runs every older column)."""

    task: int
    columns: list[int]
    adapters: dict[tuple[int, int], nn.Module] = field(default_factory=dict)  # (column, step) → its laterals
    needed: set[tuple[int, int]] = field(default_factory=set)


def _task_code(net: ModularNetwork, task: int) -> _TaskCode:
    head = net._slot[net.head_id]
    if task in net.lateral_tasks:
        columns = list(range(task + 1))
        adapters = {(c, i): net.laterals[f"t{c}_s{i}"] for c in columns for i in range(len(net.plan))
                    if c and f"t{c}_s{i}" in net.laterals}
    else:
        columns, adapters = [task], {}
    code = _TaskCode(task, columns, adapters)
    # Only what the logits need: older columns feed the new one through adapters, their heads never.
    pending = [(columns[-1], head)]
    while pending:
        column, step = pending.pop()
        if (column, step) in code.needed:
            continue
        code.needed.add((column, step))
        sources = net.plan[step].sources
        for source in sources:
            pending.append((column, net._slot[source]))
        if (column, step) in adapters:  # laterals come from every older column
            pending.extend((older, net._slot[sources[0]]) for older in range(column))
    return code


# ---------------------------------------------------------------- the file

@dataclass
class PythonExport:
    source: str
    class_name: str
    state: dict[str, torch.Tensor]


def write_python(net: ModularNetwork, tasks: Sequence[int], *, all_tasks: bool, meta: dict,
                 weights_name: str) -> PythonExport:
    """The source of one file and the state dict its ``load()`` reads from ``weights_name``.

    ``tasks``: the one task whose path the class runs, or (``all_tasks``) every task behind
    ``forward(x, task)``. A shared head answers for every task: one class, ``forward(x)``.
    """
    graph = net.graph
    shared = net.shared_head is not None
    codes = [_task_code(net, t) for t in tasks]
    # Node names → identifiers, unique over the graph, in plan order.
    node_names = _Names()
    base = {step.node_id: node_names.take(identifier(graph.nodes[step.node_id].name, graph.nodes[step.node_id].kind))
            for step in net.plan}  # also the locals' names: one per node in a column

    # Every module the file holds, once each (a shared instance is one attribute for every task).
    used: dict[str, dict[int, set[int]]] = {}  # node id → instance index → tasks using it
    column_of: dict[tuple[str, int], set[int]] = {}  # (node id, instance) → the columns it runs in
    progressive = any(len(code.columns) > 1 for code in codes)
    for code in codes:
        for column, step in code.needed:
            node_id = net.plan[step].node_id
            if node_id == net.input_id:
                continue
            index = -1 if (shared and node_id == net.head_id) else net.paths[column][node_id]
            used.setdefault(node_id, {}).setdefault(index, set()).add(code.task)
            column_of.setdefault((node_id, index), set()).add(column)
    attributes = _Names([f"task_{t}" for t in tasks])  # the all-tasks class's methods
    attr_of: dict[tuple[str, int], str] = {}
    layers: list[tuple[str, nn.Module, str]] = []  # attribute, module, comment
    helpers: set[type] = set()
    for step in net.plan:
        node_id = step.node_id
        if node_id not in used:
            continue
        node = graph.nodes[node_id]
        several = len(used[node_id]) > 1
        for index in sorted(used[node_id]):
            if node_id == net.head_id:
                module = net.shared_head if index == -1 else net.instances(node_id)[index]
                name = attributes.take(f"{base[node_id]}_t{index}" if several else base[node_id])
                what = ("the shared head over every class of the sequence" if index == -1
                        else f"task {index}'s head")
            else:
                module = net.instances(node_id)[index]
                name = attributes.take(f"{base[node_id]}_i{index}" if several else base[node_id])
                users = sorted(used[node_id][index])
                what = f"instance {index}"
                if progressive:
                    columns = sorted(column_of[node_id, index])
                    plural = "s" if len(columns) > 1 else ""
                    what += f", in the column{plural} of task{plural} {', '.join(map(str, columns))}"
                if all_tasks:
                    what += f", used by task{'s' if len(users) > 1 else ''} {', '.join(map(str, users))}"
            try:
                layer_code(module, helpers)  # refused here, naming the node, if it cannot be written
            except PythonExportError as exc:
                raise PythonExportError(f"cannot write node {node.name!r} (kind {node.kind!r}) as Python code: "
                                        f"{exc}") from None
            attr_of[node_id, index] = name
            layers.append((name, module, f"node {node.name!r} ({node.kind}), {what}"))
    adapter_of: dict[tuple[int, int], str] = {}
    for code in codes:
        for (column, step), adapters in sorted(code.adapters.items()):
            if (column, step) in code.needed and (column, step) not in adapter_of:
                node = graph.nodes[net.plan[step].node_id]
                name = attributes.take(f"lateral_t{column}_{base[node.id]}")
                adapter_of[column, step] = name
                each = "one adapter each" if isinstance(adapters, nn.ModuleList) else "one adapter over them"
                older = "task 0" if column == 1 else f"tasks 0–{column - 1}, {each}"
                layers.append((name, adapters, f"progressive laterals into task {column}'s {node.name!r}, from "
                                               f"the column{'s' if column > 1 else ''} of {older}"))
                layer_code(adapters, helpers)

    class_name = "AllClasses" if shared else ("AllTasks" if all_tasks else f"Task{tasks[0]}")
    methods = []
    if shared or not all_tasks:
        methods.append(_method(net, codes[0], base, attr_of, adapter_of, shared, "forward", meta))
    else:
        methods.append(_dispatch(tasks))
        methods.extend(_method(net, code, base, attr_of, adapter_of, shared, f"task_{code.task}", meta)
                       for code in codes)

    init = ["    def __init__(self) -> None:", "        super().__init__()"]
    for name, module, comment in layers:
        call = layer_code(module, set())
        init.append(f"        # {comment}")
        init.append(f"        self.{name} = " + textwrap.indent(call, "        ").lstrip())
    body = "\n".join(init) + "\n\n" + "\n\n".join(methods)
    source = _file(meta, net, tasks, all_tasks, shared, class_name, body, helpers, weights_name)
    state: dict[str, torch.Tensor] = {}
    for name, module, _ in layers:
        for key, tensor in module.state_dict().items():
            state[f"{name}.{key}"] = tensor.detach().to("cpu").contiguous().clone()
    return PythonExport(source, class_name, state)


def _method(net, code: _TaskCode, base, attr_of, adapter_of, shared: bool, name: str, meta: dict) -> str:
    """``forward`` (or ``task_K``) of one task: one line per plan step its logits need."""
    head_step = net._slot[net.head_id]
    names = _Names(["x"])
    locals_: dict[tuple[int, int], str] = {}

    def local(column: int, step: int) -> str:
        if net.plan[step].node_id == net.input_id:
            return "x"
        if (column, step) == (code.columns[-1], head_step):
            return "logits"
        if (column, step) not in locals_:
            stem = base[net.plan[step].node_id]
            locals_[column, step] = names.take(f"col{column}_{stem}" if len(code.columns) > 1 else stem)
        return locals_[column, step]

    lines = []
    for column in code.columns:
        if len(code.columns) > 1:
            whose = "this task" if column == code.task else f"task {column}"
            lines.append(f"        # column {column}: {whose}'s path" + (", with laterals from the older columns"
                                                                           if column else ""))
        for step_index, step in enumerate(net.plan):
            if (column, step_index) not in code.needed or step.node_id == net.input_id:
                continue
            index = -1 if (shared and step.node_id == net.head_id) else net.paths[column][step.node_id]
            inputs = [local(column, net._slot[s]) for s in step.sources]
            if step.multi:
                argument = f"[{', '.join(inputs)}]"
            else:
                argument = inputs[0]
                if (column, step_index) in code.adapters:
                    adapters = adapter_of[column, step_index]
                    source = net._slot[step.sources[0]]
                    if isinstance(code.adapters[column, step_index], LateralAdapter):
                        older = ", ".join(local(o, source) for o in range(column))
                        argument += f" + self.{adapters}([{older}])"
                    else:  # a C×C mix per older column (runs saved before adapters)
                        argument += "".join(f" + self.{adapters}[{o}]({local(o, source)})" for o in range(column))
            lines.append(f"        {local(column, step_index)} = self.{attr_of[step.node_id, index]}({argument})")
    lines.append(f"        return {local(code.columns[-1], head_step)}")
    shape = ", ".join(str(d) for d in meta["input"]["shape"])
    if shared:
        width, names = len(meta["shared_head"]["classes"]), meta["shared_head"]["class_names"]
        doc = f"x: (batch, {shape}) float32 → logits (batch, {width}) over every class: {_names(names)}."
    else:
        task = meta["tasks"][code.task]
        doc = (f"Task {code.task} {task['name']!r}: x (batch, {shape}) float32 → logits (batch, "
               f"{len(task['class_names'])}), classes {_names(task['class_names'])}.")
    return "\n".join([f"    def {name}(self, x: torch.Tensor) -> torch.Tensor:",
                      *_docstring(doc, "        "), *lines])


def _dispatch(tasks: Sequence[int]) -> str:
    lines = ['    def forward(self, x: torch.Tensor, task: int) -> torch.Tensor:',
             '        """Logits of ``task`` (0-based: 0 is the first task) for a batch ``x``."""',
             "        task = int(task)"]
    for t in tasks:
        lines += [f"        if task == {t}:", f"            return self.task_{t}(x)"]
    lines.append(f'        raise ValueError(f"no task {{task}}: this model has tasks {tasks[0]}–{tasks[-1]}")')
    return "\n".join(lines)


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _docstring(text: str, indent: str) -> list[str]:
    wrapped = textwrap.wrap(text, 100 - len(indent) - 6)
    if len(wrapped) == 1:
        return [f'{indent}"""{_escape(wrapped[0])}"""']
    return [f'{indent}"""{_escape(wrapped[0])}', *(f"{indent}{_escape(line)}" for line in wrapped[1:]),
            f'{indent}"""']


def _from_bytes(tasks: list[dict]) -> str:
    """How the tasks' bytes became features, in words: one mapping, or each task's where they differ."""
    maps = [t["from_bytes"] for t in tasks if t["from_bytes"]]
    if all(m == maps[0] for m in maps):
        return from_bytes_text(maps[0])
    return "; ".join(f"task {t['index']}: {from_bytes_text(t['from_bytes'])}" for t in tasks if t["from_bytes"])


def _escape(text: str) -> str:
    """Text that is safe inside a triple-quoted docstring whatever a name holds."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)


def _file(meta, net, tasks, all_tasks, shared, class_name, body, helpers, weights_name) -> str:
    scenario = {"task": "task-incremental", "class": "class-incremental"}.get(meta["scenario"], meta["scenario"])
    shape = tuple(meta["input"]["shape"])
    low, high = meta["input"]["value_range"]
    graph = net.graph
    path = " → ".join(repr(graph.nodes[s.node_id].name) for s in net.plan)
    head = [
        f"{meta['project']}: run {meta['run_id'][:8]} ({meta['strategy']}, {scenario}) as plain PyTorch.",
        "",
        f"Written by ModStudio {meta['modstudio_version']} from run {meta['run_id']} (started {meta['run_started']}).",
        f"Needs only torch and safetensors; the trained weights are in {weights_name} beside this file.",
        "",
        f"Nodes, in the order they run: {path}.",
        "",
        "Tasks (0-based, as the model's task argument counts them):" if all_tasks and not shared else
        "Tasks of the run (this file holds the path of the marked one):" if not shared else
        "Tasks of the run (one shared head answers over all their classes):",
    ]
    for t in meta["tasks"]:
        mark = "* " if (not all_tasks and not shared and t["index"] in tasks) else "  "
        head.append(f"  {mark}{t['index']}  {t['name']}: classes {', '.join(t['class_names'])}")
    head += [
        "",
        f"Input: x, float32, (batch, {', '.join(map(str, shape))}); " + (
            "the raw values as in training, no normalisation" if meta["input"]["normalization"] == "none" else
            "the features 8-bit samples stood for in training: x = " + _from_bytes(meta["tasks"])),
        f"(training saw {low:g} to {high:g}).",
    ]
    call = "model(x, 0)" if all_tasks and not shared else "model(x)"
    module = re.sub(r"\W", "_", weights_name.rsplit(".", 1)[0]) or "model"
    head += [
        "Output: logits, (batch, classes)" + (" over every class of the sequence." if shared else " of the task."),
        "",
        "Use it:",
        "",
        f"    from {module} import load",
        "",
        '    model = load()  # or load("cuda"); in eval mode (model.train() to train it further)',
        f"    logits = {call}" + ("  # task 0's logits" if call.endswith("0)") else ""),
    ]
    if shared:
        class_names = f"CLASS_NAMES = {literal(meta['shared_head']['class_names'])}  # what each logit means"
    else:
        class_names = (f"CLASS_NAMES = {literal([t['class_names'] for t in meta['tasks']])}  # per task: what "
                       "each logit means")
    docstring = "\n".join(_escape(line) for line in head)
    doc = ("Every trained task's path: ``forward(x, task)``." if all_tasks and not shared else
           f"Task {tasks[0]} ({_escape(repr(meta['tasks'][tasks[0]]['name']))}): its path through the graph and "
           "its head." if not shared else
           "The shared path and the head over every class.")
    sections = [
        f'"""{docstring}\n"""\n\nfrom pathlib import Path\n\nimport torch\nfrom safetensors.torch import load_file\n'
        "from torch import nn\n\n"
        f"WEIGHTS = Path(__file__).resolve().with_name({literal(weights_name)})\n"
        f"INPUT_SHAPE = {shape!r}  # one sample; the batch axis comes first\n"
        f"{class_names}\n",
        *(HELPERS[kind].strip("\n") + "\n" for kind in (builders.Add, builders.Concat, builders.GlobalAvgPool,
                                                        builders.ResidualBlock, LateralAdapter, ChannelMix)
          if kind in helpers),
        f'class {class_name}(nn.Module):\n    """{doc}"""\n\n{body}\n',
        f'def load(device: str | torch.device = "cpu") -> {class_name}:\n'
        f'    """The model with its trained weights ({_escape(weights_name)}), on ``device``, in eval mode."""\n'
        f"    model = {class_name}()\n"
        "    model.load_state_dict(load_file(WEIGHTS), strict=True)\n"
        "    return model.to(device).eval()\n",
        'if __name__ == "__main__":\n'
        "    model = load()\n"
        "    x = torch.rand(4, *INPUT_SHAPE)\n"
        "    with torch.no_grad():\n"
        f"        logits = {call}\n"
        f"    names = CLASS_NAMES{'' if shared else f'[{tasks[0] if not all_tasks else 0}]'}\n"
        "    print([names[i] for i in logits.argmax(1).tolist()])\n",
    ]
    return "\n\n".join(sections)


def check_python(export: PythonExport, net: ModularNetwork, tasks: Sequence[int], *, all_tasks: bool,
                 input_shape, filename: str) -> None:
    """Run the generated code on its weights: it must give the studio's logits, else nothing is written."""
    namespace = {"__name__": "modstudio_python_export", "__file__": filename}
    exec(compile(export.source, filename, "exec"), namespace)  # our own generated code, checked here
    model = namespace[export.class_name]()
    model.load_state_dict(export.state, strict=True)
    model.eval()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, *input_shape, generator=generator)
    with torch.no_grad():
        for task in tasks:
            expected = net(x, task)
            got = model(x, task) if all_tasks and net.shared_head is None else model(x)
            if got.shape != expected.shape or (got - expected).abs().max().item() > PARITY_TOLERANCE:
                raise PythonExportError(f"the generated code does not reproduce the studio's logits of task {task}")
