import numpy as np
import pytest

from modstudio.data import DataError, stratified_split


def test_stratified_split_is_disjoint_complete_and_stratified(digits):
    parts = stratified_split(digits.y, val_fraction=0.1, test_fraction=0.2, seed=0)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(len(digits)))
    counts = {name: np.bincount(digits.y[idx], minlength=10) for name, idx in parts._asdict().items()}
    total = digits.class_counts()
    assert np.all(np.abs(counts["test"] - 0.2 * total) <= 1)
    assert np.all(np.abs(counts["val"] - 0.1 * total) <= 1)


def test_stratified_split_reproducible_per_seed(digits):
    a = stratified_split(digits, seed=7)
    b = stratified_split(digits, seed=7)
    c = stratified_split(digits, seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a.test, c.test)


def test_every_class_in_every_split_when_possible():
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2])
    parts = stratified_split(y, 0.1, 0.2, seed=0)
    assert set(y[parts.train]) == {0, 1, 2}
    assert set(y[parts.test]) == {0, 1, 2}
    assert set(y[parts.val]) == {0, 1}  # class 2 has 2 samples: one train, one test


def test_zero_fractions_and_refusals():
    y = np.repeat([0, 1], 10)
    parts = stratified_split(y, 0.0, 0.0)
    assert len(parts.train) == 20 and len(parts.val) == len(parts.test) == 0
    with pytest.raises(DataError, match="val_fraction must be a number in \\[0, 1\\)"):
        stratified_split(y, val_fraction=1.5)
    with pytest.raises(DataError, match="must leave samples to train on"):
        stratified_split(y, 0.5, 0.5)
    with pytest.raises(DataError, match="non-empty 1-D integer label array"):
        stratified_split(np.array([0.5, 1.0]))
