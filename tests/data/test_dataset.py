import numpy as np
import pytest

from modstudio.data import DataError, Dataset, encode_labels


def test_dataset_types_and_properties(small):
    assert small.x.dtype == np.float32 and small.y.dtype == np.int64
    assert small.sample_shape == (4,) and small.num_classes == 3 and len(small) == 60
    assert not small.x.flags.writeable  # fingerprint cache cannot go stale


def test_dataset_does_not_freeze_callers_array():
    x = np.ones((4, 2), dtype=np.float32)
    Dataset(x, [0, 1, 0, 1])
    x[0, 0] = 5.0  # still writable


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.zeros((0, 3)), np.zeros(0, int), "empty"),
        (np.zeros((4, 3)), [0, 1, 0], "4 samples but y has 3"),
        (np.array([[0.0, np.nan], [1, 1], [2, 2]]), [0, 1, 1], r"sample 0, feature 1 is nan"),
        (np.array([[0.0, 1], [np.inf, 1], [2, 2]]), [0, 1, 1], r"sample 1, feature 0 is inf"),
        (np.array([[0.0], [1e300], [2]]), [0, 1, 1], "overflows float32"),
        (np.zeros((3, 2)), [0, 1.5, 1], "label at sample 1 is 1.5, not an integer"),
        (np.zeros((3, 2)), [0, -1, 1], "label at sample 1 is negative"),
        (np.zeros((3, 2)), [1, 1, 1], "only one class"),
        (np.zeros(3), [0, 1, 1], "expected shape"),
        (np.zeros((3, 0)), [0, 1, 1], "zero-sized"),
        (np.array([["a", "b"], ["c", "d"]]), [0, 1], "expected numbers"),
        (np.zeros((3, 2)), [[0], [1], [1]], "one-dimensional"),
        (np.zeros((3, 2)), [True, False, True], "booleans"),
        (np.zeros((3, 2)), ["a", "b", "a"], "must be integers"),
    ],
)
def test_dataset_refusals_name_the_problem(x, y, match):
    with pytest.raises(DataError, match=match):
        Dataset(x, y)


def test_ragged_samples_refused():
    with pytest.raises(DataError, match="inconsistent shapes"):
        Dataset([[1.0, 2.0], [3.0]], [0, 1])


def test_class_names_checked():
    with pytest.raises(DataError, match="out of range"):
        Dataset(np.zeros((3, 1)), [0, 1, 2], ["a", "b"])
    with pytest.raises(DataError, match="without any samples: \\['b'\\]"):
        Dataset(np.zeros((3, 1)), [0, 2, 2], ["a", "b", "c"])
    with pytest.raises(DataError, match="duplicates"):
        Dataset(np.zeros((2, 1)), [0, 1], ["a", "a"])
    assert Dataset(np.zeros((2, 1)), [0, 1]).class_names == ["0", "1"]


def test_fingerprint_changes_iff_content_changes(small):
    same = Dataset(small.x.copy(), small.y.copy(), list(small.class_names), name="other name")
    assert same.fingerprint == small.fingerprint  # name and source are not content
    x = small.x.copy()
    x[5, 2] += 1e-3
    assert Dataset(x, small.y, small.class_names).fingerprint != small.fingerprint
    y = small.y.copy()
    y[[0, 59]] = y[[59, 0]]
    assert Dataset(small.x, y, small.class_names).fingerprint != small.fingerprint
    assert Dataset(small.x, small.y, ["a", "b", "z"]).fingerprint != small.fingerprint
    assert Dataset(small.x.reshape(60, 2, 2), small.y, small.class_names).fingerprint != small.fingerprint
    assert len(small.fingerprint) == 64 and small.fingerprint == small.fingerprint


def test_encode_labels_numeric_and_strings():
    y, names = encode_labels([10, 2, 2, 10])
    assert names == ["2", "10"] and y.tolist() == [1, 0, 0, 1]
    y, names = encode_labels(["dog", "cat", "dog"])
    assert names == ["cat", "dog"] and y.tolist() == [1, 0, 1]
