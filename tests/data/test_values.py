"""Bytes with a value mapping (data/values.py): stored as uint8, read as the floats of before."""

import numpy as np
import pytest

from modstudio.data import UNIT, DataError, Dataset, Encoded, Task, ValueMap, permuted, rotated, split_by_class
from modstudio.data.importers.images import _normalized

RNG = np.random.default_rng(5)
X8 = RNG.integers(0, 256, size=(60, 3, 5, 5), dtype=np.uint8)
Y = np.repeat(np.arange(4), 15)
CHANNELS = ValueMap(255.0, (0.49, 0.48, 0.45), (0.25, 0.24, 0.26))


def test_the_mappings_give_the_floats_the_importers_gave_bit_for_bit():
    x = X8.astype(np.float32)
    np.testing.assert_array_equal(UNIT.apply(X8), x / np.float32(255.0))
    np.testing.assert_array_equal(ValueMap(127.5, (1.0,), (1.0,)).apply(X8), x / np.float32(127.5) - np.float32(1.0))
    unit = x / np.float32(255.0)
    mean = unit.mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64).astype(np.float32)
    sd = unit.std(axis=(0, 2, 3), keepdims=True, dtype=np.float64).astype(np.float32)
    standard = _normalized(X8, "standard")
    assert standard.data is X8 and standard.values.channels == 3
    np.testing.assert_array_equal(standard.values.apply(X8), (unit - mean) / sd)


def test_a_byte_dataset_keeps_bytes_and_the_fingerprint_of_its_floats():
    stored = Dataset(Encoded(X8, CHANNELS), Y)
    assert stored.x.dtype == np.uint8 and stored.values == CHANNELS and stored.x.nbytes == X8.size
    as_floats = Dataset(CHANNELS.apply(X8), Y)
    assert as_floats.values is None and as_floats.x.dtype == np.float32
    np.testing.assert_array_equal(stored.floats(), as_floats.x)
    # projects saved when these images were float32 still match once they are bytes
    assert stored.fingerprint == as_floats.fingerprint
    assert Dataset(Encoded(X8, UNIT), Y).fingerprint != stored.fingerprint  # the mapping counts
    other = X8.copy()
    other[3, 1, 2, 2] ^= 1
    assert Dataset(Encoded(other, CHANNELS), Y).fingerprint != stored.fingerprint  # so does every byte


def test_bad_mappings_and_non_bytes_are_refused():
    with pytest.raises(DataError, match="must be bytes"):
        Dataset(Encoded(X8.astype(np.float32), UNIT), Y)
    with pytest.raises(DataError, match="3 channel mappings"):
        Dataset(Encoded(X8.reshape(60, -1), CHANNELS), Y)
    with pytest.raises(DataError, match="positive"):
        ValueMap(255.0, (0.0,), (0.0,))
    with pytest.raises(DataError, match="finite"):
        ValueMap(float("nan"))
    with pytest.raises(DataError, match="infinite values"):
        ValueMap(1e-30, (0.0,), (1e-30,))
    for bad in ({"divisor": 255}, {"divisor": 1e300, "shift": [0], "spread": [1]},
                {"divisor": 10**400, "shift": [0], "spread": [1]}, {"divisor": 255, "shift": [0], "spread": [1e-50]}, {"divisor": 255, "shift": "0", "spread": [1]}, [1, 2],
                {"divisor": 255, "shift": [0, 1], "spread": [1]}, {"divisor": True, "shift": [0], "spread": [1]}):
        with pytest.raises(DataError):
            ValueMap.from_dict(bad)
    assert ValueMap.from_dict(CHANNELS.to_dict()) == CHANNELS


def test_builders_keep_bytes_where_the_mapping_allows():
    stored = Dataset(Encoded(X8, CHANNELS), Y)
    floats = Dataset(CHANNELS.apply(X8), Y)
    tasks, again = split_by_class(stored, n_tasks=2), split_by_class(floats, n_tasks=2)
    for t, f in zip(tasks, again):
        assert t.values == CHANNELS and all(t.split(s).x.dtype == np.uint8 for s in ("train", "val", "test"))
        assert t.fingerprint == f.fingerprint and t.to_dict()["values"] == CHANNELS.to_dict()
        assert "values" not in f.to_dict() and f.to_dict()["format"] == 1  # a float task's metadata reads as before
        np.testing.assert_array_equal(t.test.floats(), f.test.x)
        np.testing.assert_array_equal(t.train.floats(), f.train.x)
    one = Dataset(Encoded(X8, UNIT), Y)
    assert permuted(one, n_tasks=2)[1].train.x.dtype == np.uint8  # one mapping: a permutation keeps bytes
    mixed = permuted(stored, n_tasks=2)  # per channel: a permutation mixes channels, so floats
    assert mixed[1].values is None and mixed[1].fingerprint == permuted(floats, n_tasks=2)[1].fingerprint
    turned = rotated(stored, angles=[30.0])[0]  # bilinear values fall between bytes
    assert turned.values is None and turned.fingerprint == rotated(floats, angles=[30.0])[0].fingerprint


def test_a_byte_task_crosses_to_dict_and_arrays_as_bytes():
    task = split_by_class(Dataset(Encoded(X8, CHANNELS), Y), n_tasks=2)[0]
    arrays = task.arrays()
    assert arrays["train_x"].dtype == np.uint8
    assert task.to_dict()["format"] == 2  # older readers refuse it as newer, not read bytes as numbers
    again = Task.from_dict(task.to_dict(), arrays)
    assert again.values == CHANNELS and again.train.x.dtype == np.uint8 and again.fingerprint == task.fingerprint
    meta = {**task.to_dict(), "values": {**CHANNELS.to_dict(), "divisor": 254.0}}
    with pytest.raises(DataError, match="fingerprint"):
        Task.from_dict(meta, arrays)  # another mapping is other data
    with pytest.raises(DataError, match="needs task format 2"):
        Task.from_dict({**task.to_dict(), "format": 1}, arrays)


def test_an_idx_recipe_keeps_the_fingerprints_it_had_as_float32(tmp_path):
    """Digests recorded with the float32 reader (before images stayed bytes): a project saved then
    rebuilds its IDX tasks, now bytes, and they match."""
    import struct

    from modstudio.data import import_path

    x = (np.arange(40 * 4 * 5) * 7 % 256).astype(np.uint8).reshape(40, 4, 5)
    y = (np.arange(40) % 4).astype(np.uint8)
    for name, a in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y)):
        (tmp_path / name).write_bytes(bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes())
    ds = import_path(tmp_path / "train-images-idx3-ubyte")
    assert ds.x.dtype == np.uint8 and ds.values == UNIT
    assert ds.fingerprint == "ed0030a9b558ef68f890c5f3e2de034fd2e491d05e054eba1fa4dc576a620e99"
    assert [t.fingerprint for t in split_by_class(ds, n_tasks=2)] == [
        "9047e461ec205de5e38c94546be5520295525f52253be8ecf9f8e4d778dc0b88",
        "f7c870784bc6d11945bb410b6e0bc0551ac27a6b04d299b65da8baf84b48b366"]
