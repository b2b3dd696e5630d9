"""Rebuild a task from its ``origin`` recipe: reload the source data, re-run the builder.

Projects may store only recipes instead of arrays; the recipe is untrusted JSON, so every defect
(and a source whose data changed since the task was made) is a DataError. A recipe can name
files to read (``{"path": …}`` sources): :func:`source_files` lists them so a caller can ask
before following one, and ``rebuild_task``'s limits keep a recipe from reading or generating
more than its caller allows (a recipe's own ``max_bytes`` can lower the read limit, never raise it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modstudio.data.builders import PLANS
from modstudio.data.builtin import generated_bytes, load_builtin
from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError, human_bytes
from modstudio.data.importers import import_path
from modstudio.data.importers.images import LEGACY_OPTIONS
from modstudio.data.tasks import Task
from modstudio.data.values import Normalization

MAX_RECIPE_TASKS = 10_000
"""The most tasks one recipe may describe (``n_tasks``): a recipe is a plan, not a loop to run."""

_FILE_OPTIONS = ("labels",)  # importer options that name another file to read


def _sources(origin: Any) -> list[Any]:
    if not isinstance(origin, dict):
        return []
    if origin.get("builder") == "datasets_as_tasks":
        specs = origin.get("datasets")
        return list(specs) if isinstance(specs, list) else []
    return [origin.get("dataset")]


def source_files(origin: Any) -> list[str]:
    """Every file or folder that rebuilding ``origin`` would read, as the recipe names them
    (sources' ``path``, and files their options name, such as ``labels``); never raises.

    Built-in sources read nothing the recipe names (only ModStudio's own shipped data, and the
    benchmarks in the user's data folder, by their catalog names).
    """
    files: list[str] = []
    for spec in _sources(origin):
        if not isinstance(spec, dict) or "path" not in spec:
            continue
        files.append(spec["path"] if isinstance(spec["path"], str) else repr(spec["path"]))
        options = spec.get("options")
        if isinstance(options, dict):
            files += [str(options[key]) for key in _FILE_OPTIONS if isinstance(options.get(key), str)]
    return files


def load_source(spec: Any, *, max_bytes: int | None = None) -> Dataset:
    """The dataset a recipe names: ``{"builtin": name, "options": {...}}`` or
    ``{"path": file, "options": {...}}``, checked against its ``fingerprint`` when present.

    ``max_bytes`` caps what a file source may read: the recipe's own ``max_bytes`` option can
    only lower it."""
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
        if max_bytes is not None:
            options = {**options, "max_bytes": _capped(options.get("max_bytes", max_bytes), max_bytes)}
        if _is_folder(spec["path"]):  # a recipe from before folders kept their own size and colours
            options = {**LEGACY_OPTIONS, **options}
        dataset = import_path(spec["path"], **options)
        label = spec["path"]
    expected = spec.get("fingerprint")
    if expected is not None and expected != dataset.fingerprint:
        raise DataError(f"the data of {label} has changed since the task was built (fingerprint differs)")
    return dataset


def _is_folder(path: str) -> bool:
    try:
        return Path(path).expanduser().is_dir()
    except (OSError, RuntimeError, ValueError):  # the importer names the problem
        return False


def _capped(value: Any, cap: int) -> Any:
    """The smaller of a recipe's ``max_bytes`` and ``cap`` (a bad value is left for the importer to refuse)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return min(value, cap)


def rebuild_task(origin: Any, *, max_bytes: int | None = None, max_generated_bytes: int | None = None,
                 normalize: Any = None) -> Task:
    """The task an ``origin`` describes, built again from its source (same data, same fingerprint).

    ``max_bytes`` caps what each file source may read (see :func:`load_source`);
    ``max_generated_bytes`` caps the data its built-in sources generate, all together, and is
    checked from the recipe's options before anything is generated. ``normalize``: the task's saved
    normalisation (``Normalization.to_dict()``, untrusted), whose mean and sd are applied again to the
    rebuilt task's map, so a normalised task comes back with its saved features and fingerprint (its
    statistics were those of the tasks normalised with it: never recomputed from this one alone)."""
    try:
        task = _rebuild(origin, max_bytes, max_generated_bytes)
        if normalize is None:
            return task
        saved = Normalization.from_dict(normalize)
        if task.values is None:
            raise DataError("the rebuilt task holds float features, but it was saved normalised")
        return task.with_normalization(Normalization(task.values, saved.mean, saved.sd))
    except DataError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise DataError(f"invalid task origin: {type(exc).__name__}: {exc}") from None


def _rebuild(origin: Any, max_bytes: int | None, max_generated_bytes: int | None) -> Task:
    if not isinstance(origin, dict):
        raise DataError(f"a task origin must be an object, got {type(origin).__name__}")
    builder = origin.get("builder")
    if not isinstance(builder, str) or builder not in PLANS:
        raise DataError(f"unknown task builder {builder!r:.100}; known builders: {sorted(PLANS)}")
    options = origin.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise DataError("a task origin's 'options' must be an object")
    n_tasks = options.get("n_tasks")
    if isinstance(n_tasks, int) and not isinstance(n_tasks, bool) and n_tasks > MAX_RECIPE_TASKS:
        raise DataError(f"a task origin's n_tasks is {n_tasks:,}, more than the {MAX_RECIPE_TASKS:,} a recipe may make")
    index = origin.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise DataError(f"a task origin's 'index' must be a non-negative integer, got {index!r:.100}")
    if builder == "datasets_as_tasks":
        specs = origin.get("datasets")
        if not isinstance(specs, list) or not specs:
            raise DataError("a datasets_as_tasks origin needs a non-empty 'datasets' list")
    else:
        if "dataset" not in origin:
            raise DataError(f"a {builder} origin needs a 'dataset'")
        specs = [origin["dataset"]]
    if max_generated_bytes is not None:  # before generating anything
        total = sum(generated_bytes(s["builtin"], **_options(s)) for s in specs
                    if isinstance(s, dict) and "builtin" in s and "path" not in s)
        if total > max_generated_bytes:
            raise DataError(f"the recipe generates {human_bytes(total)} of data, over the limit of "
                            f"{human_bytes(max_generated_bytes)} for data rebuilt from a recipe")
    sources = [load_source(s, max_bytes=max_bytes) for s in specs]
    source: Any = sources if builder == "datasets_as_tasks" else sources[0]
    try:
        count, make = PLANS[builder](source, **options)
    except TypeError as exc:
        raise DataError(f"bad options for {builder}: {exc}") from None
    if index >= count:
        raise DataError(f"task index {index} is out of range: the {builder} recipe makes {count} tasks")
    return make(index)


def _options(spec: dict) -> dict[str, Any]:
    options = spec.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise DataError("a task source's 'options' must be an object")
    return options
