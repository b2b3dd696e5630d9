"""The NumPy readers: a single .npy (features, labels from a second file or a column) and .npz
archives (features, labels and optional class names under keys).

The sizes a file declares (the .npy header's shape and dtype, the zip directory's member sizes)
are computed with Python ints and compared with the bytes present, or with ``max_bytes`` for
compressed members, before anything is allocated, and decompression stops at the declared size;
the declared bytes are read once into the array returned. Pickles are never loaded (object
arrays are refused).
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from modstudio.data.errors import DataError, human_bytes
from modstudio.data.importers.files import _guard, _open_file, _read_exact, _read_into
from modstudio.data.importers.labels import _labels_of, _labels_path, _numeric, _texts
from modstudio.data.importers.options import _is_int, _limit, _refuse_unknown, _show, _text_option

MAX_NPY_HEADER = 10_000
"""Longest .npy header in bytes (NumPy's own limit for safe loading)."""

MAX_NPY_DIMS = 32
"""Most dimensions an array in a .npy/.npz file may declare."""

MAX_NPZ_MEMBERS = 1000
"""Most members an .npz archive may hold."""

_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand by more: a larger claim is a lie
try:
    from lzma import LZMAError as _LZMA_ERROR
except ImportError:  # a Python built without lzma: zipfile cannot read such members either
    _LZMA_ERROR = OSError
# Everything zipfile and its decompressors raise on damaged input (DataError is caught first).
_ZIP_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, _LZMA_ERROR, EOFError, OSError,
    NotImplementedError, ValueError, struct.error, RuntimeError, OverflowError, IndexError, KeyError,
)


