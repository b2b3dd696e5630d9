"""Embedded task data as ``.npz``, written once from the arrays' memory and read without pickle
and without trusting the inner zip.

Written as ``numpy.savez`` writes (one stored ``.npy`` per array, ZIP64 headers) with fixed
timestamps, so equal data gives equal bytes; nothing is compressed, since float data barely
deflates and deflating it cost 40× the write. Files from before (arrays deflated inside) still
load. An ``.npz`` is itself a zip, so it gets the same defences as the outer archive (names,
sizes, compression ratio, capped reads); each ``.npy`` header is checked against the bytes
present before an array is made, and nothing is ever unpickled.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import BinaryIO

import numpy as np

from modstudio.project.archive import ZIP_ERRORS, MemberWindow, _read_capped, stored_data_start
from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import DEFAULT_LIMITS, Limits

_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DATA_KINDS = "biufcUS"
_TIME = (1980, 1, 1, 0, 0, 0)
_HEADER_READ = 64 * 1024  # more than numpy reads of an .npy header (it refuses over 10,000 bytes)
_PER_MEMBER = 30 + 20 + 46 + 28  # local header + ZIP64 extra, directory entry + ZIP64 extra
_END = 22 + 56 + 20  # end of directory records, ZIP64 included


def check_arrays(arrays: dict[str, np.ndarray], limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse what could not be embedded, or would not load under ``limits``."""
    for key, array in arrays.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ProjectFileError(f"cannot embed array {key!r}: names must be letters, digits, '_', '.', '-'")
        if not isinstance(array, np.ndarray) or array.dtype.kind not in DATA_KINDS or array.dtype.hasobject:
            raise ProjectFileError(f"cannot embed array {key!r}: only numeric or text arrays can be stored")
        if array.nbytes > limits.max_member_bytes:
            raise ProjectFileError(f"cannot embed array {key!r}: {array.nbytes:,} bytes is over the limit of "
                                   f"{limits.max_member_bytes:,}")


def _npy_header(array: np.ndarray) -> bytes:
    """The .npy header numpy writes for ``array`` (format 1.0, or 2.0 when that is too small)."""
    fp = io.BytesIO()
    d = np.lib.format.header_data_from_array_1_0(array)
    try:
        np.lib.format.write_array_header_1_0(fp, d)
    except ValueError:
        fp = io.BytesIO()
        np.lib.format.write_array_header_2_0(fp, d)
    return fp.getvalue()


def size_bound(arrays: dict[str, np.ndarray]) -> int:
    """At least the bytes :func:`write` will write for ``arrays``."""
    return _END + sum(_PER_MEMBER + 2 * (len(key) + 4) + len(_npy_header(a)) + a.nbytes for key, a in arrays.items())


def write(out: MemberWindow, arrays: dict[str, np.ndarray], limits: Limits = DEFAULT_LIMITS) -> None:
    """Write ``arrays`` as an npz into ``out``; each array's bytes go from its memory to the file.

    zipfile computes each inner member's CRC-32 as it writes (as for ``numpy.savez``); the window
    takes those for the outer member's CRC, so no byte is checksummed twice.
    """
    check_arrays(arrays, limits)
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for key, array in arrays.items():
            array = np.ascontiguousarray(array)  # a view of C-ordered data, as task arrays are
            header = _npy_header(array)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_TIME)
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as member:
                start = out.tell()
                with out.payload():
                    member.write(header)
                    member.write(array.reshape(-1).view(np.uint8))
            out.piece(start, info.file_size, info.CRC)


class _BufferFile(io.RawIOBase):
    """A read-only file over a buffer, so zipfile reads the npz's directory without copying it."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        if base + offset < 0:
            raise OSError("seek before the start")
        self._pos = base + offset
        return self._pos

    def readinto(self, target) -> int:
        chunk = self._view[self._pos:self._pos + len(target)]
        memoryview(target).cast("B")[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def decode(data, what: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, np.ndarray]:
    """The arrays in npz ``data`` (bytes, or a buffer such as ``ArchiveReader.read_buffer`` gives);
    ProjectFileError naming ``what`` on any problem.

    Stored arrays are views into ``data``, never copied here: the outer member's CRC-32, checked
    when it was read, covers their bytes, so they are not checksummed again. Deflated arrays
    (files written before arrays were stored) are inflated, capped at their declared size, and
    checked by zipfile against their own CRC-32.
    """
    view = memoryview(data).cast("B")
    try:
        fp = _BufferFile(view)
        with zipfile.ZipFile(fp) as inner:
            infos = inner.infolist()
            if len(infos) > limits.max_members:
                raise ProjectFileError(f"{what}: too many arrays ({len(infos)})")
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                key = info.filename[:-4] if info.filename.endswith(".npy") else ""
                if not _KEY.fullmatch(key) or info.orig_filename != info.filename:
                    raise ProjectFileError(f"{what}: unexpected member {info.filename!r}")
                if key in arrays:
                    raise ProjectFileError(f"{what}: duplicate array {key!r}")
                if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ProjectFileError(f"{what}: array {key!r} is encrypted or uses an unsupported compression")
                if info.file_size > limits.max_member_bytes or _too_dense(info, limits):
                    raise ProjectFileError(f"{what}: array {key!r} declares {info.file_size:,} bytes "
                                           f"from {info.compress_size:,} compressed: over the limits (zip bomb?)")
                label = f"{what}: array {key!r}"
                if info.compress_type == zipfile.ZIP_STORED:
                    if info.compress_size != info.file_size:
                        raise ProjectFileError(f"{label} has inconsistent sizes")
                    start = stored_data_start(fp, info, len(view), label)
                    raw = view[start:start + info.file_size]
                else:
                    with inner.open(info) as member:
                        raw = memoryview(_read_capped(member, info.file_size, f"{what}:{key}"))
                arrays[key] = _read_npy(raw, label)
            return arrays
    except ProjectFileError:
        raise
    except (*ZIP_ERRORS, TypeError, SyntaxError, MemoryError) as exc:
        raise ProjectFileError(f"{what} is not a valid .npz file: {exc}") from None


def _too_dense(info: zipfile.ZipInfo, limits: Limits) -> bool:
    return info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1)


def _read_npy(raw: memoryview, what: str) -> np.ndarray:
    """The array in .npy bytes ``raw``, as a view of them: the header is checked against the bytes
    present, and only plain numeric or text dtypes are accepted (never pickled objects)."""
    fp: BinaryIO = io.BytesIO(raw[:_HEADER_READ])
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ProjectFileError(f"{what} uses unsupported .npy version {version}")
    if dtype.kind not in DATA_KINDS or dtype.fields or dtype.hasobject:
        raise ProjectFileError(f"{what} has unsupported dtype {dtype}")
    count = 1
    for n in shape:
        count *= n
    offset = fp.tell()
    if count * dtype.itemsize != len(raw) - offset:
        raise ProjectFileError(f"{what} declares shape {shape} of {dtype} but holds {len(raw) - offset:,} bytes")
    array = np.frombuffer(raw, dtype, count=count, offset=offset)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
