"""Labels and features as the readers check them: label values and texts, label arrays, the
``labels=`` file argument, and numeric features, each error naming the file and the place.

Shared by the CSV, NumPy and IDX readers, so that they need not import each other.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from modstudio.data.dataset import MAX_LABEL, check_features, encode_labels
from modstudio.data.errors import DataError
from modstudio.data.importers.files import _need_file
from modstudio.data.importers.options import _user_path

MAX_CELL_CHARS = 1000
"""Longest CSV cell (feature, label or header name), and longest label or class name in any file."""


def _label_value(text: str) -> tuple[int | None, str]:
    """A numeric label's exact integer value, or None and why it is not a label."""
    try:
        value = int(text)
    except ValueError:
        number = float(text)
        if not math.isfinite(number):
            return None, "not a finite number"
        if number != math.floor(number):
            return None, "not a whole number"
        value = int(number)
    if value < 0:
        return None, "negative"
    if value > MAX_LABEL:
        return None, f"too large: labels go up to 2**62 = {MAX_LABEL:,}"
    return value, ""


def _texts(array: np.ndarray, where: str) -> list[str]:
    """A 1-D text array as Python strings, each at most MAX_CELL_CHARS; bytes must be UTF-8."""
    items = array.tolist()
    out: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, bytes):
            try:
                item = item.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError(f"{where}: entry {i} is not UTF-8 text ({item[:20]!r})") from None
        if len(item) > MAX_CELL_CHARS:
            raise DataError(f"{where}: entry {i} is {len(item):,} characters, over the limit of {MAX_CELL_CHARS:,}")
        out.append(item)
    return out


def _labels_of(array: np.ndarray, where: str):
    if array.dtype.kind in "US":
        if array.ndim != 1:
            raise DataError(f"{where}: labels must be one-dimensional, got shape {array.shape}")
        return encode_labels(np.array(_texts(array, where), dtype=str), where)
    if array.dtype.kind not in "biuf" or array.dtype.kind == "b":
        raise DataError(f"{where}: labels must be integers or strings, got dtype {array.dtype}")
    return encode_labels(array, where)


def _numeric(x: np.ndarray, where: str) -> np.ndarray:
    """Features checked where the file is named, so the message says which file is wrong."""
    if x.dtype.kind not in "biuf":
        raise DataError(f"{where}: expected numbers, got dtype {x.dtype}")
    return check_features(x, where)


def _labels_path(labels: Any) -> Path:
    lp = _user_path(labels, "labels")
    try:
        exists = os.path.lexists(lp)
    except (OSError, ValueError):
        exists = False
    if not exists:
        raise DataError(f"labels file {lp} does not exist")
    _need_file(lp, f"labels file {lp.name}")
    return lp
