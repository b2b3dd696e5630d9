"""Autosave hooks for the GUI: recovery copies in the per-user data folder, listed after a crash.

One copy per project (named by ``project.id``), each with a small sidecar JSON (name, time,
original path) so listing them never opens an archive. The folder is
``appdirs.user_data_dir("ModStudio")/recovery``, or ``$MODSTUDIO_DATA_DIR/recovery``.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from modstudio import user_dirs
from modstudio.project.atomic import atomic_write
from modstudio.project.model import Project
from modstudio.project.saving import save_project

SUFFIX = ".modstudio"

clock = time.time  # the time an autosave records (seconds since the epoch); tests put a fake clock here


def data_dir() -> Path:
    return user_dirs.data_dir(create=False)


def recovery_dir() -> Path:
    return data_dir() / "recovery"


@dataclass(frozen=True)
class RecoveryCopy:
    """A recoverable autosave: open ``path`` with load_project to restore it."""

    project_id: str
    name: str
    saved_at: datetime
    source: str | None  # where the user last saved the project, if anywhere
    path: Path


def autosave(project: Project, source: str | Path | None = None) -> Path:
    """Save a recovery copy of ``project`` (replacing its previous one); returns its path."""
    return _save_copy(project, project.id, source)


_TAG = re.compile(r"[A-Za-z0-9_-]{1,64}")


def keep_unsaved(project: Project, source: str | Path | None, tag: str) -> Path:
    """A project that could not be saved where the user asked (``modstudio train`` after a failed
    save: a missing folder, a read-only disk) kept as a recovery copy of its own,
    ``<project id>-<tag>``, so an autosave of the same project in the studio never replaces it.
    Listed by ``list_recoverable`` like the others (the studio offers it after its next start);
    OSError or ProjectFileError when the per-user data folder cannot take it either."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"a recovery tag is 1-64 letters, digits, '_' or '-', not {tag!r}")
    return _save_copy(project, f"{project.id}-{tag}", source)


def _save_copy(project: Project, key: str, source: str | Path | None) -> Path:
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = save_project(project, folder / f"{key}{SUFFIX}", backup=False)
    saved_at = datetime.fromtimestamp(clock(), timezone.utc).isoformat(timespec="milliseconds")
    info = {"name": project.name, "saved_at": saved_at, "source": str(source) if source else None}
    atomic_write(folder / f"{key}.json",
                 lambda out: out.write(json.dumps(info, ensure_ascii=False).encode("utf-8")), backup=False)
    return path


def list_recoverable() -> list[RecoveryCopy]:
    """Recovery copies, newest first; damaged sidecars are skipped rather than failing the list."""
    folder = recovery_dir()
    copies = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        project_id = path.name[: -len(SUFFIX)]
        try:
            info = json.loads((folder / f"{project_id}.json").read_text("utf-8"))
            copies.append(RecoveryCopy(project_id, str(info["name"]), datetime.fromisoformat(info["saved_at"]),
                                       info.get("source"), path))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(copies, key=lambda c: c.saved_at, reverse=True)


def delete_recovery(project_id: str) -> None:
    """Forget a project's recovery copy (after a normal save, or when the user discards it)."""
    folder = recovery_dir()
    for name in (f"{project_id}{SUFFIX}", f"{project_id}.json"):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
