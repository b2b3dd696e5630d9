"""Samples without labels, to predict: one image, the rows of a CSV, an NPY or NPZ array, fitted to
the tasks' sample shape.

The same readers and limits as an import (``images._decode``, the CSV line reader, ``read_npy``),
so a file to predict is as untrusted as a dataset: every refusal is a DataError that names the
file, and a shape that cannot fit names both shapes. Like the importers below ``dispatch``, this
module picks a reader; nothing imports it but the evaluation (``modstudio.learn.evaluation``).
"""

from __future__ import annotations

import itertools
import math
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from modstudio.data.dataset import check_features
from modstudio.data.errors import DataError
from modstudio.data.importers.csv import _csv_records, _is_number, _Lines, _sniff_delimiter
from modstudio.data.importers.files import MAX_BYTES, _guard, _need_file, _open_file
from modstudio.data.importers.images import IMAGE_SUFFIXES, _decode
from modstudio.data.importers.npy import _ZIP_ERRORS, _load_npy, _npz_members, _read_member
from modstudio.data.importers.options import _user_path
from modstudio.data.values import UNIT, ValueMap

MAX_SAMPLES = 100_000
"""Most samples one file to predict may hold."""

SUFFIXES = (*IMAGE_SUFFIXES, ".csv", ".tsv", ".txt", ".npy", ".npz")


def read_samples(path: str | Path, sample_shape: Sequence[int], values: ValueMap | None = None,
                 max_bytes: int = MAX_BYTES) -> tuple[np.ndarray, list[int]]:
    """(samples as float32 N × ``sample_shape``, the shape as read from the file: an image's as converted).

    An image is converted to the sample's channels and resized to its height and width, its pixels
    mapped as the tasks' bytes were in training (``values``, the tasks' ``ValueMap``: an image folder's
    scaling and any normalisation by the data's mean/sd; None, for tasks of float features: 0 … 1);
    a flat sample of s×s (or 3×s×s) values takes a grey (or RGB)
    s×s image, flattened. A CSV holds one sample a row (a header row is skipped; a row with one
    cell more than a sample has the last cell as its label, which is ignored). An NPY is one
    array; an NPZ's array is ``x`` or its only array; an array of bytes (uint8) is mapped by ``values``
    as an image is, any other is taken as features. An array fits when it is one sample or a
    batch of them, of the sample's shape or of its number of values."""
    p = _user_path(path, "the file")
    _need_file(p, p.name)
    shape = tuple(int(s) for s in sample_shape)
    suffix = p.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        raw = _image(p, shape, max_bytes)
        x = (values or UNIT).apply(raw.reshape(1, *shape))
    elif suffix in (".csv", ".tsv", ".txt"):
        raw = _csv_rows(p, shape, max_bytes)
        x = raw.reshape(len(raw), *shape)
    elif suffix in (".npy", ".npz"):
        raw = _load_npy(p, max_bytes) if suffix == ".npy" else _npz_array(p, max_bytes)
        x = fit(raw, shape, p.name)
        if x.dtype == np.uint8 and values is not None:
            values.check(x.shape, p.name)
            x = values.apply(x)
    else:
        raise DataError(f"{p.name}: cannot predict from a {p.suffix or 'file without an extension'}; give an "
                        "image (.png, .jpg, .bmp), a CSV (.csv, .tsv, .txt) or a NumPy file (.npy, .npz)")
    if len(x) > MAX_SAMPLES:
        raise DataError(f"{p.name}: {len(x):,} samples, more than the {MAX_SAMPLES:,} one prediction takes")
    return check_features(x, p.name), list(raw.shape)


