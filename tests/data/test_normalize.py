"""Normalisation by the dataset's mean and sd (issue 18 part 4): one ValueMap for the tasks normalised
together, composed with the map as imported, undone exactly, kept in the task's metadata."""

from __future__ import annotations

import numpy as np
import pytest

from modstudio.data import UNIT, Dataset, DataError, Encoded, Task, ValueMap, load_builtin, permuted, split_by_class
from modstudio.data.tasks import normalize_tasks
from modstudio.data.values import CHUNK, Normalization, standardization


def byte_images(n=600, seed=0, channels=3):
    """Images whose channels have different means and spreads (so per-channel figures matter)."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, channels, 6, 6), np.uint8)
    for c in range(channels):
        x[:, c] = rng.integers(20 * c, 60 + 60 * c, size=(n, 6, 6))
    return x, np.arange(n) % 6


@pytest.fixture
def tasks():
    x, y = byte_images()
    return split_by_class(Dataset(Encoded(x, UNIT), y, name="bytes"), n_tasks=3)


def _union_train(tasks):
    return np.concatenate([t.train.floats() for t in tasks]).astype(np.float64)


def test_features_have_mean_0_sd_1_per_channel_over_the_union_of_the_train_splits(tasks):
    normalized = normalize_tasks(tasks)
    features = _union_train(normalized)
    np.testing.assert_allclose(features.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(features.std(axis=(0, 2, 3)), 1, atol=1e-4)
    assert len({t.values for t in normalized}) == 1 and normalized[0].values.channels == 3  # one map, shared
    assert all(t.train.x is old.train.x for t, old in zip(normalized, tasks))  # the same bytes, no copy
    each = _union_train(normalized[:1]).mean(axis=(0, 2, 3))
    assert np.abs(each).max() > 1e-3  # the dataset's statistics, not each task's own


def test_the_map_composes_with_the_imported_one():
    x, y = byte_images(channels=2)
    imported = ValueMap(127.5, (1.0, 0.5), (1.0, 2.0))  # f = (b / 127.5 − s) / p, per channel
    task = split_by_class(Dataset(Encoded(x, imported), y), n_tasks=1)[0]
    (norm,) = normalize_tasks([task])
    f = task.train.floats().astype(np.float64)
    mean, sd = f.mean(axis=(0, 2, 3)), f.std(axis=(0, 2, 3))
    np.testing.assert_allclose(norm.normalization.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(norm.normalization.sd, sd, rtol=1e-12)
    expected = (f - mean[None, :, None, None]) / sd[None, :, None, None]
    np.testing.assert_allclose(norm.train.floats(), expected, atol=1e-5)
    np.testing.assert_allclose(norm.values.shift, np.array([1.0, 0.5]) + mean * np.array([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(norm.values.spread, np.array([1.0, 2.0]) * sd, rtol=1e-6)


def test_statistics_are_taken_a_chunk_at_a_time_in_float64():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(2 * CHUNK + 5, 7), dtype=np.uint8)  # flat bytes: one channel
    mean, sd = standardization([(x[:CHUNK + 1], UNIT), (x[CHUNK + 1:], UNIT)])
    f = UNIT.apply(x).astype(np.float64)
    assert len(mean) == 1 and mean[0] == pytest.approx(f.mean(), rel=1e-12)
    assert sd[0] == pytest.approx(f.std(), rel=1e-12)
    assert standardization([(np.full((4, 1, 2, 2), 7, np.uint8), UNIT)])[1] == (1.0,)  # a constant channel: sd 1


def test_off_restores_the_imported_map_and_fingerprint(tasks):
    normalized = normalize_tasks(tasks)
    assert all(n.fingerprint != t.fingerprint for n, t in zip(normalized, tasks))  # other inputs, other hash
    again = normalize_tasks(normalized, on=False)
    assert all(a.values is UNIT or a.values == UNIT for a in again)
    assert [a.fingerprint for a in again] == [t.fingerprint for t in tasks]
    assert all(a.normalization is None and a.describe_preparation() == "none" for a in again)
    twice = normalize_tasks(normalized)  # normalising again starts from the map as imported, not stacked
    assert [t.values for t in twice] == [t.values for t in normalized]
    assert [t.fingerprint for t in twice] == [t.fingerprint for t in normalized]


def test_normalisation_keeps_the_augmentation_and_says_so(tasks):
    from modstudio.data import Augmentation

    task = normalize_tasks([tasks[0].with_augmentation(Augmentation(crop_padding=4, flip=True))])[0]
    assert task.augmentation == Augmentation(crop_padding=4, flip=True)
    assert task.describe_preparation() == "crop ±4 px, flip, mean/sd"
    assert task.with_augmentation(Augmentation()).describe_preparation() == "mean/sd"


def test_float_tasks_are_refused_with_the_reason():
    digits = split_by_class(load_builtin("digits"), n_tasks=2)
    assert digits[0].values is None
    with pytest.raises(DataError, match="stored as float features.*normalise its features before importing"):
        normalize_tasks(digits)
    with pytest.raises(DataError, match="stored as float features"):
        digits[0].with_normalization(None)


def test_tasks_of_other_channel_counts_cannot_share_statistics(tasks):
    x, y = byte_images(channels=1)
    grey = split_by_class(Dataset(Encoded(x, UNIT), y), n_tasks=1)[0]
    with pytest.raises(DataError, match="channels cannot share statistics"):
        normalize_tasks([tasks[0], grey])


def test_the_metadata_round_trips_and_is_checked(tasks):
    task = normalize_tasks(tasks)[1]
    meta, arrays = task.to_dict(), task.arrays()
    assert meta["format"] == 3 and meta["normalize"] == {
        "imported": UNIT.to_dict(), "mean": list(task.normalization.mean), "sd": list(task.normalization.sd)}
    again = Task.from_dict(meta, arrays)
    assert again.normalization == task.normalization and again.values == task.values
    assert again.fingerprint == task.fingerprint
    assert again.with_normalization(None).fingerprint == tasks[1].fingerprint  # off, after a load: as imported
    lying = {**meta, "normalize": {**meta["normalize"], "mean": [0.0, 0.0, 0.0]}, "fingerprint": None}
    with pytest.raises(DataError, match="not its normalisation's"):
        Task.from_dict(lying, arrays)
    with pytest.raises(DataError, match="needs task format 3"):
        Task.from_dict({**meta, "format": 2}, arrays)
    for bad in ({"imported": UNIT.to_dict(), "mean": [0.0], "sd": [0.0]}, {"mean": [0.0], "sd": [1.0]},
                {"imported": UNIT.to_dict(), "mean": ["x"], "sd": [1.0]}, [1, 2]):
        with pytest.raises(DataError):
            Task.from_dict({**meta, "normalize": bad, "fingerprint": None}, arrays)


def test_a_task_without_the_key_loads_as_before(tasks):
    meta = tasks[0].to_dict()
    assert meta["format"] == 2 and "normalize" not in meta  # an unnormalised byte task is written as before
    again = Task.from_dict(meta, tasks[0].arrays())
    assert again.normalization is None and again.values == UNIT and again.fingerprint == tasks[0].fingerprint
    assert not hasattr(Task, "_normalization")


def test_permuted_bytes_share_the_statistics_of_the_data():
    x, y = byte_images(channels=1)
    sequence = permuted(Dataset(Encoded(x.reshape(len(x), -1), UNIT), y, name="flat"), n_tasks=3)
    normalized = normalize_tasks(sequence)
    assert len({t.values for t in normalized}) == 1
    features = _union_train(normalized)
    assert abs(features.mean()) < 1e-4 and abs(features.std() - 1) < 1e-4


def test_normalization_validates_its_figures():
    with pytest.raises(DataError):
        Normalization(UNIT, (0.0, 1.0), (1.0,))
    with pytest.raises(DataError):
        Normalization(ValueMap(255.0, (0.0, 0.0), (1.0, 1.0)), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    saved = Normalization(UNIT, (0.5,), (0.25,)).to_dict()
    assert Normalization.from_dict(saved).values == ValueMap(255.0, (0.5,), (0.25,))
