"""``.modstudio`` archive → Project, treating every byte as untrusted.

Order matters: vet the zip directory, parse (bounded: :func:`~modstudio.project.bounded_json.read_json`)
and migrate project.json, validate it, check that the members are exactly the ones it
references, ask before following any recipe that names a file outside the archive, then read
tasks and weights (each vetted before numpy or safetensors sees it). Nothing is written
anywhere (stale temporary files of this file's own interrupted saves are removed); every
failure is a ProjectFileError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence, Union

from modstudio.project import atomic, strategy_specs, tensors
from modstudio.project.archive import PROJECT_JSON, ArchiveReader
from modstudio.project.errors import ProjectFileError
from modstudio.project.bounded_json import read_json
from modstudio.project.limits import DEFAULT_LIMITS, MAP_BYTES, Limits
from modstudio.project.migrations import migrate
from modstudio.project.model import Project
from modstudio.project.saving import weights_member
from modstudio.project.schema import ProjectDoc, parse_project
from modstudio.project.taskstore import data_member, decode_task, external_files
from modstudio.project.weights import check_run

Consent = Union[bool, Callable[[list[str]], bool]]


def load_project(path: str | Path, *, limits: Limits = DEFAULT_LIMITS, strict: bool = False,
                 allow_external_data: Consent = False, map_data: bool | None = None) -> Project:
    """Read a project file. ``strict`` refuses tasks whose rebuilt data changed instead of warning.

    ``map_data``: embedded task data as read-only views of the file mapped into memory instead
    of read into it (``project/mapping.py``) — None (default) for members of at least
    ``modstudio.project.limits.MAP_BYTES`` (256 MiB), True for every stored member, False for none. Mapped data can be
    larger than memory; the trainer streams it in batches.

    A task that is not embedded is rebuilt from its recipe; a recipe that names a file outside
    the archive is followed only when ``allow_external_data`` is True, or is a function that,
    given the files, returns True (the studio asks the user). Otherwise loading fails with a
    ProjectFileError naming the file, and nothing outside the archive is read.

    Non-fatal findings (a task's source data changed) are in ``project.warnings``.
    """
    atomic.remove_stale_temps(path)
    with ArchiveReader(path, limits) as reader:
        names = set(reader.names())
        if PROJECT_JSON not in names:
            raise ProjectFileError(f"{Path(path).name} has no project.json: not a ModStudio project")
        doc = parse_project(migrate(parse_json(reader.read(PROJECT_JSON), limits)), limits)
        _check_members(doc, names)
        _consent(external_files(doc.tasks), allow_external_data)
        warnings: list[str] = []
        if strategy_specs.find(doc.settings.strategy) is None:
            warnings.append(f"the project's settings name the strategy {doc.settings.strategy!r}, which this "
                            f"ModStudio does not have; choose one of {', '.join(strategy_specs.names())} to train")
        tasks = [_decode_task(reader, entry, i, map_data, limits, strict, warnings) for i, entry in enumerate(doc.tasks)]
        for run in doc.runs:
            if run.weights is not None:
                member = weights_member(run.id)
                run.weights = tensors.decode(reader.read_buffer(member), member, limits)
                check_run(run, run.trained_graph(doc.graph), tasks, f"run {run.id}")
    return Project(name=doc.name, graph=doc.graph, tasks=tasks, settings=doc.settings, runs=doc.runs,
                   id=doc.id, warnings=warnings)


def _decode_task(reader: ArchiveReader, entry, index: int, map_data: bool | None, limits, strict, warnings):
    """A task from its entry. Running out of memory while its data is read or checked (the bytes,
    or the arrays the task is built from) is said as such, with what to do instead."""
    try:
        return decode_task(entry, index, lambda name: _member_data(reader, name, map_data), limits, strict, warnings)
    except MemoryError:
        if not entry.embedded:
            raise ProjectFileError(f"not enough memory to rebuild tasks[{index}] from its recipe") from None
        name = data_member(index)
        raise ProjectFileError(f"not enough memory to read {name!r} ({reader.member_size(name):,} bytes); load it "
                               "mapped from the file instead (load_project(…, map_data=True))") from None


def _member_data(reader: ArchiveReader, name: str, map_data: bool | None):
    """A data member's bytes: mapped (big, or asked for, and stored), else read and CRC-checked."""
    if reader.can_map(name) and (map_data or (map_data is None and reader.member_size(name) >= MAP_BYTES)):
        return reader.map_member(name)
    return reader.read_buffer(name, scratch=True)


def parse_json(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """project.json as strict, bounded JSON (see :func:`~modstudio.project.bounded_json.read_json`)."""
    return read_json(raw, PROJECT_JSON, limits)


def _consent(files: Sequence[tuple[int, str]], allow: Consent) -> None:
    """Refuse unless the caller allowed reading ``files`` (the studio asks; True allows all)."""
    if not files or allow is True:
        return
    paths = list(dict.fromkeys(f for _, f in files))
    answer = False
    if callable(allow):
        try:
            answer = allow(paths) is True
        except ProjectFileError:
            raise
        except Exception as exc:  # a consent callback that fails must not open the project
            raise ProjectFileError(f"could not ask whether to read files outside the project: {exc}") from None
    if answer:
        return
    index, first = files[0]
    more = f" (and {len(paths) - 1} more file(s): {', '.join(map(repr, paths[1:4]))}{'…' if len(paths) > 4 else ''})" \
        if len(paths) > 1 else ""
    how = ("opening was declined" if callable(allow) else
           "to allow it, pass allow_external_data=True to load_project, use --allow-external-data on the "
           "command line, or open the project in the studio and answer Yes when it asks")
    raise ProjectFileError(
        f"tasks[{index}] is rebuilt from {first!r}, a file outside the project{more}; a project file is "
        f"never allowed to read files on this computer without consent, so nothing was read — {how}")


def _check_members(doc: ProjectDoc, names: set[str]) -> None:
    """The archive must hold exactly what project.json references: no more, no less."""
    expected = {PROJECT_JSON}
    expected |= {data_member(i) for i, entry in enumerate(doc.tasks) if entry.embedded}
    expected |= {weights_member(run.id) for run in doc.runs if run.weights is not None}
    for name in sorted(names - expected):
        raise ProjectFileError(f"refused archive: member {name!r} is not referenced by project.json")
    for name in sorted(expected - names):
        raise ProjectFileError(f"project file is incomplete: member {name!r} is missing")
