"""The safetensors export: the run's weights plus a JSON description that rebuilds the network.

The description (graph, paths, head widths, strategy, scenario, metadata) lives in the
safetensors header, so the one file is complete; a copy beside it (``NAME.json``) is for people
and other tools. Loading never unpickles: tensors come from safetensors, the rest is JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from modstudio.learn.export.formats import ExportError
from modstudio.learn.export.meta import META_KEY, FORMAT_VERSION

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
    from safetensors.numpy import save_file

    header = {META_KEY: json.dumps(meta), DESCRIPTION_KEY: json.dumps(network_description(project, run))}
    save_file({k: np.ascontiguousarray(v) for k, v in run.weights.items()}, str(path), metadata=header)
    sidecar = path.with_suffix(".json")
    sidecar.write_text(json.dumps({"metadata": meta, DESCRIPTION_KEY: json.loads(header[DESCRIPTION_KEY])}, indent=2))
    return [path, sidecar]


def load_model(path, device: str = "cpu"):
    """The exported network, rebuilt without the project: ``model(x, task) → logits``, frozen, eval.

    ``model.metadata`` holds the export's metadata (class names, input shape, source run).
    """
    from safetensors import SafetensorError, safe_open

    from modstudio.graph import Graph
    from modstudio.learn.restore import build_network

    path = Path(path)
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
            weights = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError) as exc:
        raise ExportError(f"{path} is not a readable safetensors file: {exc}") from None
    try:
        meta = json.loads(header[META_KEY])
        description = json.loads(header[DESCRIPTION_KEY])
    except (KeyError, json.JSONDecodeError):
        raise ExportError(f"{path} is not a ModStudio export (no network description in its header)") from None
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ExportError(f"{path} comes from a newer ModStudio ({meta.get('modstudio_version')}); update to load it")
    net = build_network(
        Graph.from_dict(description["graph"]), description["input_shape"], description["task_classes"],
        strategy=description["strategy"], scenario=description["scenario"], union_size=description["union_size"],
        paths=description["paths"], weights=weights, device=device,
    )
    net.metadata = meta
    return net
