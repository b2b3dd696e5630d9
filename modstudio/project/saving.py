"""Project → ``.modstudio`` archive, atomically, and only if the result would load again.

The document is validated with the same reader, schema, task and weight checks the loader uses
(and against the same :class:`~modstudio.project.limits.Limits`) before the file is touched, so
ModStudio never writes a project it would refuse to open.
"""

from __future__ import annotations

import json
import math
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from modstudio import __version__
from modstudio.project import npz, tensors
from modstudio.project.archive import PROJECT_JSON, ArchiveWriter
from modstudio.project.atomic import atomic_write
from modstudio.project.errors import ProjectFileError
from modstudio.project.bounded_json import read_json
from modstudio.project.limits import DEFAULT_LIMITS, Limits
from modstudio.project.migrations import FORMAT_VERSION
from modstudio.project.model import Project
from modstudio.project.schema import parse_project
from modstudio.project.taskstore import check_task, data_member, encode_task, should_embed
from modstudio.project.weights import check_run


def weights_member(run_id: str) -> str:
    return f"weights/{run_id}.safetensors"


def dump_json(doc: dict[str, Any]) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, so equal projects give equal files."""
    return json.dumps(_finite(doc), sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _finite(value: Any) -> Any:
    """NaN/inf (a diverged loss) become null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def project_document(project: Project, embed_all: bool = False) -> tuple[dict[str, Any], list[bool]]:
    """project.json's content and, per task, whether its data is embedded."""
    embeds = [embed_all or should_embed(t, project.settings.embed_data) for t in project.tasks]
    doc = {
        "format_version": FORMAT_VERSION,
        "app_version": __version__,
        "id": project.id,
        "name": project.name,
        "graph": project.graph.to_dict(),
        "tasks": [encode_task(t, e) for t, e in zip(project.tasks, embeds)],
        "settings": project.settings.to_dict(),
        "runs": [run.to_dict() for run in project.runs],
    }
    return doc, embeds


def _deflates_safely(data: bytes, limits: Limits) -> bool:
    """Whether a deflated member of ``data`` stays within the ratio the loader allows."""
    if len(data) <= limits.ratio_floor:
        return True
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile deflates
    size = len(packer.compress(data)) + len(packer.flush())
    return len(data) <= limits.max_ratio * max(size, 1)


def save_project(project: Project, path: str | Path, *, backup: bool = True, durable: bool = True,
                 self_contained: bool = False) -> Path:
    """Write ``project`` to ``path``; ProjectFileError (and the old file intact) if anything fails.

    ``self_contained`` embeds every task's data: a file for another process to read at once (the
    training process), where rebuilding data would only cost time.
    """
    path = Path(path)
    limits = DEFAULT_LIMITS
    try:
        doc, embeds = project_document(project, embed_all=self_contained)
        text = dump_json(doc)
        if len(text) > limits.max_json_bytes:
            raise ProjectFileError(f"project.json would be {len(text):,} bytes, over the limit of "
                                   f"{limits.max_json_bytes:,}")
        parsed = parse_project(read_json(text, PROJECT_JSON, limits), limits)
        for index, (task, entry) in enumerate(zip(project.tasks, parsed.tasks)):
            check_task(task, entry, f"tasks[{index}]")
        members = 1 + sum(embeds) + sum(run.weights is not None for run in project.runs)
        if members > limits.max_members:
            raise ProjectFileError(f"the archive would have {members:,} members, more than the limit "
                                   f"{limits.max_members:,}")
        for run in project.runs:
            if run.weights is not None:
                check_run(run, run.trained_graph(project.graph), project.tasks, f"run {run.id}")
    except ProjectFileError as exc:
        raise ProjectFileError(f"cannot save {path.name}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ProjectFileError(f"cannot save {path.name}: the project holds a value JSON cannot store ({exc})") from None
    encoded = {}
    total = len(text)
    for run in project.runs:
        if run.weights is not None:
            try:
                size, parts = encoded[run.id] = tensors.encode_parts(run.weights)
            except ProjectFileError as exc:
                raise ProjectFileError(f"cannot save {path.name}: run {run.id} weights: {exc}") from None
            total += size
            _within(path, weights_member(run.id), size, total, limits)

    def write(out: BinaryIO) -> None:
        archive = ArchiveWriter(out)
        written = total
        try:
            archive.write(PROJECT_JSON, text, compress=_deflates_safely(text, limits))
            for index, (task, embed) in enumerate(zip(project.tasks, embeds)):
                if embed:  # stored, arrays written once from their memory (npz.write)
                    arrays, member = task.arrays(), data_member(index)
                    npz.check_arrays(arrays, limits)
                    bound = npz.size_bound(arrays)
                    _within(path, member, bound, written + bound, limits)
                    size = archive.write_zip(member, bound, lambda out: npz.write(out, arrays, limits))
                    written += size
                    _within(path, member, size, written, limits)
            for run in project.runs:
                if run.weights is not None:  # stored: tensors barely compress and speed matters
                    archive.write_parts(weights_member(run.id), *encoded[run.id])
        except BaseException:
            archive.abort()
            raise
        archive.close()

    try:
        return atomic_write(path, write, backup=backup, durable=durable, follow_symlinks=True)
    except OSError as exc:
        raise ProjectFileError(f"cannot save {path}: {exc.strerror or exc}") from exc


def _within(path: Path, member: str, size: int, total: int, limits: Limits) -> None:
    if size > limits.max_member_bytes:
        raise ProjectFileError(f"cannot save {path.name}: {member} would be {size:,} bytes, over the limit of "
                               f"{limits.max_member_bytes:,}")
    if total > limits.max_total_bytes:
        raise ProjectFileError(f"cannot save {path.name}: the archive would hold more than "
                               f"{limits.max_total_bytes:,} bytes")
