"""project.json → typed objects, treating the JSON as untrusted.

Every value is checked for type and every object for unknown fields; a failure names the JSON
path of the bad value (``runs[0].acc_matrix[1][2]``) so a user or a bug report can find it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Callable

from modstudio.graph import Graph, GraphError
from modstudio.project import strategy_specs
from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import DEFAULT_LIMITS, Limits
from modstudio.project.run import RUN_STATUSES, Run, RunMetrics
from modstudio.project.settings import SETTING_SPECS, SettingsError, TrainingSettings, check_setting

RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOP_FIELDS = {"format_version", "app_version", "id", "name", "graph", "tasks", "settings", "runs"}
MAX_DEPTH = 64


@dataclass
class TaskEntry:
    """A task as project.json describes it: metadata plus embedded data or a recipe to rebuild it."""

    meta: dict[str, Any]
    embedded: bool
    origin: dict[str, Any] | None
    fingerprint: str


@dataclass
class ProjectDoc:
    """A validated project.json, before tasks are materialised and weights attached."""

    app_version: str
    id: str
    name: str
    graph: Graph
    tasks: list[TaskEntry]
    settings: TrainingSettings
    runs: list[Run]


def fail(path: str, message: str) -> ProjectFileError:
    return ProjectFileError(f"project.json: {path or 'top level'}: {message}")


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def obj(value: Any, path: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        raise fail(path, f"expected an object, found {_type_name(value)}")
    missing = sorted(required - set(value))
    if missing:
        raise fail(path, f"missing field {missing[0]!r}")
    unknown = sorted(set(value) - required - set(optional))
    if unknown:
        raise fail(path, f"unknown field {unknown[0]!r}")
    return value


def string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, found {_type_name(value)}")
    return value


def integer(value: Any, path: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, f"expected an integer, found {_type_name(value)}")
    if minimum is not None and value < minimum:
        raise fail(path, f"must be at least {minimum}, found {value}")
    return value


def number(value: Any, path: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(path, f"expected a finite number, found {_type_name(value)}")
    if minimum is not None and value < minimum:
        raise fail(path, f"must be at least {minimum}, found {value}")
    return float(value)


def optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, path: None if value is None else check(value, path)


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected true or false, found {_type_name(value)}")
    return value


def listof(value: Any, path: str, item: Callable[[Any, str], Any]) -> list:
    if not isinstance(value, list):
        raise fail(path, f"expected a list, found {_type_name(value)}")
    return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]


def choice(options: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, path: str) -> str:
        if value not in options:
            raise fail(path, f"must be one of {', '.join(options)}, found {value!r}")
        return value
    return check


def iso_time(value: Any, path: str) -> str:
    string(value, path)
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise fail(path, f"expected an ISO date and time, found {value!r}") from None
    return value


def json_value(value: Any, path: str, depth: int = 0) -> Any:
    """Any JSON value (free-form records such as curves and metrics), bounded in depth."""
    if depth > MAX_DEPTH:
        raise fail(path, "nested too deeply")
    if isinstance(value, dict):
        for key, v in value.items():
            json_value(v, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            json_value(v, f"{path}[{i}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise fail(path, "NaN and infinity are not allowed")
    return value


def json_object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise fail(path, f"expected an object, found {_type_name(value)}")
    return json_value(value, path)


# ---------------------------------------------------------------------------- the document


def parse_project(data: Any, limits: Limits = DEFAULT_LIMITS) -> ProjectDoc:
    """Validate a (migrated, current-format) project.json into typed objects."""
    obj(data, "", TOP_FIELDS)
    try:
        graph = Graph.from_dict(data["graph"])
    except GraphError as exc:
        raise fail("graph", str(exc)) from None
    tasks = listof(data["tasks"], "tasks", parse_task)
    runs = listof(data["runs"], "runs", lambda value, path: parse_run(value, path, limits))
    seen: set[str] = set()
    for i, run in enumerate(runs):
        if run.id in seen:
            raise fail(f"runs[{i}].id", f"duplicate run id {run.id!r}")
        seen.add(run.id)
        trained = run.trained_graph(graph)
        for t, path in enumerate(run.paths):
            for node_id in path:
                if node_id not in trained.nodes:
                    raise fail(f"runs[{i}].paths[{t}]", f"names node {node_id!r}, which is not in the graph")
    return ProjectDoc(
        app_version=string(data["app_version"], "app_version"),
        id=_run_id(data["id"], "id"),
        name=string(data["name"], "name"),
        graph=graph,
        tasks=tasks,
        settings=parse_settings(data["settings"], "settings"),
        runs=runs,
    )


def parse_task(value: Any, path: str) -> TaskEntry:
    obj(value, path, {"meta", "embedded", "origin", "fingerprint"})
    entry = TaskEntry(
        meta=json_object(value["meta"], f"{path}.meta"),
        embedded=boolean(value["embedded"], f"{path}.embedded"),
        origin=optional(json_object)(value["origin"], f"{path}.origin"),
        fingerprint=string(value["fingerprint"], f"{path}.fingerprint"),
    )
    if not entry.embedded and entry.origin is None:
        raise fail(path, "a task without embedded data needs an origin to rebuild it from")
    if "origin" in entry.meta and entry.meta["origin"] != entry.origin:  # written as one value, twice
        raise fail(f"{path}.meta.origin", f"differs from {path}.origin (the recipe the task is rebuilt from)")
    return entry


# Every format-2 file has these settings. One declared since is optional: a file without it was
# written before it existed, and trained as its default does (which keeps today's behaviour).
FORMAT_2_SETTINGS = frozenset({"strategy", "epochs", "batch_size", "lr", "optimizer", "weight_decay", "seed",
                               "device", "scenario", "strategy_params", "embed_data"})


def parse_settings(value: Any, path: str) -> TrainingSettings:
    """The settings object, every setting checked by its one declaration (``SETTING_SPECS``);
    a setting newer than the file takes its default."""
    names = {f.name for f in fields(TrainingSettings)}
    obj(value, path, FORMAT_2_SETTINGS, names - FORMAT_2_SETTINGS)
    value = {**{n: SETTING_SPECS[n].default for n in names - FORMAT_2_SETTINGS}, **value}
    checked = {}
    for name in names:
        if name == "strategy_params":
            json_object(value[name], f"{path}.{name}")  # bounded depth, finite numbers
        try:
            checked[name] = check_setting(name, value[name])
        except SettingsError as exc:
            raise fail(f"{path}.{name}", str(exc)) from None
    spec = strategy_specs.find(checked["strategy"])  # unknown strategies are kept, and loading warns
    if spec is not None:
        try:
            checked["strategy_params"] = spec.check_params(checked["strategy_params"])
        except strategy_specs.StrategyError as exc:
            raise fail(f"{path}.strategy_params", str(exc)) from None
    return TrainingSettings(**checked)


def _run_id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not RUN_ID.fullmatch(value):
        raise fail(path, f"expected an id of 1-64 letters, digits, '_' or '-', found {value!r}")
    return value


def _acc(value: Any, path: str) -> float | None:
    return None if value is None else number(value, path)


def _path(value: Any, path: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise fail(path, f"expected an object of node id → instance, found {_type_name(value)}")
    return {k: integer(v, f"{path}.{k}", 0) for k, v in value.items()}


_RUN_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "id": _run_id,
    "strategy": string,
    "settings": json_object,
    "started": iso_time,
    "ended": optional(iso_time),
    "status": choice(RUN_STATUSES),
    "message": string,
    "curves": lambda v, p: listof(v, p, json_object),
    "acc_matrix": lambda v, p: listof(v, p, lambda row, rp: listof(row, rp, _acc)),
    "metrics": lambda v, p: parse_metrics(v, p),
    "paths": lambda v, p: listof(v, p, _path),
    "params_per_task": lambda v, p: listof(v, p, lambda n, np_: integer(n, np_, 0)),
    "graph": lambda v, p: optional(_graph_dict)(v, p),
}


_METRIC_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "tasks_trained": lambda v, p: integer(v, p, 0),
    "acc": optional(number),
    "bwt": optional(number),
    "fwt": optional(number),
    "forgetting": optional(number),
    "aia": optional(number),
    "test_sizes": lambda v, p: listof(v, p, lambda n, np_: integer(n, np_, 0)),
    "final_accuracies": lambda v, p: listof(v, p, number),
    "seconds_per_task": lambda v, p: listof(v, p, lambda n, np_: number(n, np_, 0.0)),
    "task_parameters": lambda v, p: listof(v, p, lambda n, np_: integer(n, np_, 0)),
    "task_inference": optional(lambda v, p: listof(v, p, number)),
    "bank_sizes": lambda v, p: {k: integer(n, f"{p}.{k}", 0) for k, n in json_object(v, p).items()},
    "total_parameters": optional(lambda v, p: integer(v, p, 0)),
    "traceback": string,
    "distributed": optional(json_object),
}
assert set(_METRIC_CHECKS) == {f.name for f in fields(RunMetrics)}


def parse_metrics(value: Any, path: str) -> RunMetrics:
    """A run's figures; a figure the file does not have keeps its default (older files)."""
    obj(value, path, set(), set(_METRIC_CHECKS))
    return RunMetrics(**{k: check(value[k], f"{path}.{k}") for k, check in _METRIC_CHECKS.items() if k in value})


