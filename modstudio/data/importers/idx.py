"""The IDX reader (MNIST's format), plain or gzip, with the labels file found by MNIST's naming.

The magic number and the declared dimensions (Python ints) are checked before the body is read:
against the bytes present for a plain file, against ``max_bytes`` for gzip, whose decompression
stops at the declared size; the declared bytes are read once into the array returned.
"""

from __future__ import annotations

import gzip
import math
import re
import struct
import zlib
from contextlib import nullcontext
from pathlib import Path
from typing import BinaryIO

import numpy as np

from modstudio.data.dataset import encode_labels
from modstudio.data.errors import DataError
from modstudio.data.importers.files import MAX_BYTES, _guard, _open_file, _read_into
from modstudio.data.importers.labels import _labels_path, _numeric
from modstudio.data.importers.options import _bool_option, _limit, _refuse_unknown, _user_path
from modstudio.data.values import UNIT, Encoded

_IDX_NAME = re.compile(r"idx\d-ubyte(\.gz)?$", re.IGNORECASE)
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(p: str | Path, limit: int = MAX_BYTES) -> np.ndarray:
    """One IDX array (plain or gzip). The magic number and the declared size (in Python ints)
    are checked before the body is read: against the bytes present for a plain file, against
    ``limit`` for gzip, whose decompression stops at the declared size."""
    p = _user_path(p, "an IDX path")
    limit = _limit({"max_bytes": limit})
    with _open_file(p, limit) as (raw, size):
        try:
            gz = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            with (gzip.GzipFile(fileobj=raw, mode="rb") if gz else nullcontext(raw)) as f:
                return _idx_body(f, p.name, size, gz, limit)
        except DataError:
            raise
        except (OSError, EOFError, zlib.error, ValueError, struct.error) as exc:
            raise DataError(f"{p.name}: cannot read IDX file ({exc})") from None


def _idx_body(f: BinaryIO, name: str, size: int, gz: bool, limit: int) -> np.ndarray:
    magic = f.read(4)
    if len(magic) != 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_TYPES:
        raise DataError(f"{name}: not an IDX file (bad magic number {magic.hex() or 'empty'})")
    ndim = magic[3]
    if not 1 <= ndim <= 4:
        raise DataError(f"{name}: IDX file declares {ndim} dimensions (expected 1 to 4)")
    raw = f.read(4 * ndim)
    if len(raw) != 4 * ndim:
        raise DataError(f"{name}: IDX header is truncated")
    dims = struct.unpack(f">{ndim}I", raw)
    dtype = np.dtype(_IDX_TYPES[magic[2]])
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
    if not gz:
        present = size - 4 - 4 * ndim
        if expected > present:
            raise DataError(f"{name}: IDX data is truncated ({present:,} of {expected:,} bytes for shape {dims})")
        if expected < present:
            raise DataError(f"{name}: IDX file has extra bytes after the {dims} array")
    _guard(expected, limit, f"{name} (declared data size)")
    body = np.empty(expected, dtype=np.uint8)
    got = _read_into(f, body)
    if got != expected:
        raise DataError(f"{name}: IDX data is truncated ({got:,} of {expected:,} bytes for shape {dims})")
    if f.read(1):  # gzip: decompressed beyond the declared size, stopped here
        raise DataError(f"{name}: IDX file has extra bytes after the {dims} array")
    return body.view(dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def _guess_labels(p: Path) -> list[Path]:
    name = p.name
    stem = re.sub(r"idx\d-ubyte", "idx1-ubyte", name, flags=re.IGNORECASE)
    stem = stem.replace("images", "labels").replace("Images", "Labels")
    base = stem[:-3] if stem.endswith(".gz") else stem
    return [p.with_name(base), p.with_name(base + ".gz")]


def _idx(p: Path, options: dict):
    """IDX images (N, H, W) → (N, 1, H, W); labels from ``labels=`` or the MNIST naming
    convention (train-images-idx3-ubyte → train-labels-idx1-ubyte, with or without .gz).
    uint8 images stay bytes, read as [0, 1] (``UNIT``), unless ``scale=False`` (their values as numbers)."""
    limit = _limit(options)
    labels = options.pop("labels", None)
    scale = _bool_option(options.pop("scale", True), "scale")
    _refuse_unknown(options, "IDX")
    lp = _labels_path(labels) if labels is not None else None
    x = read_idx(p, limit)
    if x.ndim == 1:
        raise DataError(f"{p.name}: this is a 1-D IDX file (labels); choose the images file instead")
    if lp is None:
        candidates = [c for c in _guess_labels(p) if c.is_file() and c != p]
        if not candidates:
            raise DataError(
                f"{p.name}: no labels file found (looked for {_guess_labels(p)[0].name}[.gz]); "
                "pass labels=<path>"
            )
        lp = candidates[0]
    raw_y = read_idx(lp, limit)
    if raw_y.ndim != 1:
        raise DataError(f"{lp.name}: a labels IDX file must be 1-D, got shape {raw_y.shape}")
    if len(raw_y) != len(x):
        raise DataError(f"{p.name} has {len(x)} images but {lp.name} has {len(raw_y)} labels")
    y, names = encode_labels(raw_y, lp.name)
    if x.ndim == 3:
        x = x[:, None]
    if scale and x.dtype == np.uint8:  # kept as bytes, read as 0 … 1 (data/values.py)
        xf = Encoded(x, UNIT)
    else:
        xf = _numeric(x, p.name)
    return xf, y, names, f"IDX files {p} and {lp}"
