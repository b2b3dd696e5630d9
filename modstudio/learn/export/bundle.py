"""The safetensors export: the run's weights plus a JSON description that rebuilds the network.

The description (graph, paths, head widths, strategy, scenario, metadata) lives in the
safetensors header, so the one file is complete; a copy beside it (``NAME.json``) is for people
and other tools. Loading never unpickles: tensors come from safetensors, the rest is JSON, and
every part of it is checked (types, sizes, and the network against the weights) before anything
big is built: a crafted file is an ExportError, never another exception or a runaway allocation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from modstudio.learn.export.formats import ExportError
from modstudio.learn.export.meta import FORMAT_VERSION, META_KEY
from modstudio.learn.export.output import sidecar_path, write_file
from modstudio.project.limits import DEFAULT_LIMITS

DESCRIPTION_KEY = "network"


def network_description(project, run) -> dict:
    """What ``restore.build_network`` needs besides the weights, as JSON."""
    tasks = project.tasks
    return {
        "graph": run.graph if run.graph is not None else project.graph.to_dict(),
        "input_shape": list(tasks[0].sample_shape),
        "task_classes": [t.num_classes for t in tasks],
        "union_size": len({c for t in tasks for c in t.classes}),
        "strategy": run.settings.get("strategy", run.strategy),
        "scenario": run.settings.get("scenario", "task"),
        "paths": [dict(p) for p in run.paths],
    }


def write_safetensors(project, run, path: Path, meta: dict) -> list[Path]:
    """The weights file and its description beside it, each atomically. The description is renamed
    into place just before the weights are, so a failure leaves the previous weights whole (and at
    worst a fresh description beside them, which the weights file does not need: its header holds
    the same)."""
    from safetensors.numpy import save

    description = network_description(project, run)
    header = {META_KEY: json.dumps(meta), DESCRIPTION_KEY: json.dumps(description)}
    content = save({k: np.ascontiguousarray(v) for k, v in run.weights.items()}, metadata=header)
    sidecar = sidecar_path(path)
    text = json.dumps({"metadata": meta, DESCRIPTION_KEY: description}, indent=2).encode("utf-8")
    write_file(path, content, then=lambda: write_file(sidecar, text))
    return [path, sidecar]


# What a description may claim before it is refused (the network itself is checked against the
# weights on torch's meta device, so these only keep the checking quick).
MAX_TASKS = 100_000
MAX_DIMS = 8
MAX_EXTENT = 2**31 - 1
MAX_TENSORS = DEFAULT_LIMITS.max_tensors


def load_model(path, device: str = "cpu"):
    """The exported network, rebuilt without the project: ``model(x, task) → logits``, frozen, eval.

    ``model.metadata`` holds the export's metadata (class names, input shape, source run). The file
    is untrusted input: anything wrong with it, or with the arguments, is an ExportError that says what.
    """
    from safetensors import SafetensorError, safe_open

    path = _load_path(path)
    target = _device(device)
    if path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    if path.suffix != ".safetensors":
        raise ExportError(
            f"load_model reads ModStudio safetensors exports, not {path.name}; load .pt2 files with "
            "torch.export.load(path).module(), TorchScript with torch.jit.load(path), ONNX with onnxruntime"
        )
    if not path.is_file():
        raise ExportError(f"no such file: {path}")
    try:
        with safe_open(str(path), framework="np") as f:
            header = f.metadata() or {}
            keys = list(f.keys())
            if len(keys) > MAX_TENSORS:
                raise ExportError(f"{path} holds {len(keys)} tensors, more than an export may ({MAX_TENSORS})")
            weights = {key: f.get_tensor(key) for key in keys}
    except (SafetensorError, OSError, ValueError, TypeError, RuntimeError) as exc:
        if isinstance(exc, ExportError):
            raise
        raise ExportError(f"{path} is not a readable safetensors file: {exc}") from None
    meta, description = _header(path, header)
    parts = _parts(path, description)
    from modstudio.learn.restore import build_network, check_parts

    try:
        check_parts(weights=weights, **parts)
        net = build_network(weights=weights, device=target, **parts)
    except Exception as exc:  # untrusted parts: whatever the graph, network or torch says, said as ours
        why = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        why = "; ".join(line.strip(" -") for line in why.splitlines() if line.strip())  # one line
        raise ExportError(f"{path} does not describe a network ModStudio can rebuild: {why}") from None
    net.metadata = meta
    return net


def _load_path(path) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise ExportError(f"path: expected a file name (str or Path), got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text:
        raise ExportError(f"path: {text!r} is not a file name")
    return Path(text)


def _device(device):
    from modstudio.learn.device import resolve_device

    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise ExportError(f"device: expected a device name such as 'cpu' or 'cuda:0', got {type(device).__name__}")
    try:
        return resolve_device(device)
    except ValueError as exc:
        raise ExportError(f"device: {exc}") from None


def _header(path: Path, header: dict) -> tuple[dict, dict]:
    """The export's metadata and network description from the safetensors header, checked as JSON."""
    try:
        meta = json.loads(header[META_KEY])
        description = json.loads(header[DESCRIPTION_KEY])
    except (KeyError, TypeError, ValueError, RecursionError):
        raise ExportError(f"{path} is not a ModStudio export (no network description in its header)") from None
    if not isinstance(meta, dict) or not isinstance(description, dict):
        raise ExportError(f"{path} is not a ModStudio export (its header's metadata and description must be "
                          "JSON objects)")
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ExportError(f"{path}: the metadata's format_version must be a whole number, not {version!r}")
    if version > FORMAT_VERSION:
        raise ExportError(f"{path} comes from a newer ModStudio ({meta.get('modstudio_version')}); update to load it")
    return meta, description


