"""Rebuild a task from its ``origin`` recipe: reload the source data, re-run the builder.

Projects may store only recipes instead of arrays; the recipe is untrusted JSON, so every defect
(and a source whose data changed since the task was made) is a DataError.
"""

from __future__ import annotations

from typing import Any

from modstudio.data.builders import PLANS
from modstudio.data.builtin import load_builtin
from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError
from modstudio.data.importers import import_path
from modstudio.data.tasks import Task


def load_source(spec: Any) -> Dataset:
    """The dataset a recipe names: ``{"builtin": name, "options": {...}}`` or
    ``{"path": file, "options": {...}}``, checked against its ``fingerprint`` when present."""
    if not isinstance(spec, dict):
        raise DataError(f"a task source must be an object, got {type(spec).__name__}")
    options = spec.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise DataError("a task source's 'options' must be an object")
    if ("builtin" in spec) == ("path" in spec):
        raise DataError("a task source needs exactly one of 'builtin' or 'path'")
    if "builtin" in spec:
        dataset = load_builtin(spec["builtin"], **options)
        label = f"built-in dataset {spec['builtin']!r}"
    else:
        if not isinstance(spec["path"], str):
            raise DataError("a task source's 'path' must be a string")
        dataset = import_path(spec["path"], **options)
        label = spec["path"]
    expected = spec.get("fingerprint")
    if expected is not None and expected != dataset.fingerprint:
        raise DataError(f"the data of {label} has changed since the task was built (fingerprint differs)")
    return dataset


def rebuild_task(origin: Any) -> Task:
    """The task an ``origin`` describes, built again from its source (same data, same fingerprint)."""
    try:
        return _rebuild(origin)
    except DataError:
        raise
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise DataError(f"invalid task origin: {type(exc).__name__}: {exc}") from None


def _rebuild(origin: Any) -> Task:
    if not isinstance(origin, dict):
        raise DataError(f"a task origin must be an object, got {type(origin).__name__}")
    builder = origin.get("builder")
    if builder not in PLANS:
        raise DataError(f"unknown task builder {builder!r}; known builders: {sorted(PLANS)}")
    options = origin.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise DataError("a task origin's 'options' must be an object")
    index = origin.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise DataError(f"a task origin's 'index' must be a non-negative integer, got {index!r}")
    if builder == "datasets_as_tasks":
        specs = origin.get("datasets")
        if not isinstance(specs, list) or not specs:
            raise DataError("a datasets_as_tasks origin needs a non-empty 'datasets' list")
        source: Any = [load_source(s) for s in specs]
    else:
        if "dataset" not in origin:
            raise DataError(f"a {builder} origin needs a 'dataset'")
        source = load_source(origin["dataset"])
    try:
        count, make = PLANS[builder](source, **options)
    except TypeError as exc:
        raise DataError(f"bad options for {builder}: {exc}") from None
    if index >= count:
        raise DataError(f"task index {index} is out of range: the {builder} recipe makes {count} tasks")
    return make(index)
