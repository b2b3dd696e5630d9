"""Write a file so that a crash or a full disk never costs the user the previous version.

The new content goes to a temporary file beside the target (same filesystem, so the final
rename is atomic), is flushed and fsynced, and only then replaces the target. The previous
version is kept as ``<name>~`` through a hard link, so the target path always names a
complete file, old or new. A target that is a symbolic link can be written through
(``follow_symlinks``, as a project save does): the link's target is replaced and the link stays.
A new file gets the permissions any program's new file gets (0666 less the user's umask), a
replaced file keeps its own.

Temporary files are named ``.<name>.<digest>.<host>-<pid>-<random>.tmp`` (the name shortened
so the whole fits the folder's NAME_MAX, the digest a hash of the full name, the host a hash of
this computer's name, the pid in hex). A save killed half-way leaves one behind;
:func:`remove_stale_temps` (run by every save and load of that file) removes the target's own
temporary files that no live save is writing: those of this computer whose process is gone,
and any other of ours untouched for :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

NEW_FILE_MODE = 0o666
"""What a new file asks of ``open``; the kernel takes the user's umask off (0644 under umask 022)."""

STALE_SECONDS = 3600
"""A temporary file of ours whose writer cannot be asked (another computer; an old name without
a pid) counts as abandoned once it has not been modified for this long."""

NAME_MAX = 255
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:6]
_OURS = re.compile(r"\.(?P<head>.*)\.(?P<digest>[0-9a-f]{8})\.(?P<host>[0-9a-f]{6})-(?P<pid>[0-9a-f]{8})-[0-9a-f]{8}\.tmp",
                   re.DOTALL)
_TAIL = len(".0123abcd.0123ab-0123abcd-0123abcd.tmp")


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + "~")


def write_target(path: str | Path) -> Path:
    """Where writing ``path`` really goes: the file a symbolic link points to (the link stays)."""
    path = Path(path)
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return path


def atomic_write(
    path: str | Path, write: Callable[[BinaryIO], None], *, backup: bool = True, durable: bool = True,
    follow_symlinks: bool = False,
) -> Path:
    """Call ``write(fileobj)`` on a temp file, then make it ``path``; on failure ``path`` is untouched.

    ``durable=False`` skips the fsyncs: only for measuring what they cost. ``follow_symlinks``
    writes through a symbolic link (its target gets the new content, the link stays); otherwise
    a link at ``path`` is replaced by the file. Returns ``path`` as given.
    """
    given = Path(path)
    path = write_target(given) if follow_symlinks else given
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_temps(path, follow_symlinks=False)
    fd, tmp = _create_temp(path, NEW_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            _keep_mode(path, tmp)  # before any byte is written: a private file's content never shows
            write(out)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if backup and path.exists() and _fits(folder, path.name + "~"):
            _keep_backup(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(folder)
    return given


# ---------------------------------------------------------------------------- temporary names


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):
        return NAME_MAX


def _fits(folder: Path, name: str) -> bool:
    return len(os.fsencode(name)) <= _name_max(folder)


def _digest(name: str) -> str:
    return hashlib.sha256(os.fsencode(name)).hexdigest()[:8]


def temp_name(folder: Path, name: str) -> str:
    """A fresh temporary name for writing ``name`` in ``folder``, never longer than NAME_MAX."""
    room = _name_max(folder) - _TAIL - 1
    head = name
    while len(os.fsencode(head)) > room:
        head = head[:-1]
    return f".{head}.{_digest(name)}.{_HOST}-{os.getpid() & 0xFFFFFFFF:08x}-{secrets.token_hex(4)}.tmp"


def _create_temp(path: Path, mode: int = 0o600) -> tuple[int, Path]:
    folder = path.parent if str(path.parent) else Path(".")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / temp_name(folder, path.name)
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


def _is_ours(entry_name: str, target: str) -> re.Match | None:
    match = _OURS.fullmatch(entry_name)
    if match and match["digest"] == _digest(target) and target.startswith(match["head"]):
        return match
    return None


def _legacy(entry_name: str, target: str) -> bool:
    """Names of earlier versions (``tempfile.mkstemp``: ``.<name>.XXXXXXXX.tmp``, ``.<name>~.XXXXXXXX.tmp``)."""
    for stem in (f".{target}.", f".{target}~."):
        if entry_name.startswith(stem) and entry_name.endswith(".tmp"):
            return re.fullmatch(r"[a-z0-9_]{8}", entry_name[len(stem):-4]) is not None
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, someone else's (or we cannot tell: keep the file)
    return True


def remove_stale_temps(path: str | Path, now: float | None = None, *, follow_symlinks: bool = True) -> list[Path]:
    """Remove the temporary files that interrupted saves of ``path`` left beside it; never raises.

    Only names this module makes for this very target (or made before pids were in names),
    only regular files, and only when no live save can be writing them: on this computer, when
    the process in the name is gone; otherwise when untouched for STALE_SECONDS. Returns them.
    A symbolic link's saves write beside its target, so that is where they are looked for.
    """
    removed: list[Path] = []
    try:
        target = write_target(path) if follow_symlinks else Path(path)
        folder = target.parent if str(target.parent) else Path(".")
        name = target.name
        now = time.time() if now is None else now
        with os.scandir(folder) as entries:
            candidates = [e for e in entries if e.name.startswith(".") and e.name.endswith(".tmp")]
        for entry in candidates:
            match = _is_ours(entry.name, name)
            if match is None and not _legacy(entry.name, name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if match is not None and match["host"] == _HOST and os.name == "posix":
                    pid = int(match["pid"], 16)
                    if pid == os.getpid() & 0xFFFFFFFF or _alive(pid):
                        continue
                elif now - entry.stat(follow_symlinks=False).st_mtime < STALE_SECONDS:
                    continue
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                continue
    except (OSError, ValueError, TypeError):
        pass
    return removed


def _keep_mode(path: Path, tmp: Path) -> None:
    """Give ``tmp`` the permissions of the file it replaces. A new file keeps what ``open`` gave it,
    NEW_FILE_MODE less the user's umask, as any program's new document gets. (The umask is never
    read with ``os.umask``: that sets it too, for every thread of the process, so a file another
    thread created meanwhile got the wrong permissions.)"""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return
    os.chmod(tmp, mode)


def _keep_backup(path: Path) -> None:
    """Make ``path~`` the current file: a hard link (instant), or a copy where links aren't allowed."""
    target = backup_path(path)
    with _temp_name(path) as link:
        try:
            os.link(path, link)
        except OSError:
            shutil.copy2(path, link)
        os.replace(link, target)


@contextlib.contextmanager
def _temp_name(path: Path) -> Iterator[Path]:
    """A free temporary name beside ``path`` (created, then removed: we only want the name)."""
    fd, name = _create_temp(path)
    os.close(fd)
    os.unlink(name)
    try:
        yield name
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
