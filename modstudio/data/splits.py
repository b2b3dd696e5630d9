"""Stratified train/validation/test splits: each class split in the same proportions, by seed.

Splitting per class (instead of shuffling the whole set) keeps rare classes in every split, which
matters for small continual-learning tasks of two classes and a few hundred samples.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from modstudio.data.errors import DataError


class SplitIndices(NamedTuple):
    """Sample indices of each split, each shuffled by the seed."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def check_fractions(val_fraction: Any, test_fraction: Any) -> tuple[float, float]:
    for key, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not 0.0 <= float(value) < 1.0:
            raise DataError(f"{key} must be a number in [0, 1), got {value!r}")
    if float(val_fraction) + float(test_fraction) >= 1.0:
        raise DataError(
            f"val_fraction + test_fraction must leave samples to train on; got "
            f"{val_fraction} + {test_fraction}"
        )
    return float(val_fraction), float(test_fraction)


def _class_counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """(val, test) sizes for a class of n samples: rounded, at least one each when the fraction
    is non-zero and the class has room, and never leaving training empty."""
    n_test = int(round(n * test_fraction))
    n_val = int(round(n * val_fraction))
    if test_fraction > 0:
        n_test = max(n_test, 1 if n >= 2 else 0)
    if val_fraction > 0:
        n_val = max(n_val, 1 if n >= 3 else 0)
    while n_val + n_test > n - 1:  # keep at least one training sample
        if n_val >= n_test and n_val > 0:
            n_val -= 1
        else:
            n_test -= 1
    return n_val, n_test


def stratified_split(
    labels: Any,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int | np.random.SeedSequence | list[int] = 0,
) -> SplitIndices:
    """Split indices per class with ``np.random.default_rng(seed)``; same input, same output.

    ``labels`` is a label array or anything with a ``.y`` (a Dataset). A class gets a test sample
    once it has 2 samples and a validation sample once it has 3; training is never left empty.
    """
    y = np.asarray(getattr(labels, "y", labels))
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iu":
        raise DataError(f"stratified_split needs a non-empty 1-D integer label array, got {y.dtype} {y.shape}")
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    rng = np.random.default_rng(seed)
    parts: tuple[list, list, list] = ([], [], [])
    order = np.argsort(y, kind="stable")
    _, starts = np.unique(y[order], return_index=True)
    for members in np.split(order, starts[1:]):
        members = rng.permutation(members)
        n_val, n_test = _class_counts(len(members), val_fraction, test_fraction)
        parts[2].append(members[:n_test])
        parts[1].append(members[n_test:n_test + n_val])
        parts[0].append(members[n_test + n_val:])
    train, val, test = (rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts)
    return SplitIndices(train, val, test)