def _graph_dict(value: Any, path: str) -> dict:
    """A run's graph snapshot: kept as JSON, but it must describe a valid graph."""
    try:
        Graph.from_dict(value)
    except GraphError as exc:
        raise fail(path, str(exc)) from None
    return value


MAX_BYTES_FIGURE = 2**63 - 1  # a memory's size in bytes, as an int64 would hold it


def parse_memory(value: Any, path: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any] | None:
    """A run's exemplar memory: samples, bytes, and each item once as [task, training index]; at most
    ``limits.max_memory_items`` items (the items name samples of the tasks as the run trained them)."""
    if value is None:
        return None
    obj(value, path, {"samples", "bytes", "items"})
    items = value["items"]
    if isinstance(items, list) and len(items) > limits.max_memory_items:
        raise fail(f"{path}.items", f"{len(items):,} items, more than the limit of {limits.max_memory_items:,}")
    pairs = listof(items, f"{path}.items", _memory_item)
    samples = integer(value["samples"], f"{path}.samples", 0)
    if samples != len(pairs):
        raise fail(f"{path}.samples", f"says {samples:,} but items lists {len(pairs):,}")
    if len({tuple(p) for p in pairs}) != len(pairs):
        raise fail(f"{path}.items", "names a sample twice")
    nbytes = integer(value["bytes"], f"{path}.bytes", 0)
    if nbytes > MAX_BYTES_FIGURE:
        raise fail(f"{path}.bytes", f"must be at most 2**63 - 1, found {nbytes}")
    return {"samples": samples, "bytes": nbytes, "items": pairs}


def _memory_item(value: Any, path: str) -> list[int]:
    if not isinstance(value, list) or len(value) != 2:
        found = f"a list of {len(value)}" if isinstance(value, list) else _type_name(value)
        raise fail(path, f"expected [task, index], found {found}")
    return [integer(value[0], f"{path}[0]", 0), integer(value[1], f"{path}[1]", 0)]


def parse_run(value: Any, path: str, limits: Limits = DEFAULT_LIMITS) -> Run:
    obj(value, path, set(_RUN_CHECKS) | {"weights", "memory"})
    run = Run(**{k: check(value[k], f"{path}.{k}") for k, check in _RUN_CHECKS.items()})
    run.memory = parse_memory(value["memory"], f"{path}.memory", limits)
    # weights are attached by the loader from weights/<id>.safetensors; here only the flag
    run.weights = {} if boolean(value["weights"], f"{path}.weights") else None
    return run