def read_npy(f: BinaryIO, size: int, what: str) -> np.ndarray:
    """One array from a binary stream ``f`` that holds exactly ``size`` bytes of ``.npy`` data.

    The header is parsed on its own (at most ``MAX_NPY_HEADER`` bytes) and the shape and dtype
    it declares are checked against ``size`` in Python ints before anything is allocated; object
    (pickled), structured and sub-array dtypes are refused. DataError names ``what``.
    """
    prefix = _read_exact(f, min(size, 8))
    if len(prefix) < 8 or prefix[:6] != b"\x93NUMPY":
        raise DataError(f"{what}: not a readable .npy file (no NumPy header)")
    version = (prefix[6], prefix[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise DataError(f"{what}: not a readable .npy file (unknown format version {version[0]}.{version[1]})")
    width = 2 if version == (1, 0) else 4
    length_bytes = _read_exact(f, width)
    if len(length_bytes) < width:
        raise DataError(f"{what}: not a readable .npy file (the header is truncated)")
    length = int.from_bytes(length_bytes, "little")
    start = 8 + width + length
    if length > MAX_NPY_HEADER:
        raise DataError(f"{what}: the .npy header is {length:,} bytes, over the limit of {MAX_NPY_HEADER:,}")
    if start > size:
        raise DataError(f"{what}: not a readable .npy file (the header is truncated)")
    header = _read_exact(f, length)
    if len(header) < length:
        raise DataError(f"{what}: not a readable .npy file (the header is truncated)")
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy warns when it falls back to Python 2 header syntax
            shape, fortran, dtype = reader(io.BytesIO(length_bytes + header), max_header_size=MAX_NPY_HEADER)
    except Exception as exc:  # noqa: BLE001 - NumPy's parser of untrusted text; anything it raises means "bad header"
        raise DataError(f"{what}: not a readable .npy file (bad header: {_show(str(exc))[1:-1]})") from None
    if dtype.hasobject:
        raise DataError(f"{what} holds Python objects (pickled data is never loaded)")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind == "V" or dtype.itemsize == 0:
        raise DataError(f"{what}: unsupported dtype {dtype} (expected numbers or text)")
    if len(shape) > MAX_NPY_DIMS or any(n < 0 for n in shape):
        raise DataError(f"{what}: not a readable .npy file (bad shape {_show(shape)})")
    count = math.prod(shape)
    declared = count * dtype.itemsize
    present = size - start
    if declared != present:
        raise DataError(
            f"{what} declares shape {shape} of {dtype} ({human_bytes(declared)}) but holds "
            f"{human_bytes(present)} of data"
        )
    out = np.empty(count, dtype=dtype)
    got = _read_into(f, out.view(np.uint8)) if count else 0
    if got != declared:
        raise DataError(f"{what}: the data is truncated ({got:,} of {declared:,} bytes)")
    if f.read(1):
        raise DataError(f"{what}: extra bytes after the {shape} array")
    if dtype.kind == "U" and count:
        codes = out.view(np.dtype(np.uint32).newbyteorder(dtype.byteorder if dtype.byteorder in "<>" else "="))
        if codes.max() > 0x10FFFF:
            raise DataError(f"{what}: text that is not valid Unicode")
    return out.reshape(shape[::-1]).transpose() if fortran else out.reshape(shape)


def _load_npy(p: Path, limit: int) -> np.ndarray:
    with _open_file(p, limit) as (f, size):
        return read_npy(f, size, p.name)


def _npz_members(zf: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > MAX_NPZ_MEMBERS:
        raise DataError(f"{name}: the archive has {len(infos):,} members, over the limit of {MAX_NPZ_MEMBERS:,}")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in members:
            raise DataError(f"{name}: the archive holds array {key!r} twice")
        members[key] = info
    return members


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> np.ndarray:
    """A member's array, its compression and declared size checked before it is inflated."""
    if info.flag_bits & 0x1:
        raise DataError(f"{what} is encrypted")
    methods = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
    if info.compress_type not in methods:
        raise DataError(f"{what} uses an unsupported compression (method {info.compress_type})")
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise DataError(f"{what} is stored with {info.compress_size:,} bytes but declares {info.file_size:,}")
    if info.compress_type == zipfile.ZIP_DEFLATED and \
            info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024:
        raise DataError(f"{what} declares {info.file_size:,} bytes from {info.compress_size:,} compressed, "
                        "more than deflate can hold (a zip bomb?)")
    with zf.open(info) as member:
        return read_npy(member, info.file_size, what)


def _npz(p: Path, options: dict):
    """NPZ with features under ``x_key`` (default "x") and labels under ``y_key`` (default "y");
    an optional string array under ``names_key`` (default "class_names") names the classes."""
    limit = _limit(options)
    x_key = _text_option(options.pop("x_key", "x"), "x_key")
    y_key = _text_option(options.pop("y_key", "y"), "y_key")
    names_key = _text_option(options.pop("names_key", "class_names"), "names_key")
    _refuse_unknown(options, "NPZ")
    if x_key == y_key:
        raise DataError(f"x_key and y_key must name different arrays, both are {x_key!r}")
    with _open_file(p, limit) as (f, _size):
        try:
            with zipfile.ZipFile(f) as zf:
                members = _npz_members(zf, p.name)
                keys = list(members)
                for key in (x_key, y_key):
                    if key not in members:
                        shown = keys if len(keys) <= 20 else keys[:20] + ["…"]
                        raise DataError(f"{p.name}: no array named {key!r}; the file has {shown}")
                wanted = [x_key, y_key] + ([names_key] if names_key in members and names_key not in
                                           (x_key, y_key) else [])
                _guard(sum(members[k].file_size for k in wanted), limit, f"{p.name} (uncompressed)")
                arrays = {k: _read_member(zf, members[k], f"{p.name}: array {k!r}") for k in wanted}
        except DataError:
            raise
        except _ZIP_ERRORS as exc:
            raise DataError(f"{p.name}: not a readable .npz file ({exc})") from None
    x, raw_y = arrays[x_key], arrays[y_key]
    raw_names = arrays.get(names_key)
    y, names = _labels_of(raw_y, f"{p.name}: array {y_key!r}")
    if raw_names is not None:
        if raw_names.dtype.kind not in "US" or raw_names.ndim != 1:
            raise DataError(f"{p.name}: {names_key!r} must be a 1-D array of strings")
        if raw_y.dtype.kind in "US":
            raise DataError(f"{p.name}: {names_key!r} needs integer labels in {y_key!r}, not strings")
        given = _texts(raw_names, f"{p.name}: array {names_key!r}")
        top = int(names[-1])  # names are the sorted label values, already checked
        if len(given) <= top:
            raise DataError(
                f"{p.name}: {names_key!r} has {len(given)} names but label {top} needs at least {top + 1}"
            )
        names = [given[int(v)] for v in names]
    if np.ndim(x) >= 1 and len(x) != len(y):
        raise DataError(f"{p.name}: {x_key!r} has {len(x)} samples but {y_key!r} has {len(y)} labels")
    return _numeric(x, f"{p.name}: array {x_key!r}"), y, names, f"NumPy archive {p}"


def _npy(p: Path, options: dict):
    """A single .npy holds only features, so labels come from ``labels=`` (a .npy of labels, one
    per sample) or from ``label_column=`` (an index into a 2-D array's columns)."""
    limit = _limit(options)
    labels = options.pop("labels", None)
    label_column = options.pop("label_column", None)
    _refuse_unknown(options, "NPY")
    if (labels is None) == (label_column is None):
        raise DataError(
            f"{p.name}: a .npy file has no labels; pass labels=<labels .npy file> or "
            "label_column=<column index> (not both)"
        )
    if label_column is not None and not _is_int(label_column):
        raise DataError(f"{p.name}: label_column must be a column index, got {_show(label_column)}")
    lp = _labels_path(labels) if labels is not None else None
    x = _load_npy(p, limit)
    if lp is not None:
        raw_y = _load_npy(lp, limit)
        y, names = _labels_of(raw_y, f"labels file {lp.name}")
        if x.ndim >= 1 and len(x) != len(y):
            raise DataError(f"{p.name} has {len(x)} samples but {lp.name} has {len(y)} labels")
        return _numeric(x, p.name), y, names, f"NumPy arrays {p} with labels {lp}"
    if x.ndim != 2:
        raise DataError(f"{p.name}: label_column needs a 2-D array, got shape {x.shape}")
    if not -x.shape[1] <= label_column < x.shape[1]:
        raise DataError(f"{p.name}: label_column {_show(label_column)} is not a column index for {x.shape[1]} columns")
    col = int(label_column) % x.shape[1]
    if x.shape[1] < 2:
        raise DataError(f"{p.name}: the array has only the label column, no features")
    y, names = _labels_of(x[:, col], f"{p.name}: column {col}")
    return _numeric(np.delete(x, col, axis=1), p.name), y, names, f"NumPy array {p}"
