"""Where an export may write, and how: nothing the user had is destroyed.

An export never replaces a project (the one it came from, under any name or link, nor any other
``.modstudio`` archive), never a folder or a device, and an existing file only when asked
(``force``); even then the file an export writes beside the one named (a safetensors export's
description ``NAME.json``, a Python export's weights ``NAME.safetensors``) only replaces an
earlier ModStudio export's file of that kind, never a file of the user's that happens to have
that name. Every file is written to a temporary file beside the target and renamed over it
(``project.atomic.atomic_write``, as the project save does), so a full disk or a crash leaves the
previous file whole, and every failure to write is an :class:`ExportError` that says why.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable

from modstudio.learn.export.formats import ExportError
from modstudio.project.archive import PROJECT_JSON
from modstudio.project.atomic import atomic_write

PROJECT_SUFFIXES = (".modstudio", ".modstudio~")
SIDECAR_SUFFIX = ".json"
WEIGHTS_SUFFIX = ".safetensors"
SIDECAR_PROBE_BYTES = 64 * 1024 * 1024  # a description bigger than this is not one we wrote
HEADER_PROBE_BYTES = 100 * 1024 * 1024  # safetensors' own limit on a header


def sidecar_path(path: Path) -> Path:
    """The JSON description a safetensors export writes beside its weights."""
    return path.with_suffix(SIDECAR_SUFFIX)


def output_paths(path: Path, fmt: str) -> list[Path]:
    """Every file an export of ``fmt`` to ``path`` writes, the named one first."""
    if fmt == "python":
        weights = path.with_suffix(WEIGHTS_SUFFIX)
        if weights == path:
            raise ExportError(
                f"a Python export writes its weights to NAME.safetensors beside the code: name the file "
                f"{path.with_suffix('.py').name}, not {path.name}"
            )
        return [path, weights]
    if fmt != "safetensors":
        return [path]
    sidecar = sidecar_path(path)
    if sidecar == path:
        raise ExportError(
            f"a safetensors export writes its description to NAME.json beside the weights: name the file "
            f"{path.with_suffix('.safetensors').name}, not {path.name}"
        )
    return [path, sidecar]


def check_outputs(paths: list[Path], *, force: bool, project_file: str | os.PathLike | None = None) -> None:
    """ExportError unless every path may be written: see the module's rules."""
    for index, path in enumerate(paths):
        _check_output(path, force=force, project_file=project_file, implied=index > 0)


def _check_output(path: Path, *, force: bool, project_file, implied: bool) -> None:
    role = "weights go" if path.suffix == WEIGHTS_SUFFIX else "description goes"
    what = f"{path} (where the export's {role})" if implied else str(path)
    if project_file is not None and same_file(path, project_file):
        raise ExportError(f"{what} is the project {project_file} itself: an export never replaces its project; "
                          "choose another file name")
    if path.name.lower().endswith(PROJECT_SUFFIXES):
        raise ExportError(f"{what} is named as a ModStudio project (.modstudio): choose another file name "
                          "(.onnx, .pt, .pt2, .safetensors or .py)")
    try:
        info = os.stat(path)  # follows links: what a write would replace the link's view of
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a name under a regular file, a loop of links, no permission to look
        if os.path.lexists(path):
            raise ExportError(f"cannot write {what}: {exc.strerror or exc}") from None
        info = None
    if info is None:
        if os.path.lexists(path) and not force:  # a link that points nowhere
            raise ExportError(f"{what} exists (a link to a missing file): use --force (force=True) to replace it")
        _check_folder(path, what)
        return
    if stat.S_ISDIR(info.st_mode):
        raise ExportError(f"{what} is a folder: give a file name, for example {path / 'model.onnx'}")
    if not stat.S_ISREG(info.st_mode):
        raise ExportError(f"{what} is not a regular file (a device, pipe or socket): choose another file name")
    if is_project_archive(path):
        raise ExportError(f"{what} is a ModStudio project: an export never replaces a project; choose another "
                          "file name")
    if not force:
        raise ExportError(f"{what} exists: use --force (force=True) to replace it")
    if implied and path.suffix == WEIGHTS_SUFFIX:
        if not is_export_weights(path):
            raise ExportError(f"{what} exists and is not a ModStudio export's weights, so it is not replaced even "
                              "with --force: move it, or export under another name")
    elif implied and not is_export_description(path):
        raise ExportError(f"{what} exists and is not a ModStudio export description, so it is not replaced even "
                          "with --force: move it, or export under another name")
    _check_folder(path, what)


def _check_folder(path: Path, what: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"cannot write {what}: the folder {folder} {why} (create it first)")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two names reach one file: the same name, a hard link or a symbolic link."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def is_project_archive(path: Path) -> bool:
    """A zip with a project.json at its top: a ModStudio project, whatever its name."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as archive:
            return any(info.filename == PROJECT_JSON for info in archive.infolist())
    except Exception:  # damaged or unreadable (zipfile raises many kinds): not a project to protect
        return False


def is_export_description(path: Path) -> bool:
    """A JSON object with the two keys a safetensors export's description has."""
    try:
        if path.stat().st_size > SIDECAR_PROBE_BYTES:
            return False
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and {"metadata", "network"} <= set(doc)


def is_export_weights(path: Path) -> bool:
    """A safetensors file whose header carries ModStudio's export metadata (any export that wrote one)."""
    import struct

    from modstudio.learn.export.meta import META_KEY

    try:
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > HEADER_PROBE_BYTES:
                return False
            header = json.loads(f.read(size))
    except (OSError, ValueError, struct.error, RecursionError):
        return False
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return isinstance(metadata, dict) and META_KEY in metadata


def write_file(path: Path, content: bytes, *, then: Callable[[], None] | None = None) -> Path:
    """``content`` to ``path`` atomically: the previous file, if any, stays whole until the rename.

    ``then`` runs after the content is on disk and before the rename (a second file that must be
    in place first); if it fails, ``path`` is left as it was.
    """

    def write(out: BinaryIO) -> None:
        out.write(content)
        if then is not None:
            out.flush()
            os.fsync(out.fileno())  # a full disk shows here, before the other file is renamed in
            then()

    try:
        return atomic_write(path, write, backup=False)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