def _parts(path: Path, description: dict) -> dict:
    """``build_network``'s arguments from an export's description, every field's type and size checked."""
    from modstudio.graph import Graph, GraphError

    def bad(field: str, why: str) -> ExportError:
        return ExportError(f"{path}: the network description{f's {field}' if field else ''} {why}")

    def whole(value, field: str, low: int = 1, high: int = MAX_EXTENT) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(field, f"must be a whole number from {low} to {high}, not {_short(value)}")
        return value

    def whole_list(value, field: str, longest: int) -> list[int]:
        if not isinstance(value, list) or not 1 <= len(value) <= longest:
            raise bad(field, f"must be a list of 1 to {longest} whole numbers, not {_short(value)}")
        return [whole(v, f"{field}[{i}]") for i, v in enumerate(value)]

    missing = sorted({"graph", "input_shape", "task_classes", "union_size", "strategy", "scenario", "paths"}
                     - set(description))
    if missing:
        raise bad("", f"lacks the field {missing[0]!r}")
    try:
        graph = Graph.from_dict(description["graph"])
    except (GraphError, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
            RecursionError) as exc:
        raise bad("graph", f"is not a valid graph: {exc}") from None
    task_classes = whole_list(description["task_classes"], "task_classes", MAX_TASKS)
    input_shape = description["input_shape"]
    if not isinstance(input_shape, list) or len(input_shape) > MAX_DIMS:
        raise bad("input_shape", f"must be a list of at most {MAX_DIMS} whole numbers, not {_short(input_shape)}")
    input_shape = [whole(v, f"input_shape[{i}]") for i, v in enumerate(input_shape)]
    union_size = whole(description["union_size"], "union_size", 1, sum(task_classes))
    strategy, scenario = description["strategy"], description["scenario"]
    if not isinstance(strategy, str):
        raise bad("strategy", f"must be a strategy's name, not {_short(strategy)}")
    if scenario not in ("task", "class"):
        raise bad("scenario", f"must be 'task' or 'class', not {_short(scenario)}")
    paths = description["paths"]
    if not isinstance(paths, list) or not 1 <= len(paths) <= len(task_classes):
        raise bad("paths", f"must be a list of 1 to {len(task_classes)} paths (one per trained task), "
                           f"not {_short(paths)}")
    for task, entry in enumerate(paths):
        if not isinstance(entry, dict) or not all(isinstance(k, str) for k in entry):
            raise bad(f"paths[{task}]", f"must map node ids to instance numbers, not {_short(entry)}")
        for node_id, index in entry.items():
            whole(index, f"paths[{task}][{node_id!r}]", 0, MAX_TENSORS)
    return {"graph": graph, "input_shape": input_shape, "task_classes": task_classes, "strategy": strategy,
            "scenario": scenario, "union_size": union_size, "paths": paths}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
