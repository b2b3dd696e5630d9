"""Embedded task data mapped from the archive instead of read: data larger than memory.

A stored ``data/<task>.npz`` member is a run of plain bytes in the project file, so its arrays can
be read-only views of a shared file mapping (``mmap``, ``ACCESS_READ``): the pages come from the
page cache on demand and are never the process's private memory. The data layer passes such views
through without a copy (``modstudio.data.dataset.file_map``).

Integrity: reading a member into memory checks its CRC-32 as it reads; a mapped member is
checked once, in a background thread started when it is mapped, and :meth:`MappedArchive.check`
(before training on it or saving it) waits for that thread and refuses a mismatch. The file
itself is watched too: its size and modification time as mapped, taken from the open descriptor
(a save renames a new file over the path and leaves the mapped one intact; a change made in place
is what would corrupt or, truncated, crash a mapped read), are compared again by ``check``, and a
changed file is refused with a message saying to open the project again.
"""

from __future__ import annotations

import mmap
import os
import weakref
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable

from modstudio.project.errors import ProjectFileError

_CRC_CHUNK = 16 * 1024 * 1024
_ARCHIVES: "weakref.WeakKeyDictionary[mmap.mmap, MappedArchive]" = weakref.WeakKeyDictionary()


def _identity(fd: int) -> tuple[int, int, int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class MappedArchive:
    """One project file mapped read-only; members are views of it, each CRC-checked in the background."""

    def __init__(self, file: Any, path: Path) -> None:
        self.path = Path(path)
        self._fd = os.dup(file.fileno())  # kept: the identity is read from the mapped file itself
        try:
            self.identity = _identity(self._fd)
            self.map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        except BaseException:
            os.close(self._fd)
            raise
        weakref.finalize(self, os.close, self._fd)
        self._view = memoryview(self.map)
        self._checks: dict[str, tuple[Future | Callable[[], int], int]] = {}
        self._pool: ThreadPoolExecutor | None = None
        _ARCHIVES[self.map] = self

    def member(self, name: str, start: int, size: int, crc: int) -> memoryview:
        """The ``size`` bytes at ``start`` (member ``name``), their CRC-32 computed in the background
        (one thread per file, members in turn: the disk reads them once, in order)."""
        view = self._view[start:start + size]

        def checksum() -> int:
            value = 0
            for at in range(0, size, _CRC_CHUNK):
                value = zlib.crc32(view[at:at + _CRC_CHUNK], value)
            return value

        try:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"crc {self.path.name}")
            pending: Future | Callable[[], int] = self._pool.submit(checksum)
        except RuntimeError:  # no thread to be had (short of memory): checked in ``check`` instead
            pending = checksum
        self._checks[name] = (pending, crc)
        return view

    def loaded(self) -> None:
        """Loading is over: drop this object's own hold on the map, so it lives exactly as long as
        the arrays that view it (the registry holds the map weakly)."""
        self._view.release()
        del self._view, self.map
        if self._pool is not None:
            self._pool.shutdown(wait=False)  # the checks already submitted still run

    def check(self) -> None:
        """Refuse a file changed since it was mapped, or a member whose bytes fail their CRC-32."""
        try:
            now = _identity(self._fd)
        except OSError as exc:
            now = (exc,)
        if now != self.identity:
            raise ProjectFileError(f"{self.path.name} changed on disk after its task data was mapped from it "
                                   "(size or modification time differ); the mapped data can no longer be "
                                   "trusted: open the project again")
        for name, (pending, crc) in list(self._checks.items()):
            if (pending.result() if isinstance(pending, Future) else pending()) != crc:
                raise ProjectFileError(f"member {name!r} of {self.path.name} is damaged: checksum mismatch "
                                       "(CRC-32 of its bytes, checked after it was mapped)")
            self._checks.pop(name, None)  # checked: later checks skip it (another thread may have too)


def mapped_archive(array: Any) -> MappedArchive | None:
    """The mapped project file ``array`` is a view of, or None (in memory, or mapped elsewhere)."""
    from modstudio.data.dataset import file_map

    found = file_map(array)
    return None if found is None else _ARCHIVES.get(found)


def check_mapped(arrays: Iterable[Any]) -> bool:
    """``MappedArchive.check`` for every project file among ``arrays``; True if any is mapped."""
    seen: dict[int, MappedArchive] = {}
    for array in arrays:
        archive = mapped_archive(array)
        if archive is not None:
            seen[id(archive)] = archive
    for archive in seen.values():
        archive.check()
    return bool(seen)
