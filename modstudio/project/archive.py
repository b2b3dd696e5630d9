"""The zip container: a reader that treats every archive as hostile, and a deterministic writer.

The reader checks the whole central directory before reading a byte of content: member names
(no absolute, ``..``, backslash or drive names; only the members our format defines), no
duplicates, symlinks, directories or encryption, and declared sizes and compression ratios
within :class:`~modstudio.project.limits.Limits`. Reading then stops at the declared size, so a
member that inflates beyond its claim is refused instead of filling memory.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Iterable

import numpy as np

from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import DEFAULT_LIMITS, Limits

PROJECT_JSON = "project.json"
WEIGHTS_RE = re.compile(r"weights/([A-Za-z0-9_-]{1,64})\.safetensors")
DATA_RE = re.compile(r"data/([A-Za-z0-9_-]{1,64})\.npz")

# Everything zipfile and zlib raise on damaged input; turned into ProjectFileError.
ZIP_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, NotImplementedError,
    ValueError, struct.error, RuntimeError, OverflowError, IndexError, KeyError, UnicodeDecodeError,
)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # identical projects give identical files
_CHUNK = 4 * 1024 * 1024
_MAX_DIRECTORY_ENTRY = 1024  # bytes of central directory per member: our names are short, extras small


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a member name we accept, or None."""
    if not name:
        return "an empty member name"
    if "\x00" in name:
        return f"member name {name!r} contains a NUL byte"
    if name.startswith("/"):
        return f"absolute member name {name!r}"
    if "\\" in name:
        return f"member name {name!r} contains a backslash"
    if re.match(r"^[A-Za-z]:", name) or ":" in name:
        return f"member name {name!r} contains a drive or colon"
    if ".." in name.split("/"):
        return f"member name {name!r} leaves the archive ('..')"
    if name.endswith("/"):
        return f"unexpected directory entry {name!r}"
    if name != PROJECT_JSON and not WEIGHTS_RE.fullmatch(name) and not DATA_RE.fullmatch(name):
        return (f"unknown member {name!r} (a project holds only project.json, "
                "weights/<run>.safetensors and data/<task>.npz)")
    return None


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular_file(path: Path) -> BinaryIO:
    """``path`` opened for reading, refused unless it is a regular file (a symlink to one is fine).

    A FIFO would block the open (or the reads) forever and a device such as /dev/zero never ends,
    so the kind is checked before opening, and again on the open descriptor (the path may have
    been swapped in between); the open itself does not block (O_NONBLOCK where there is one).
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError) as exc:
        raise ProjectFileError(f"cannot open {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(mode):
        raise ProjectFileError(f"cannot open {path}: it is {_kind_of(mode)}, not a project file")
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ProjectFileError(f"cannot open {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ProjectFileError(f"cannot open {path}: it is {_kind_of(mode)}, not a project file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class ArchiveReader:
    """Open ``path`` and vet its directory; ``read(name)`` returns a member's bytes."""

    def __init__(self, path: str | Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = Path(path)
        self.limits = limits
        self._file = open_regular_file(self.path)
        try:
            self._file.seek(0, 2)
            self.size = self._file.tell()
            self._file.seek(0)
            self._check_directory_size()
            self._zip = zipfile.ZipFile(self._file)
            self._infos = self._vet(self._zip.infolist())
        except ProjectFileError:
            self._file.close()
            raise
        except ZIP_ERRORS as exc:
            self._file.close()
            raise ProjectFileError(f"{self.path.name} is not a readable project archive "
                                   f"(damaged or truncated zip: {exc})") from None

    def __enter__(self) -> "ArchiveReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._zip.close()
        finally:
            self._file.close()

    def names(self) -> list[str]:
        return list(self._infos)

    def _check_directory_size(self) -> None:
        """Refuse a central directory too big for ``max_members`` entries before zipfile parses it
        (it builds an object per entry, so a file of millions of tiny entries would cost GBs)."""
        try:
            end = zipfile._EndRecData(self._file)  # what ZipFile reads first; absent in other versions
        except (AttributeError, *ZIP_ERRORS):
            end = None
        finally:
            self._file.seek(0)
        if not end:
            return  # not a zip: ZipFile says so
        entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
        limit = self.limits.max_members
        if entries > limit:
            raise ProjectFileError(f"the archive has {entries:,} members, more than the limit {limit:,}")
        if size > limit * _MAX_DIRECTORY_ENTRY:
            raise ProjectFileError(f"the archive's directory is {size:,} bytes, more than {limit:,} members "
                                   f"(the limit) can need")

    def _vet(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        lim = self.limits
        if len(infos) > lim.max_members:
            raise ProjectFileError(f"the archive has {len(infos)} members, more than the limit {lim.max_members}")
        vetted: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            for name in {info.orig_filename, info.filename}:
                problem = name_problem(name)
                if problem:
                    raise ProjectFileError(f"refused archive: {problem}")
            name = info.filename
            if name in vetted:
                raise ProjectFileError(f"refused archive: duplicate member {name!r}")
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                what = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
                raise ProjectFileError(f"refused archive: member {name!r} is {what}")
            if info.flag_bits & 0x1:
                raise ProjectFileError(f"refused archive: member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ProjectFileError(f"refused archive: member {name!r} uses an unsupported compression "
                                       f"method ({info.compress_type})")
            cap = lim.max_json_bytes if name == PROJECT_JSON else lim.max_member_bytes
            if info.file_size > cap:
                raise ProjectFileError(f"refused archive: member {name!r} is {info.file_size:,} bytes "
                                       f"uncompressed, over the limit of {cap:,}")
            if info.compress_size > self.size:
                raise ProjectFileError(f"refused archive: member {name!r} claims {info.compress_size:,} "
                                       f"compressed bytes in a {self.size:,}-byte file (truncated?)")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise ProjectFileError(f"refused archive: stored member {name!r} has inconsistent sizes")
            if info.file_size > lim.ratio_floor and info.file_size > lim.max_ratio * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                raise ProjectFileError(f"refused archive: member {name!r} expands {ratio:,.0f}× "
                                       f"(limit {lim.max_ratio:g}×): a zip bomb?")
            total += info.file_size
            if total > lim.max_total_bytes:
                raise ProjectFileError(f"refused archive: more than {lim.max_total_bytes:,} bytes uncompressed in total")
            vetted[name] = info
        return vetted

    def read(self, name: str) -> bytes:
        """The member's bytes, never more than it declared (checked while inflating)."""
        info = self._infos.get(name)
        if info is None:
            raise ProjectFileError(f"the archive has no member {name!r}")
        cap = info.file_size
        try:
            with self._zip.open(info) as member:
                if info.compress_type == zipfile.ZIP_STORED:
                    data = member.read(cap + 1)
                else:
                    data = _read_capped(member, cap, name)
                if len(data) != cap or member.read(1):
                    raise ProjectFileError(f"member {name!r} is not the {cap:,} bytes it declares")
        except ProjectFileError:
            raise
        except ZIP_ERRORS as exc:
            raise ProjectFileError(f"member {name!r} is damaged: {exc}") from None
        return data


    def read_buffer(self, name: str) -> np.ndarray:
        """A member as a writable uint8 array, read straight into place when stored uncompressed.

        Big weights are stored, so this skips zipfile's copies; the local header is checked
        against the directory and the CRC is verified, as zipfile would.
        """
        info = self._infos.get(name)
        if info is None:
            raise ProjectFileError(f"the archive has no member {name!r}")
        if info.compress_type != zipfile.ZIP_STORED:
            return np.frombuffer(bytearray(self.read(name)), np.uint8)
        try:
            self._file.seek(info.header_offset)
            local = self._file.read(30)
            if len(local) != 30 or local[:4] != b"PK\x03\x04":
                raise ProjectFileError(f"member {name!r} is damaged: bad local header")
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            local_name = self._file.read(name_len)
            encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
            if local_name.decode(encoding) != info.orig_filename:
                raise ProjectFileError(f"member {name!r} is damaged: its local header names another file")
            start = info.header_offset + 30 + name_len + extra_len
            if start + info.file_size > self.size:
                raise ProjectFileError(f"member {name!r} runs past the end of the file (truncated?)")
            buffer = np.empty(info.file_size, np.uint8)
            self._file.seek(start)
            if self._file.readinto(memoryview(buffer)) != info.file_size:
                raise ProjectFileError(f"member {name!r} is truncated")
        except ProjectFileError:
            raise
        except ZIP_ERRORS as exc:
            raise ProjectFileError(f"member {name!r} is damaged: {exc}") from None
        if zlib.crc32(buffer) != info.CRC:
            raise ProjectFileError(f"member {name!r} is damaged: checksum mismatch")
        return buffer


def _read_capped(member: BinaryIO, cap: int, name: str) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = member.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > cap:
            raise ProjectFileError(f"member {name!r} inflates beyond the {cap:,} bytes it declares")
        chunks.append(chunk)


class ArchiveWriter:
    """Writes members with fixed timestamps so equal projects give equal bytes."""

    def __init__(self, fileobj: BinaryIO) -> None:
        self._zip = zipfile.ZipFile(fileobj, "w", allowZip64=True)

    def write(self, name: str, data: bytes, *, compress: bool) -> None:
        info = self._info(name, compress)
        info.file_size = len(data)
        with self._zip.open(info, "w") as out:
            out.write(data)

    @staticmethod
    def _info(name: str, compress: bool) -> zipfile.ZipInfo:
        assert name_problem(name) is None, name
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        info.create_system = 3
        return info

    def write_parts(self, name: str, size: int, parts: Iterable[memoryview]) -> None:
        """Stream a stored member from chunks (tensor memory) without joining them first."""
        info = self._info(name, compress=False)
        info.file_size = size  # lets zipfile pick ZIP64 up front for big members
        parts = list(parts)
        with self._zip.open(info, "w") as out:
            if all(hasattr(out, a) for a in ("_fileobj", "_crc", "_file_size", "_compress_size")):
                written = _write_stored_overlapping_crc(out, parts)
            else:  # another zipfile implementation: its own write (CRC, then bytes)
                written = sum(out.write(part) for part in parts)
        assert written == size, (name, written, size)

    def close(self) -> None:
        self._zip.close()

    def abort(self) -> None:
        """Drop a half-written archive without writing its directory (the caller discards the file)."""
        self._zip.fp = None  # ZipFile.close (and __del__) then do nothing


def _crc32_of(parts: list[memoryview]) -> int:
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return crc


def _write_stored_overlapping_crc(out, parts: list[memoryview]) -> int:
    """Write a stored member's bytes while another thread computes its CRC-32.

    zipfile computes the CRC and then writes, chunk by chunk, in one thread; both steps release
    the GIL on large buffers, so overlapping them nearly halves the time of saving big weights.
    The header zipfile rewrites on close then carries the CRC computed here; a wrong one would
    fail every load (zipfile checks it when a member is read), which the round-trip tests check.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        crc = pool.submit(_crc32_of, parts)
        written = 0
        for part in parts:
            out._fileobj.write(part)
            written += part.nbytes
        out._crc = crc.result()
    out._file_size = out._compress_size = written
    return written
