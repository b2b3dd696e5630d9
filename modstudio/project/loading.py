"""``.modstudio`` archive → Project, treating every byte as untrusted.

Order matters: vet the zip directory, parse and migrate project.json, validate it, check that
the members are exactly the ones it references, then read tasks and weights (each vetted
before numpy or safetensors sees it). Nothing is written anywhere; every failure is a
ProjectFileError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modstudio.project import strategy_specs, tensors
from modstudio.project.archive import PROJECT_JSON, ArchiveReader
from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import DEFAULT_LIMITS, Limits
from modstudio.project.migrations import migrate
from modstudio.project.model import Project
from modstudio.project.saving import weights_member
from modstudio.project.schema import ProjectDoc, parse_project
from modstudio.project.taskstore import data_member, decode_task
from modstudio.project.weights import check_weights


def load_project(path: str | Path, *, limits: Limits = DEFAULT_LIMITS, strict: bool = False) -> Project:
    """Read a project file. ``strict`` refuses tasks whose rebuilt data changed instead of warning.

    Non-fatal findings (a task's source data changed) are in ``project.warnings``.
    """
    with ArchiveReader(path, limits) as reader:
        names = set(reader.names())
        if PROJECT_JSON not in names:
            raise ProjectFileError(f"{Path(path).name} has no project.json: not a ModStudio project")
        doc = parse_project(migrate(parse_json(reader.read(PROJECT_JSON))))
        _check_members(doc, names)
        warnings: list[str] = []
        if strategy_specs.find(doc.settings.strategy) is None:
            warnings.append(f"the project's settings name the strategy {doc.settings.strategy!r}, which this "
                            f"ModStudio does not have; choose one of {', '.join(strategy_specs.names())} to train")
        tasks = [decode_task(entry, i, reader.read, limits, strict, warnings) for i, entry in enumerate(doc.tasks)]
        for run in doc.runs:
            if run.weights is not None:
                member = weights_member(run.id)
                run.weights = tensors.decode(reader.read_buffer(member), member, limits)
                check_weights(run.weights, run.trained_graph(doc.graph), tasks, f"run {run.id}")
    return Project(name=doc.name, graph=doc.graph, tasks=tasks, settings=doc.settings, runs=doc.runs,
                   id=doc.id, warnings=warnings)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys (which would make the file ambiguous)."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ProjectFileError:
        raise
    except UnicodeDecodeError as exc:
        raise ProjectFileError(f"project.json is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ProjectFileError(f"project.json is malformed JSON: {exc.msg} at line {exc.lineno} "
                               f"column {exc.colno}") from None
    except RecursionError:
        raise ProjectFileError("project.json is nested too deeply") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ProjectFileError(f"project.json has a duplicate key {dup!r}")
    return result


def _no_constant(name: str) -> Any:
    raise ProjectFileError(f"project.json contains {name}, which JSON does not allow")


def _check_members(doc: ProjectDoc, names: set[str]) -> None:
    """The archive must hold exactly what project.json references: no more, no less."""
    expected = {PROJECT_JSON}
    expected |= {data_member(i) for i, entry in enumerate(doc.tasks) if entry.embedded}
    expected |= {weights_member(run.id) for run in doc.runs if run.weights is not None}
    for name in sorted(names - expected):
        raise ProjectFileError(f"refused archive: member {name!r} is not referenced by project.json")
    for name in sorted(expected - names):
        raise ProjectFileError(f"project file is incomplete: member {name!r} is missing")
