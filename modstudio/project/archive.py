"""The zip container: a reader that treats every archive as hostile, and a deterministic writer.

The reader checks the whole central directory before reading a byte of content: member names
(no absolute, ``..``, backslash or drive names; only the members our format defines), no
duplicates, symlinks, directories or encryption, and declared sizes and compression ratios
within :class:`~modstudio.project.limits.Limits`. Reading then stops at the declared size, so a
member that inflates beyond its claim is refused instead of filling memory.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import struct
import sys
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

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
_CRC_CHUNK = 1024 * 1024  # read and checksummed alongside: small enough that the two overlap
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
        self._spare: np.ndarray | None = None
        self._mapped = None  # a MappedArchive once a member is mapped
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
            if self._mapped is not None:
                self._mapped.loaded()
                self._mapped = None
            self._zip.close()
        finally:
            self._file.close()

    def can_map(self, name: str) -> bool:
        """Whether member ``name`` is stored, so :meth:`map_member` can map it."""
        info = self._infos.get(name)
        return info is not None and info.compress_type == zipfile.ZIP_STORED

    def member_size(self, name: str) -> int:
        return self._infos[name].file_size

    def map_member(self, name: str) -> memoryview:
        """A stored member as a read-only view of the file mapped into memory, never read or copied
        (``project/mapping.py``: its CRC-32 is checked in the background, the file watched)."""
        from modstudio.project.mapping import MappedArchive

        info = self._infos.get(name)
        if info is None:
            raise ProjectFileError(f"the archive has no member {name!r}")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ProjectFileError(f"member {name!r} is compressed and cannot be mapped")
        try:
            start = stored_data_start(self._file, info, self.size, f"member {name!r}")
            if self._mapped is None:
                self._mapped = MappedArchive(self._file, self.path)
        except ProjectFileError:
            raise
        except (*ZIP_ERRORS, MemoryError) as exc:
            raise ProjectFileError(f"cannot map member {name!r} of {self.path.name}: {exc}") from None
        return self._mapped.member(name, start, info.file_size, info.CRC)

    def names(self) -> list[str]:
        return list(self._infos)

    def _scratch(self, size: int) -> np.ndarray:
        """``size`` bytes of the scratch buffer; a new one when it is too small or still in use.

        In use means referred to by anything but this attribute (and getrefcount's argument): a
        view, an array made from it, a memoryview all hold a reference to it, so bytes someone
        still reads are never overwritten.
        """
        if self._spare is None or self._spare.size < size or sys.getrefcount(self._spare) > 2:
            self._spare = np.empty(size, np.uint8)
        return self._spare[:size]

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


    def read_buffer(self, name: str, scratch: bool = False) -> np.ndarray:
        """A member as a writable uint8 array, read straight into place when stored uncompressed.

        Big weights and task data are stored, so this skips zipfile's copies; the local header is
        checked against the directory and the CRC-32 is verified (the one pass over the bytes
        that checks them: zipfile would do the same), computed while the rest is still being read.
        ``scratch``: the bytes are wanted only until they are copied (task data), so they may go
        into the buffer of an earlier such read that nothing refers to any more, already in memory,
        instead of fresh memory the system must first map in.
        """
        info = self._infos.get(name)
        if info is None:
            raise ProjectFileError(f"the archive has no member {name!r}")
        if info.compress_type != zipfile.ZIP_STORED:
            return np.frombuffer(bytearray(self.read(name)), np.uint8)
        try:
            start = stored_data_start(self._file, info, self.size, f"member {name!r}")
            buffer = self._scratch(info.file_size) if scratch else np.empty(info.file_size, np.uint8)
            self._file.seek(start)
            crc = _read_into_with_crc(self._file, memoryview(buffer))
        except ProjectFileError:
            raise
        except ZIP_ERRORS as exc:
            raise ProjectFileError(f"member {name!r} is damaged: {exc}") from None
        if crc is None:
            raise ProjectFileError(f"member {name!r} is truncated")
        if crc != info.CRC:
            raise ProjectFileError(f"member {name!r} is damaged: checksum mismatch (CRC-32 of its bytes)")
        return buffer


def stored_data_start(fp: BinaryIO, info: zipfile.ZipInfo, size: int, what: str) -> int:
    """Where a stored member's bytes begin in ``fp`` (a zip of ``size`` bytes), its local header
    checked against the directory entry ``info`` as zipfile checks it."""
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise ProjectFileError(f"{what} is damaged: bad local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    local_name = fp.read(name_len)
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if local_name.decode(encoding) != info.orig_filename:
        raise ProjectFileError(f"{what} is damaged: its local header names another file")
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.file_size > size:
        raise ProjectFileError(f"{what} runs past the end of the file (truncated?)")
    return start


def _read_into_with_crc(fp: BinaryIO, view: memoryview) -> int | None:
    """Fill ``view`` from ``fp`` while another thread computes the CRC-32 of what has arrived;
    None if the file ends first. Both release the GIL, so reading and checking overlap."""
    if len(view) <= _CRC_CHUNK:  # nothing to overlap
        got = fp.readinto(view) if len(view) else 0
        return zlib.crc32(view) if got == len(view) else None
    crc = [0]

    def update(part: memoryview) -> None:  # one worker: runs in the order submitted
        crc[0] = zlib.crc32(part, crc[0])

    done = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        while done < len(view):
            got = fp.readinto(view[done:done + _CRC_CHUNK])
            if not got:
                return None
            if pool is None:
                update(view[done:done + got])
            else:
                try:
                    pool.submit(update, view[done:done + got])
                except RuntimeError:  # no thread to be had (short of memory): checksum here instead
                    pool.shutdown(wait=True)  # what it took is done, in order
                    pool = None
                    update(view[done:done + got])
            done += got
    return crc[0]


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

    def write_zip(self, name: str, size_bound: int, fill: Callable[["MemberWindow"], None]) -> int:
        """Write a stored member whose content is itself a zip (an npz) in place; its size.

        ``fill`` writes the content into a :class:`MemberWindow` over the archive file, so big
        arrays go to the file once, from their own memory. The member's CRC-32 is assembled from
        the CRCs the inner zip computed of its members (:func:`crc32_combine`) and the few header
        bytes around them: no byte is checksummed twice. ``size_bound`` (at least the size) lets
        zipfile choose ZIP64 up front, as for ``write_parts``.
        """
        info = self._info(name, compress=False)
        info.file_size = size_bound
        with self._zip.open(info, "w") as out:
            if not all(hasattr(out, a) for a in ("_fileobj", "_crc", "_file_size", "_compress_size")):
                buffer = io.BytesIO()  # another zipfile implementation: build it, let zipfile checksum it
                window = MemberWindow(buffer)
                fill(window)
                out.write(buffer.getbuffer())
                return window.size
            window = MemberWindow(out._fileobj)
            fill(window)
            window.seek(window.size)
            out._crc = window.crc32()
            out._file_size = out._compress_size = window.size
        return window.size

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


class MemberWindow:
    """A seekable file seen from one member's first byte: an inner zip is written into it in place.

    Bytes written inside :meth:`payload` (an inner member's content) are not kept: their CRC-32
    is recorded with :meth:`piece` from the inner zip's own. Everything else (local headers,
    patched when an inner member closes, and the inner directory) is small and is kept, so
    :meth:`crc32` gives the CRC of the whole member without reading it back.
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._start = file.tell()
        self.size = 0
        self._kept: list[tuple[int, bytes]] = []
        self._pieces: list[tuple[int, int, int]] = []
        self._quiet = False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._file.tell() - self._start

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self.tell()
        elif whence == 2:
            offset += self.size
        self._file.seek(self._start + offset)
        return offset

    def write(self, data) -> int:
        at = self.tell()
        view = memoryview(data).cast("B")
        self._file.write(view)
        if not self._quiet:
            self._kept.append((at, bytes(view)))
        self.size = max(self.size, at + len(view))
        return len(view)

    def flush(self) -> None:
        self._file.flush()

    @contextlib.contextmanager
    def payload(self) -> Iterator[None]:
        """Writes inside are an inner member's content, checksummed by the inner zip."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def piece(self, offset: int, size: int, crc: int) -> None:
        """The ``size`` bytes at ``offset``, written inside :meth:`payload`, have CRC-32 ``crc``."""
        self._pieces.append((offset, size, crc))

    def crc32(self) -> int:
        """The CRC-32 of all bytes written: the kept ones, and the pieces by their own CRCs."""
        crc, at = 0, 0
        for offset, size, piece_crc in sorted(self._pieces) + [(self.size, 0, 0)]:
            if offset < at:
                raise ValueError("overlapping pieces")
            crc = zlib.crc32(self._between(at, offset), crc)
            crc = crc32_combine(crc, piece_crc, size)
            at = offset + size
        return crc

    def _between(self, start: int, end: int) -> bytes:
        """The kept bytes of [start, end), the later write winning; every byte must have been kept."""
        out = bytearray(end - start)
        covered = bytearray(end - start)
        for at, data in self._kept:
            lo, hi = max(at, start), min(at + len(data), end)
            if lo < hi:
                out[lo - start:hi - start] = data[lo - at:hi - at]
                covered[lo - start:hi - start] = b"\x01" * (hi - lo)
        if covered.count(0):
            raise ValueError(f"bytes {start}..{end} of the member were neither kept nor a piece")
        return bytes(out)


_CRC_POLY = 0xEDB88320


def _gf2_times(matrix: tuple[int, ...], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


@lru_cache(maxsize=None)
def _zeros_operator(power: int) -> tuple[int, ...]:
    """The GF(2) matrix that advances a CRC-32 over 2**power zero bytes (zlib's crc32_combine)."""
    if power == 0:  # one zero byte: eight one-bit steps
        bit = (_CRC_POLY,) + tuple(1 << n for n in range(31))
        m = bit
        for _ in range(3):
            m = tuple(_gf2_times(m, m[n]) for n in range(32))
        return m
    half = _zeros_operator(power - 1)
    return tuple(_gf2_times(half, half[n]) for n in range(32))


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of A + B from crc32(A), crc32(B) and len(B), as zlib's crc32_combine (not in Python)."""
    power = 0
    while length2:
        if length2 & 1:
            crc1 = _gf2_times(_zeros_operator(power), crc1)
        length2 >>= 1
        power += 1
    return crc1 ^ crc2