def fit(array: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``array`` as a batch of samples of ``shape``: one sample or a batch, of that shape or with
    as many values; otherwise a DataError naming both shapes."""
    if array.dtype.kind not in "biuf":
        raise DataError(f"{name}: expected numbers, got an array of dtype {array.dtype}")
    size = math.prod(shape)
    if tuple(array.shape) == shape:
        return array.reshape(1, *shape)
    if array.ndim == len(shape) + 1 and tuple(array.shape[1:]) == shape:
        return array
    if array.size == size:  # one sample, laid out otherwise (an 8×8 array for 64 features)
        return array.reshape(1, *shape)
    if array.ndim >= 2 and array.shape[0] and math.prod(array.shape[1:]) == size:
        return array.reshape(len(array), *shape)
    raise DataError(f"{name}: an array of shape {_shape(array.shape)} does not fit the tasks' sample shape "
                    f"{_shape(shape)} (give one sample of that shape, or a batch N × {_shape(shape)})")


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape) if len(shape) else "()"


def _image(p: Path, shape: tuple[int, ...], limit: int) -> np.ndarray:
    """The image's bytes converted and resized to ``shape``: C×H×W (C 1 or 3), H×W, or s×s (3×s×s) values."""
    from PIL import Image

    if len(shape) == 3 and shape[0] in (1, 3):
        channels, h, w = shape
    elif len(shape) == 2:
        channels, (h, w) = 1, shape
    elif len(shape) == 1 and _square(shape[0]):
        channels, h, w = 1, _square(shape[0]), _square(shape[0])
    elif len(shape) == 1 and shape[0] % 3 == 0 and _square(shape[0] // 3):
        channels, h, w = 3, _square(shape[0] // 3), _square(shape[0] // 3)
    else:
        raise DataError(f"{p.name}: an image does not fit the tasks' sample shape {_shape(shape)} (images fit "
                        "C×H×W with 1 or 3 channels, H×W, or s×s values)")
    try:
        pixels = _decode(Image, p, limit, "L" if channels == 1 else "RGB", h, w, channels)
    except DataError as exc:
        raise DataError(f"{p.name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's decoders on untrusted bytes raise many types
        raise DataError(f"{p.name}: not a readable image ({type(exc).__name__}: {exc})") from None
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))  # C×H×W bytes


def _square(n: int) -> int:
    """s when n = s×s (s ≥ 2), else 0."""
    s = math.isqrt(n)
    return s if s >= 2 and s * s == n else 0


def _csv_rows(p: Path, shape: tuple[int, ...], limit: int) -> np.ndarray:
    """Each row a sample's values (the importer's bounded line reader); a header row is skipped."""
    size = math.prod(shape)
    rows: list[list[float]] = []
    with _open_file(p, limit) as (f, _size):
        lines = _Lines(f, p.name)
        delimiter = _sniff_delimiter(lines.first_content(), p)
        for number, (line, cells) in enumerate(_csv_records(lines, delimiter, p.name)):
            texts = [c.strip() for c in cells]
            if number == 0 and not all(_is_number(t) for t in texts):
                continue  # a header
            if len(texts) not in (size, size + 1):
                raise DataError(f"{p.name}: row {line} has {len(texts)} values; the tasks' samples have {size} "
                                f"(shape {_shape(shape)}), so a row needs {size} (or {size + 1} with a label last)")
            bad = next((j for j, t in enumerate(texts[:size]) if not _is_number(t)), None)
            if bad is not None:
                raise DataError(f"{p.name}: row {line}, column {bad + 1}: {texts[bad]!r} is not a number")
            rows.append([float(t) for t in texts[:size]])
            if len(rows) > MAX_SAMPLES:
                raise DataError(f"{p.name}: more than {MAX_SAMPLES:,} rows, more than one prediction takes")
    if not rows:
        raise DataError(f"{p.name}: the file has no rows of values")
    with np.errstate(all="ignore"):
        return np.asarray(rows, dtype=np.float64).astype(np.float32)


def _npz_array(p: Path, limit: int) -> np.ndarray:
    """The archive's ``x``, or its only array."""
    with _open_file(p, limit) as (f, _size):
        try:
            with zipfile.ZipFile(f) as zf:
                members = _npz_members(zf, p.name)
                key = "x" if "x" in members else (next(iter(members)) if len(members) == 1 else None)
                if key is None:
                    shown = list(itertools.islice(members, 20))
                    raise DataError(f"{p.name}: the archive holds {len(members)} arrays and none is named 'x' "
                                    f"({shown}); keep the samples under 'x'")
                _guard(members[key].file_size, limit, f"{p.name} (uncompressed)")
                return _read_member(zf, members[key], f"{p.name}: array {key!r}")
        except DataError:
            raise
        except _ZIP_ERRORS as exc:
            raise DataError(f"{p.name}: not a readable .npz file ({exc})") from None
