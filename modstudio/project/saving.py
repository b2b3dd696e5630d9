"""Project → ``.modstudio`` archive, atomically, and only if the result would load again.

The document is validated with the same schema and weight checks the loader uses before the
file is touched, so ModStudio never writes a project it would refuse to open.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, BinaryIO

from modstudio import __version__
from modstudio.project import npz, tensors
from modstudio.project.archive import PROJECT_JSON, ArchiveWriter
from modstudio.project.atomic import atomic_write
from modstudio.project.errors import ProjectFileError
from modstudio.project.migrations import FORMAT_VERSION
from modstudio.project.model import Project
from modstudio.project.schema import parse_project
from modstudio.project.taskstore import data_member, encode_task, should_embed
from modstudio.project.weights import check_weights


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


def save_project(project: Project, path: str | Path, *, backup: bool = True, durable: bool = True,
                 self_contained: bool = False) -> Path:
    """Write ``project`` to ``path``; ProjectFileError (and the old file intact) if anything fails.

    ``self_contained`` embeds every task's data uncompressed: a file for another process to read at
    once (the training process), where rebuilding data or compressing it would only cost time.
    """
    path = Path(path)
    try:
        doc, embeds = project_document(project, embed_all=self_contained)
        text = dump_json(doc)
        parse_project(json.loads(text))
    except ProjectFileError as exc:
        raise ProjectFileError(f"cannot save {path.name}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ProjectFileError(f"cannot save {path.name}: the project holds a value JSON cannot store ({exc})") from None
    for run in project.runs:
        if run.weights is not None:
            check_weights(run.weights, run.trained_graph(project.graph), project.tasks, f"cannot save {path.name}: run {run.id}")

    def write(out: BinaryIO) -> None:
        archive = ArchiveWriter(out)
        try:
            archive.write(PROJECT_JSON, text, compress=True)
            for index, (task, embed) in enumerate(zip(project.tasks, embeds)):
                if embed:  # npz is compressed already
                    archive.write(data_member(index), npz.encode(task.arrays(), compress=not self_contained),
                                  compress=False)
            for run in project.runs:
                if run.weights is not None:  # stored: tensors barely compress and speed matters
                    archive.write_parts(weights_member(run.id), *tensors.encode_parts(run.weights))
        except BaseException:
            archive.abort()
            raise
        archive.close()

    try:
        return atomic_write(path, write, backup=backup, durable=durable)
    except OSError as exc:
        raise ProjectFileError(f"cannot save {path}: {exc.strerror or exc}") from exc
