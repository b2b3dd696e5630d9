"""Embedded task data as ``.npz`` bytes, read without pickle and without trusting the inner zip.

An ``.npz`` is itself a zip, so it gets the same defences as the outer archive (names, sizes,
compression ratio, capped reads); each ``.npy`` is then read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np

from modstudio.project.archive import ZIP_ERRORS, _read_capped
from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import DEFAULT_LIMITS, Limits

_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DATA_KINDS = "biufcUS"


def encode(arrays: dict[str, np.ndarray], compress: bool = True, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """npz bytes; ``compress=False`` for a file that is read back at once (a training process's input).

    Written as ``numpy.savez`` does (one ``.npy`` per array) but with fixed timestamps, so equal
    data gives equal bytes, and only in a form ``decode`` accepts under ``limits``: an array that
    deflates more than ``max_ratio`` (say, all zeros) is stored uncompressed instead, so it is
    not mistaken for a zip bomb when the file is opened.
    """
    for key, array in arrays.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ProjectFileError(f"cannot embed array {key!r}: names must be letters, digits, '_', '.', '-'")
        if not isinstance(array, np.ndarray) or array.dtype.kind not in DATA_KINDS or array.dtype.hasobject:
            raise ProjectFileError(f"cannot embed array {key!r}: only numeric or text arrays can be stored")
        if array.nbytes > limits.max_member_bytes:
            raise ProjectFileError(f"cannot embed array {key!r}: {array.nbytes:,} bytes is over the limit of "
                                   f"{limits.max_member_bytes:,}")
    stored: set[str] = set() if compress else set(arrays)
    while True:
        data = _write(arrays, stored)
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
            dense = {info.filename[:-4] for info in inner.infolist() if _too_dense(info, limits)}
        if not dense - stored:
            return data
        stored |= dense


def _too_dense(info: zipfile.ZipInfo, limits: Limits) -> bool:
    return info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1)


def _write(arrays: dict[str, np.ndarray], stored: set[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if key in stored else zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, array, allow_pickle=False)
    return buffer.getvalue()


def decode(data: bytes, what: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, np.ndarray]:
    """The arrays in npz ``data``; ProjectFileError naming ``what`` on any problem."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as inner:
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
                with inner.open(info) as member:
                    raw = _read_capped(member, info.file_size, f"{what}:{key}")
                arrays[key] = _read_npy(raw, f"{what}: array {key!r}")
            return arrays
    except ProjectFileError:
        raise
    except (*ZIP_ERRORS, TypeError, SyntaxError, MemoryError) as exc:
        raise ProjectFileError(f"{what} is not a valid .npz file: {exc}") from None


def _read_npy(raw: bytes, what: str) -> np.ndarray:
    """Check the .npy header against the bytes present before numpy allocates the array."""
    fp = io.BytesIO(raw)
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
    if count * dtype.itemsize != len(raw) - fp.tell():
        raise ProjectFileError(f"{what} declares shape {shape} of {dtype} but holds {len(raw) - fp.tell():,} bytes")
    fp.seek(0)
    return np.lib.format.read_array(fp, allow_pickle=False)
