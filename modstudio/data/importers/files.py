"""Opening the user's files safely, reading them within bounds, and the import size limit.

Every reader opens its file through ``_open_file``, so one place makes sure that only regular
files are opened (after following symlinks): FIFOs, devices, sockets and folders where a file is
expected are refused before anything is read, and no read goes past the size that was checked
against ``max_bytes``.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from modstudio.data.errors import DataError, human_bytes

MAX_BYTES = 2 * 1024**3
"""Default limit on the bytes an import may read or decode (override per call with max_bytes)."""

_CHUNK = 1024 * 1024


def _guard(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise DataError(
            f"{what} is {human_bytes(size)}, over the import limit of {human_bytes(limit)} "
            "(raise max_bytes to import it anyway)"
        )


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)


def _stat(p: Path, what: str) -> os.stat_result:
    """``os.stat`` after following symlinks; a DataError naming ``what`` when that fails."""
    try:
        return os.stat(p)
    except FileNotFoundError:
        raise DataError(f"{what}: no such file or folder") from None
    except OSError as exc:
        raise DataError(f"{what}: cannot be read ({_os_problem(exc)})") from None
    except ValueError as exc:
        raise DataError(f"{what}: not a valid path ({exc})") from None


def _need_file(p: Path, what: str) -> os.stat_result:
    st = _stat(p, what)
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{what}: not a regular file ({_kind(st.st_mode)})")
    return st


class _Capped(io.RawIOBase):
    """A regular file read through a cap: reading past ``cap`` bytes (a file that grew after its
    size was checked) is refused instead of read."""

    def __init__(self, raw: io.FileIO, cap: int, what: str) -> None:
        super().__init__()
        self._raw, self._cap, self._what = raw, cap, what

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        left = self._cap - self._raw.tell()
        if left <= 0:
            if len(view) and self._raw.read(1):
                raise DataError(f"{self._what}: the file grew while it was read (over its checked size)")
            return 0
        return self._raw.readinto(view[:left]) or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


@contextmanager
def _open_file(p: Path, limit: int, what: str | None = None) -> Iterator[tuple[BinaryIO, int]]:
    """A regular file opened for reading, with its size checked against ``limit``.

    The path is stat-ed (following symlinks) before opening and the open file again, so a FIFO
    cannot block the open (O_NONBLOCK) and a device or a swapped-in special file is refused.
    """
    what = what or p.name
    _need_file(p, what)
    flags = os.O_RDONLY
    for name in ("O_NONBLOCK", "O_CLOEXEC", "O_NOCTTY", "O_BINARY"):
        flags |= getattr(os, name, 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise DataError(f"{what}: cannot be opened ({_os_problem(exc)})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{what}: not a regular file ({_kind(st.st_mode)})")
        _guard(st.st_size, limit, what)
        raw = io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    with io.BufferedReader(_Capped(raw, st.st_size, what), _CHUNK) as f:
        yield f, st.st_size


def _read_exact(f: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream), read in bounded chunks."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(min(_CHUNK, n - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_into(f: BinaryIO, buffer: np.ndarray) -> int:
    """Fill a uint8 array from ``f``; the number of bytes read (short only at the end)."""
    view, got = memoryview(buffer), 0
    while got < len(view):
        n = f.readinto(view[got:got + 16 * _CHUNK])
        if not n:
            break
        got += n
    return got
