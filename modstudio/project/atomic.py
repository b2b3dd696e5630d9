"""Write a file so that a crash or a full disk never costs the user the previous version.

The new content goes to a temporary file beside the target (same filesystem, so the final
rename is atomic), is flushed and fsynced, and only then replaces the target. The previous
version is kept as ``<name>~`` through a hard link, so the target path always names a
complete file, old or new.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + "~")


def atomic_write(
    path: str | Path, write: Callable[[BinaryIO], None], *, backup: bool = True, durable: bool = True
) -> Path:
    """Call ``write(fileobj)`` on a temp file, then make it ``path``; on failure ``path`` is untouched.

    ``durable=False`` skips the fsyncs: only for measuring what they cost.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            os.chmod(tmp, _mode_for(path))
            write(out)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if backup and path.exists():
            _keep_backup(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(folder)
    return path


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or what a new document gets (mkstemp's 0600 is too private)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def _keep_backup(path: Path) -> None:
    """Make ``path~`` the current file: a hard link (instant), or a copy where links aren't allowed."""
    target = backup_path(path)
    with _temp_name(path.parent, f".{path.name}~.", ".tmp") as link:
        try:
            os.link(path, link)
        except OSError:
            shutil.copy2(path, link)
        os.replace(link, target)


@contextlib.contextmanager
def _temp_name(folder: Path, prefix: str, suffix: str) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    os.close(fd)
    os.unlink(name)  # we only want a free name beside the target
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); not possible (nor needed) on Windows."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
