"""The Dataset: checked, immutable arrays with class names and a content fingerprint.

Every importer and generator ends here, so the checks live in one place and every refusal reads
the same. Arrays are made read-only so the cached fingerprint can never go stale.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from collections.abc import Sequence
from typing import Any

import numpy as np

from modstudio.data.errors import DataError
from modstudio.data.values import Encoded, ValueMap, floats, hash_update, stored


def file_map(array: Any) -> mmap.mmap | None:
    """The read-only file mapping ``array`` is a view of (``np.memmap`` mode "r", or an array over a
    read-only ``memoryview`` of an ``mmap``), else None. Nobody can write such bytes through any
    view (the pages are mapped read-only), so they need no private copy to stay what was checked."""
    if not isinstance(array, np.ndarray) or array.flags.writeable:
        return None
    base = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return None
        base = base.base
    if isinstance(base, memoryview):
        return base.obj if base.readonly and isinstance(base.obj, mmap.mmap) else None
    if isinstance(base, mmap.mmap):
        try:
            with memoryview(base) as view:
                return base if view.readonly else None
        except (TypeError, ValueError):  # closed
            return None
    return None


def frozen(array: np.ndarray, dtype: Any) -> np.ndarray:
    """A contiguous read-only array of ``dtype`` that shares no memory with a caller's array.

    A read-only file mapping of the right dtype and layout (``file_map``: data larger than memory)
    is passed through as it is: its bytes cannot change through any view, and a copy is what it
    must never get."""
    if isinstance(array, np.ndarray) and array.dtype == np.dtype(dtype) and array.flags.c_contiguous \
            and file_map(array) is not None:
        return array
    with np.errstate(all="ignore"):
        out = np.ascontiguousarray(array, dtype=dtype)
    if out is array or (isinstance(array, np.ndarray) and np.shares_memory(out, array)):
        out = out.copy()
    out.flags.writeable = False
    return out


def all_finite(x: np.ndarray, rows: int = 1 << 16) -> bool:
    """Whether every value of float array ``x`` is finite, checked ``rows`` at a time, so data
    mapped from a file larger than memory needs no temporary its size."""
    return all(bool(np.isfinite(x[i:i + rows]).all()) for i in range(0, len(x), rows))


def check_features(x: Any, what: str = "x") -> np.ndarray:
    """Features as float32 (N, *sample_shape), or an ``Encoded``'s bytes as uint8; refuses
    non-numeric, empty, badly shaped or non-finite."""
    x, values = stored(x, what)
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as exc:  # ragged lists
            raise DataError(f"{what}: samples have inconsistent shapes ({exc})") from None
    if x.dtype == object:
        raise DataError(f"{what}: samples have inconsistent shapes or non-numeric values")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{what}: expected numbers, got dtype {x.dtype}")
    if x.ndim < 2:
        raise DataError(
            f"{what}: expected shape (samples, features...), got shape {x.shape}"
        )
    if x.shape[0] == 0:
        raise DataError(f"{what}: the data is empty (0 samples)")
    if any(d == 0 for d in x.shape[1:]):
        raise DataError(f"{what}: sample shape {x.shape[1:]} has a zero-sized dimension")
    if values is not None:  # bytes: finite, and so is every mapped value (divisor and spread > 0)
        return frozen(x, np.uint8)
    out = frozen(x, np.float32)
    finite = np.isfinite(out)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        value = x[tuple(bad)].item()
        feature = tuple(int(i) for i in bad[1:])
        raise DataError(
            f"{what}: sample {int(bad[0])}, feature {feature if len(feature) > 1 else feature[0]} "
            f"is {value!r} (NaN or infinite values are not allowed"
            + (", or the value overflows float32)" if np.isfinite(value) else ")")
        )
    return out


MAX_LABEL = 2**62
"""Largest label value accepted (labels are int64 inside; the margin keeps arithmetic safe)."""


def _shown(value: np.generic) -> str:
    """A label as written: floats at their own precision (float32 1e30 is '1e+30')."""
    return str(value) if value.dtype.kind == "f" else repr(value.item())


def check_labels(y: Any, what: str = "y") -> np.ndarray:
    """Labels as int64 (N,); refuses non-integer, non-finite, negative or too large values.

    Every check runs on the values as given, before the cast to int64, so a message shows the
    real value (1e30 is "too large", not the wrapped int64 it would cast to)."""
    y = np.asarray(y)
    if y.dtype == object or y.dtype.kind not in "biuf":
        raise DataError(f"{what}: labels must be integers, got dtype {y.dtype}")
    if y.dtype.kind == "b":
        raise DataError(f"{what}: labels must be integers, got booleans")
    if y.ndim != 1:
        raise DataError(f"{what}: labels must be one-dimensional, got shape {y.shape}")
    if y.size == 0:
        raise DataError(f"{what}: there are no labels (0 samples)")
    if y.dtype.kind == "f":
        with np.errstate(all="ignore"):
            bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{what}: label at sample {i} is {_shown(y[i])}, not an integer")
    neg = y < 0
    if neg.any():
        i = int(np.argmax(neg))
        raise DataError(f"{what}: label at sample {i} is negative ({_shown(y[i])})")
    # uint64 and int64 compare exactly with a Python int; floats compare as floats (2**62 is exact)
    large = y > (np.float64(MAX_LABEL) if y.dtype.kind == "f" else MAX_LABEL)
    if large.any():
        i = int(np.argmax(large))
        raise DataError(
            f"{what}: label at sample {i} is {_shown(y[i])}, too large (labels go up to 2**62 = {MAX_LABEL:,})"
        )
    return frozen(y, np.int64)


def encode_labels(raw: Sequence[Any] | np.ndarray, what: str = "labels") -> tuple[np.ndarray, list[str]]:
    """Arbitrary labels → contiguous ids 0..C-1 and their names.

    Numbers must be non-negative integers and keep numeric order ("2" before "10"); any other
    labels are treated as strings and sorted, so the same file always gives the same ids.
    """
    arr = np.asarray(raw)
    if arr.dtype.kind in "biuf":
        ints = check_labels(arr, what)
        values, y = np.unique(ints, return_inverse=True)
        return y.astype(np.int64), [str(int(v)) for v in values]
    if arr.ndim != 1:
        raise DataError(f"{what}: labels must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{what}: there are no labels (0 samples)")
    strings = np.asarray([str(v) for v in arr.tolist()])
    values, y = np.unique(strings, return_inverse=True)
    return y.astype(np.int64), [str(v) for v in values]


def hash_arrays(parts: Sequence[np.ndarray | tuple[np.ndarray, ValueMap | None]], extra: Any = None) -> str:
    """sha256 over dtype, shape and bytes of each array, then a JSON of ``extra``. A part may be
    (bytes, mapping): it hashes as the float32 features it stands for (``values.hash_update``)."""
    h = hashlib.sha256()
    for a in parts:
        hash_update(h, *(a if isinstance(a, tuple) else (a, None)))
    if extra is not None:
        h.update(json.dumps(extra, sort_keys=True, ensure_ascii=True).encode())
    return h.hexdigest()


class Dataset:
    """Samples ``x`` (float32, N × sample_shape) with labels ``y`` (int64, 0..C-1) and class names.

    Given an ``Encoded`` (bytes and their ``ValueMap``), ``x`` holds the bytes (uint8) and
    ``values`` the mapping; ``floats()`` gives the features. ``values`` is None for float data.

    ``origin`` is the JSON-able recipe that reloads this data (set by ``load_builtin`` and
    ``import_path``; None for arrays built in code). Task builders copy it into each task so a
    project can rebuild its tasks from the source instead of embedding the arrays.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        class_names: Sequence[str] | None = None,
        name: str = "dataset",
        source: str = "",
        origin: dict | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        self.values: ValueMap | None = stored(x)[1]
        self.x = check_features(x)
        self.y = check_labels(y)
        if len(self.x) != len(self.y):
            raise DataError(
                f"x has {len(self.x)} samples but y has {len(self.y)} labels; they must match"
            )
        top = int(self.y.max())
        if class_names is None:
            class_names = [str(i) for i in range(top + 1)]
        if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
            raise DataError("class_names must be a list of strings")
        self.class_names = list(class_names)
        if len(set(self.class_names)) != len(self.class_names):
            raise DataError(f"class_names contain duplicates: {self.class_names}")
        if top >= len(self.class_names):
            raise DataError(
                f"label {top} is out of range for {len(self.class_names)} class names"
            )
        counts = np.bincount(self.y, minlength=len(self.class_names))
        present = int((counts > 0).sum())
        if present < 2:
            raise DataError(
                f"only one class ({self.class_names[top]!r}) is present; a dataset needs at least two"
            )
        if present < len(self.class_names):
            missing = [self.class_names[i] for i in np.flatnonzero(counts == 0)]
            raise DataError(f"classes without any samples: {missing}")
        self.name = str(name)
        self.source = str(source)
        self.origin = origin
        # What the source calls each feature (a CSV's header), for previews; not part of the data
        # (nor of the fingerprint), and only when there is one name per feature.
        flat = int(np.prod(self.x.shape[1:]))
        self.feature_names = ([str(n) for n in feature_names]
                              if feature_names is not None and len(feature_names) == flat else None)
        self._fingerprint: str | None = None

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def floats(self, rows: slice = slice(None)) -> np.ndarray:
        """The features of ``rows`` (all) as float32 (a new array for bytes: the mapping applied;
        ``x`` itself otherwise), so a preview maps only what it shows."""
        return floats(self.x[rows], self.values)

    def encoded(self, x: np.ndarray) -> np.ndarray | Encoded:
        """Samples taken from ``x`` (indexed, permuted) as this dataset stores them, for a Split."""
        return x if self.values is None else Encoded(x, self.values)

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the features and class names: equal iff the content is equal. Bytes hash
        as the floats they stand for, so an image set stored as bytes keeps the fingerprint it had
        as float32 (projects saved before still rebuild and match)."""
        if self._fingerprint is None:
            self._fingerprint = hash_arrays([(self.x, self.values), self.y], {"class_names": self.class_names})
        return self._fingerprint

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.y, minlength=self.num_classes)

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, {len(self)} samples, shape {self.sample_shape}, "
            f"{self.num_classes} classes)"
        )
