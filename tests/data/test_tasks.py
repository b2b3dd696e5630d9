import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modstudio.data import DataError, Split, Task, split_by_class


@pytest.fixture
def task(digits) -> Task:
    return split_by_class(digits, n_tasks=5)[2]


def test_round_trip(task):
    meta = json.loads(json.dumps(task.to_dict()))  # metadata is plain JSON
    arrays = task.arrays()
    assert set(arrays) == {"train_x", "train_y", "val_x", "val_y", "test_x", "test_y"}
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    again = Task.from_dict(meta, arrays)
    assert again.fingerprint == task.fingerprint
    assert (again.name, again.classes, again.class_names, again.origin) == (
        task.name, task.classes, task.class_names, task.origin)
    assert meta["sizes"] == {"train": len(task.train), "val": len(task.val), "test": len(task.test)}


def test_round_trip_through_npz(task, tmp_path):
    np.savez(tmp_path / "t.npz", **task.arrays())
    with np.load(tmp_path / "t.npz", allow_pickle=False) as f:
        again = Task.from_dict(task.to_dict(), dict(f))
    assert again.fingerprint == task.fingerprint


def test_task_fingerprint_changes_with_data_not_name(task):
    arrays = {k: v.copy() for k, v in task.arrays().items()}
    meta = {**task.to_dict(), "fingerprint": None, "name": "renamed"}
    assert Task.from_dict(meta, arrays).fingerprint == task.fingerprint
    arrays["test_x"][0, 0, 0, 0] += 0.5
    assert Task.from_dict(meta, arrays).fingerprint != task.fingerprint


def test_a_task_is_not_normalised_unless_asked(task):
    assert task.normalization is None and "normalize" not in task.to_dict()  # tests/data/test_normalize.py


def _bad(task, **changes):
    arrays = dict(task.arrays())
    meta = task.to_dict()
    for key, value in changes.items():
        if key.endswith(("_x", "_y")):
            if value is None:
                del arrays[key]
            else:
                arrays[key] = value
        else:
            meta[key] = value
    return meta, arrays


CASES = [
    (lambda t: ("nope", t.arrays()), "metadata must be a JSON object"),
    (lambda t: (t.to_dict(), [1, 2]), "arrays must be a mapping"),
    (lambda t: _bad(t, name=5), "'name' must be a string"),
    (lambda t: _bad(t, name=""), "task name must be a non-empty string"),
    (lambda t: _bad(t, classes="01"), "classes must be a list of integers"),
    (lambda t: _bad(t, classes=[4, True]), "classes must be a list of integers"),
    (lambda t: _bad(t, classes=[4, 4]), "distinct non-negative"),
    (lambda t: _bad(t, class_names=["4"]), "1 class names for 2 classes"),
    (lambda t: _bad(t, class_names=[4, 5]), "class_names must be a list of strings"),
    (lambda t: _bad(t, format=99), "newer than this version"),
    (lambda t: _bad(t, domain=3), "domain must be a string"),
    (lambda t: _bad(t, origin=[1]), "'origin' must be an object"),
    (lambda t: _bad(t, origin={"a": float("nan")}), "not plain JSON"),
    (lambda t: _bad(t, fingerprint="0" * 64), "does not match its fingerprint"),
    (lambda t: _bad(t, sample_shape=[64]), "sample_shape \\[64\\] does not match"),
    (lambda t: _bad(t, val_y=None), r"missing arrays \['val_y'\]"),
    (lambda t: _bad(t, extra_x=np.zeros(1)), r"unknown arrays \['extra_x'\]"),
    (lambda t: _bad(t, train_x=[[1.0]]), "train_x must be an array, got list"),
    (lambda t: _bad(t, train_x=np.array([["a"]])), "train_x has dtype <U1, expected numbers"),
    (lambda t: _bad(t, train_y=t.train.y.astype(np.float32)), "train_y has dtype float32, expected integers"),
    (lambda t: _bad(t, train_x=np.array([{}], dtype=object)), "train_x has dtype object"),
    (lambda t: _bad(t, train_y=t.train.y[:-1]), "train split: .* samples but .* labels"),
    (lambda t: _bad(t, train_y=t.train.y + 5), "train label 6 is out of range for 2 classes"),
    (lambda t: _bad(t, test_y=t.test.y - 1), "test split: labels must be non-negative"),
    (lambda t: _bad(t, val_x=np.full_like(t.val.x, np.nan)), "val split: features contain NaN"),
    (lambda t: _bad(t, val_x=t.val.x.reshape(len(t.val), 64)), r"val samples have shape \(64,\)"),
    (lambda t: _bad(t, train_x=np.zeros((0, 1, 8, 8), np.float32), train_y=np.zeros(0, np.int64)),
     "train split is empty"),
    (lambda t: _bad(t, test_x=np.zeros(3, np.float32)), "features need shape"),
    (lambda t: _bad(t, train_y=t.train.y.reshape(-1, 1)), "labels must be 1-D"),
    (lambda t: _bad(t, train_y=np.array(t.train.y, dtype=np.uint64) + np.uint64(2**63)),
     "label 9223372036854775809 is too large"),
]


@pytest.mark.parametrize("make, match", CASES)
def test_from_dict_refuses_bad_input(task, make, match):
    meta, arrays = make(task)
    with pytest.raises(DataError, match=match):
        Task.from_dict(meta, arrays)


def test_from_dict_missing_keys(task):
    for key in ("name", "classes", "class_names"):
        meta = {k: v for k, v in task.to_dict().items() if k != key}
        with pytest.raises(DataError, match=f"missing '{key}'"):
            Task.from_dict(meta, task.arrays())


def test_split_accepts_empty_validation(task):
    t = Task("t", [0, 1], ["a", "b"], task.train, Split(task.val.x[:0], task.val.y[:0]), task.test)
    assert len(t.val) == 0
    assert Task.from_dict(t.to_dict(), t.arrays()).fingerprint == t.fingerprint


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["name", "classes", "class_names", "domain", "origin", "format",
                            "sample_shape", "sizes", "fingerprint", "extra"]), value=json_values)
def test_from_dict_only_ever_raises_data_error(task, key, value):
    """Whatever JSON a damaged project file puts in a field, the loader sees a DataError or a task."""
    meta = {**task.to_dict(), key: value}
    try:
        Task.from_dict(meta, task.arrays())
    except DataError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["train_x", "train_y", "val_x", "val_y", "test_x", "test_y"]),
       dtype=st.sampled_from(["f2", "f8", "i1", "u8", "c8", "?", "U3", "S2", "M8[s]"]),
       shape=st.lists(st.integers(0, 3), max_size=4))
def test_from_dict_arrays_of_any_dtype_and_shape(task, key, dtype, shape):
    arrays = {**task.arrays(), key: np.zeros(shape, dtype=dtype)}
    try:
        Task.from_dict(task.to_dict(), arrays)
    except DataError:
        pass
