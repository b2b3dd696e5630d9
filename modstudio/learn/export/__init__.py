"""``ms.export`` and ``ms.load_model``: trained models as standard files, usable without the studio.

This module only decides *what* to export (which run, which tasks, which format) and says why
when it cannot; ``models`` makes the module to trace, ``formats`` and ``bundle`` write the files,
``pycode`` writes the network as PyTorch source. Tasks and runs are 0-based indexes everywhere
(API, CLI, the model's ``task`` input, metadata), as ``project.tasks[k]`` and ``project.runs[k]`` are.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from modstudio.learn.export.bundle import load_model, write_safetensors
from modstudio.learn.export.formats import DEFAULT_OPSET, WRITERS, ExportError, check_opset
from modstudio.learn.export.meta import describe
from modstudio.learn.export.models import AllTasksModel, TaskModel, io_names
from modstudio.learn.export.output import check_outputs, output_paths, write_file

__all__ = ["FORMATS", "ExportError", "Exported", "export", "load_model"]

FORMATS = {"onnx": ".onnx", "torchscript": ".pt", "pt2": ".pt2", "safetensors": ".safetensors", "python": ".py"}
_SUFFIXES = {".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript", ".torchscript": "torchscript",
             ".pt2": "pt2", ".safetensors": "safetensors", ".py": "python"}


@dataclass
class Exported:
    """What ``export`` wrote: the files, the format, the run and tasks inside, their metadata."""

    format: str
    paths: list[Path]
    run_id: str
    tasks: list[int]
    metadata: dict = field(repr=False)


def export(project, path, format: str | None = None, task: int | str | None = None,
           all_tasks: bool = False, run: int | str | None = None, *, force: bool = False,
           project_file: str | os.PathLike | None = None, opset: int | None = None) -> Exported:
    """Write ``run``'s trained model (default: the last run with weights) to ``path``.

    ``format`` defaults from the suffix (.onnx, .pt/.ts TorchScript, .pt2, .safetensors, .py).
    Traced formats and Python code hold one task (``task``: index or name) or, with ``all_tasks``,
    every trained task behind a task-index input; safetensors always holds the whole run. A
    ``python`` export writes PyTorch source (``NAME.py``) and its weights beside it
    (``NAME.safetensors``). ``opset``: the ONNX opset (default 18), ONNX exports only.

    An existing file is replaced only with ``force`` (a safetensors export's ``NAME.json``, or a
    Python export's ``NAME.safetensors``, only if it is an earlier export's); a project
    (``.modstudio``, any zip with a project.json, or ``project_file``, the file the project came
    from, under any name) never is. Files are
    written atomically. Every problem, bad arguments included, is an ExportError saying what.
    """
    _check_arguments(project, path, format, task, all_tasks, run, force, project_file, opset)
    path = Path(path)
    fmt = _format(path, format)
    if opset is not None and fmt != "onnx":
        raise ExportError(f"opset applies to ONNX exports only, not to {fmt}")
    if fmt == "onnx":
        opset = check_opset(DEFAULT_OPSET if opset is None else opset)
    outputs = output_paths(path, fmt)
    chosen = _run(project, run)
    trained = len(chosen.paths)
    if task is not None and all_tasks:
        raise ExportError("give a task or all_tasks, not both")
    if fmt == "safetensors" and task is not None:
        raise ExportError("a safetensors export holds every task of the run; leave out the task")
    if trained > len(project.tasks):
        raise ExportError(f"run {chosen.id[:8]} trained {trained} tasks but project {project.name!r} has "
                          f"{len(project.tasks)}: the run does not belong to these tasks")
    from modstudio.graph import GraphError
    from modstudio.learn.network import NetworkError
    from modstudio.learn.restore import RestoreError, restore_network

    try:
        net = restore_network(project, chosen)
    except (RestoreError, NetworkError, GraphError) as exc:
        raise ExportError(f"cannot rebuild run {chosen.id[:8]}: {exc}") from None
    # One classifier over every class (a shared head, or the unified classifier over every path's
    # features): one model answers for every task.
    shared = net.shared_head is not None or net.unified is not None
    index = _task(project, chosen, task)
    check_outputs(outputs, force=force, project_file=project_file)  # before the costly part
    if fmt == "safetensors":
        meta = describe(project, chosen, None, shared_head=shared, inputs=["x", "task"], outputs=["logits"])
        return Exported(fmt, write_safetensors(project, chosen, path, meta), chosen.id, list(range(trained)), meta)

    if index is None and not all_tasks and trained > 1 and not shared:
        raise ExportError(
            f"run {chosen.id[:8]} trained {trained} tasks: choose one (task=K, CLI --task K, 0–{trained - 1}) "
            "or export them all (all_tasks=True, CLI --all-tasks)"
        )
    several = all_tasks and not shared and trained > 1
    if several:
        tasks = list(range(trained))
    else:
        # One task; a shared head gives the same answer for every task, so it is one model.
        index = trained - 1 if index is None else index
        tasks = list(range(trained)) if all_tasks else [index]
    if fmt == "python" and net.unified is not None:
        raise ExportError(f"run {chosen.id[:8]} predicts through a unified classifier over every task's features "
                          "(class-incremental expansion), which the Python code export does not write yet; "
                          "export it as onnx, torchscript or safetensors")
    if fmt == "python":
        return _write_python(net, index, tasks, several, project, chosen, path, outputs[1], shared)
    model = AllTasksModel(net, trained) if several else TaskModel(net, index)
    inputs, outputs = io_names(model)
    meta = describe(project, chosen, tasks, shared_head=shared, inputs=inputs, outputs=outputs)
    options = {"opset": opset} if fmt == "onnx" else {}
    try:
        content = WRITERS[fmt](model.eval(), project.tasks[0].sample_shape, meta, **options)
    except ExportError:
        raise
    except Exception as exc:  # the exporter's own failure (an operator it cannot trace, …), said in one line
        raise ExportError(f"the {fmt} exporter could not export run {chosen.id[:8]}: "
                          f"{type(exc).__name__}: {_first_line(exc)}") from exc
    write_file(path, content)
    return Exported(fmt, [path], chosen.id, tasks, meta)


def _write_python(net, index, tasks, all_tasks, project, run, path: Path, weights_path: Path, shared) -> Exported:
    """The network as PyTorch source plus its weights (safetensors, the metadata in the header), the
    code checked against the studio before either is written; the weights land first."""
    from safetensors.torch import save

    from modstudio.learn.export.meta import META_KEY
    from modstudio.learn.export.pycode import PythonExportError, check_python, write_python

    inputs = ["x", "task"] if all_tasks else ["x"]
    meta = describe(project, run, tasks, shared_head=shared, inputs=inputs, outputs=["logits"])
    path_tasks = tasks if all_tasks else [index]
    try:
        code = write_python(net, path_tasks, all_tasks=all_tasks, meta=meta, weights_name=weights_path.name)
        check_python(code, net, path_tasks, all_tasks=all_tasks, input_shape=project.tasks[0].sample_shape,
                     filename=str(path))
        weights = save(code.state, metadata={META_KEY: json.dumps(meta)})
    except PythonExportError as exc:
        raise ExportError(f"cannot export run {run.id[:8]} as Python code: {exc}") from None
    except Exception as exc:  # torch or safetensors on an unusual network, said in one line
        raise ExportError(f"the python exporter could not export run {run.id[:8]}: {type(exc).__name__}: "
                          f"{_first_line(exc)}") from exc
    content = code.source.encode("utf-8")
    write_file(path, content, then=lambda: write_file(weights_path, weights))
    return Exported("python", [path, weights_path], run.id, tasks, meta)


def _check_arguments(project, path, format, task, all_tasks, run, force, project_file, opset=None) -> None:
    """Every argument's type, before anything is read or written: ExportError naming the argument."""
    from modstudio.project import Project

    if not isinstance(project, Project):
        raise ExportError(f"project: expected a modstudio Project, got {type(project).__name__}")
    for name, value in (("path", path), ("project_file", project_file)):
        if value is None and name == "project_file":
            continue
        if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
            raise ExportError(f"{name}: expected a file name (str or Path), got {type(value).__name__}")
        text = os.fspath(value)
        if not isinstance(text, str) or not text or "\0" in text:
            raise ExportError(f"{name}: {text!r} is not a file name")
    if format is not None and not isinstance(format, str):
        raise ExportError(f"format: expected one of {', '.join(FORMATS)}, got {type(format).__name__}")
    for name, value in (("task", task), ("run", run)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))):
            raise ExportError(f"{name}: expected an index or a name, got {type(value).__name__}")
    for name, value in (("all_tasks", all_tasks), ("force", force)):
        if not isinstance(value, bool):
            raise ExportError(f"{name}: expected True or False, got {value!r}")
    if opset is not None and (isinstance(opset, bool) or not isinstance(opset, int)):
        raise ExportError(f"opset: expected a whole number (an ONNX opset version), got {type(opset).__name__}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _format(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ExportError(f"unknown export format {format!r}; use {', '.join(FORMATS)}")
        return format
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise ExportError(
            f"cannot tell the format from {path.name!r}: name it .onnx, .pt (TorchScript), .pt2, "
            ".safetensors or .py (Python code), or give the format"
        ) from None


def _run(project, run: int | str | None):
    """The run asked for: an id (or a unique prefix of one), an index, or the last with weights."""
    runs = project.runs
    if not runs:
        raise ExportError(f"project {project.name!r} has no training runs: train it first (modstudio train PROJECT)")
    if run is None:
        for candidate in reversed(runs):
            if candidate.weights and candidate.paths:
                return candidate
        last = runs[-1]
        why = f"failed: {last.message}" if last.status == "failed" else f"is {last.status}, without weights"
        raise ExportError(f"no run of project {project.name!r} has trained weights (the last run {why})")
    if isinstance(run, int) and not isinstance(run, bool):
        if -len(runs) <= run < len(runs):
            return runs[run]
    elif isinstance(run, str):
        exact = [r for r in runs if r.id == run]
        if exact:
            return exact[0]
        if run.lstrip("-").isdigit() and len(run) < 20 and -len(runs) <= int(run) < len(runs):
            return runs[int(run)]
        prefixed = [r for r in runs if run and r.id.startswith(run)]
        if len(prefixed) == 1:
            return prefixed[0]
    listing = ", ".join(f"{i} ({r.id[:8]}, {r.strategy}, {r.status})" for i, r in enumerate(runs))
    raise ExportError(f"no run {run!r} in project {project.name!r}; runs: {listing}")


def _task(project, run, task: int | str | None) -> int | None:
    """A trained task's index from an index or a name (None stays None)."""
    if task is None:
        return None
    trained = len(run.paths)
    names = [t.name for t in project.tasks[:trained]]
    if isinstance(task, str) and not task.lstrip("-").isdigit():
        if task in names:
            return names.index(task)
    else:
        try:
            index = int(task)
        except (TypeError, ValueError):
            index = -1
        if 0 <= index < trained and not isinstance(task, bool):
            return index
    listing = ", ".join(f"{i} {n!r}" for i, n in enumerate(names))
    raise ExportError(f"no task {task!r} in run {run.id[:8]}: it trained tasks {listing}")
