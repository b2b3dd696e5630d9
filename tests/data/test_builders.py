import json

import numpy as np
import pytest

from modstudio.data import (
    DataError,
    Dataset,
    datasets_as_tasks,
    label_space_size,
    load_builtin,
    permuted,
    rebuild_task,
    rotate_images,
    rotated,
    shares_label_space,
    split_by_class,
    union_classes,
)


def test_split_by_class_over_digits(digits):
    tasks = split_by_class(digits, n_tasks=5)
    assert [t.name for t in tasks] == ["digits 0-1", "digits 2-3", "digits 4-5", "digits 6-7", "digits 8-9"]
    seen = set()
    for t in tasks:
        assert not seen & set(t.classes)
        seen |= set(t.classes)
        assert t.class_names == [str(c) for c in t.classes] and t.domain is None
        for name in ("train", "val", "test"):
            split = t.split(name)
            assert set(split.y.tolist()) == {0, 1}  # both classes in every split: stratified
            assert np.isin(t.global_labels(name), t.classes).all()
        n = {s: np.bincount(t.split(s).y) for s in ("train", "val", "test")}
        total = n["train"] + n["val"] + n["test"]
        assert np.all(np.abs(n["test"] - 0.2 * total) <= 1)
    assert seen == set(range(10))
    assert union_classes(tasks) == list(range(10)) and label_space_size(tasks) == 10
    assert not shares_label_space(tasks)
    # the samples of a task are exactly the dataset's samples of its classes
    t = tasks[1]
    assert len(t.train) + len(t.val) + len(t.test) == int(np.isin(digits.y, [2, 3]).sum())


def test_global_labels_map_back_to_dataset(digits):
    t = split_by_class(digits, order=[7, 3, 9], classes_per_task=3)[0]
    assert t.classes == [7, 3, 9] and t.name == "digits 7,3,9"
    glob = t.global_labels("train")
    for label in (7, 3, 9):
        assert (glob == label).sum() > 0
    # a train sample equals some dataset sample of the same global class
    i = 0
    match = (digits.x == t.train.x[i]).reshape(len(digits), -1).all(axis=1)
    assert glob[i] in digits.y[match]


@pytest.mark.parametrize(
    "kwargs, sizes",
    [
        ({}, [2, 2, 2, 2, 2]),
        ({"n_tasks": 3}, [3, 3, 4]),
        ({"classes_per_task": 4}, [4, 4, 2]),
        ({"n_tasks": 2, "classes_per_task": 3}, [3, 3]),
        ({"order": [9, 8, 7, 6], "n_tasks": 2}, [2, 2]),
    ],
)
def test_split_by_class_grouping(digits, kwargs, sizes):
    assert [t.num_classes for t in split_by_class(digits, **kwargs)] == sizes


def test_split_by_class_seeded_shuffle(digits):
    a = split_by_class(digits, shuffle=True, seed=3)
    b = split_by_class(digits, shuffle=True, seed=3)
    c = split_by_class(digits, shuffle=True, seed=4)
    assert [t.classes for t in a] == [t.classes for t in b] != [t.classes for t in c]
    assert [t.fingerprint for t in a] == [t.fingerprint for t in b]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"classes_per_task": 3}, r"leaves a task with only class \[9\]"),
        ({"n_tasks": 6}, "too few for 6 tasks"),
        ({"n_tasks": 4, "classes_per_task": 3}, "need 12 classes, but only 10"),
        ({"order": [1, 1, 2]}, "more than once"),
        ({"order": [0, 10]}, r"class ids \[10\] outside 0..9"),
        ({"classes_per_task": 1}, "classes_per_task must be an integer of at least 2"),
        ({"n_tasks": 0}, "n_tasks must be an integer of at least 1"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"test_fraction": 0.95}, "must leave samples to train on"),
    ],
)
def test_split_by_class_refusals(digits, kwargs, match):
    with pytest.raises(DataError, match=match):
        split_by_class(digits, **kwargs)


def test_permuted_deterministic_and_different(digits):
    a = permuted(digits, n_tasks=3, seed=1)
    b = permuted(digits, n_tasks=3, seed=1)
    c = permuted(digits, n_tasks=3, seed=2)
    assert [t.fingerprint for t in a] == [t.fingerprint for t in b]
    assert len({t.fingerprint for t in a}) == 3
    assert a[1].fingerprint != c[1].fingerprint
    assert a[2].name == "digits permuted #2" and a[2].domain == "permutation 2"
    assert shares_label_space(a) and a[0].classes == list(range(10))
    # the same samples and labels, only the feature order differs
    assert np.array_equal(a[0].train.y, a[1].train.y)
    assert np.array_equal(np.sort(a[0].train.x.reshape(len(a[0].train), -1), axis=1),
                          np.sort(a[1].train.x.reshape(len(a[1].train), -1), axis=1))
    no_identity = permuted(digits, n_tasks=1, identity_first=False)
    assert no_identity[0].fingerprint != a[0].fingerprint


def test_permuted_task0_is_the_data(small):
    t = permuted(small, n_tasks=2, val_fraction=0, test_fraction=0)[0]
    order = np.lexsort(t.train.x.T)
    ref = np.lexsort(small.x.T)
    assert np.array_equal(t.train.x[order], small.x[ref])


def test_rotated(digits):
    tasks = rotated(digits, 4)
    assert [t.name for t in tasks] == ["digits rotated 0°", "digits rotated 45°",
                                       "digits rotated 90°", "digits rotated 135°"]
    assert shares_label_space(tasks) and tasks[1].domain == "rotation 45°"
    assert len({t.fingerprint for t in tasks}) == 4
    custom = rotated(digits, angles=[0, 90])
    assert np.array_equal(custom[1].train.x, np.rot90(custom[0].train.x, 1, axes=(2, 3)))
    with pytest.raises(DataError, match=r"images of shape \(H, W\) or \(channels, H, W\)"):
        rotated(load_builtin("blobs"), 2)
    with pytest.raises(DataError, match="n_tasks is 3 but 2 angles"):
        rotated(digits, 3, angles=[0, 10])
    with pytest.raises(DataError, match="angles must be a non-empty list of finite numbers"):
        rotated(digits, angles=[0, float("nan")])


def test_rotate_images_bilinear_keeps_centre():
    img = np.zeros((1, 1, 5, 5), np.float32)
    img[0, 0, 2, 2] = 1.0
    for angle in (0, 30, 90, 200):
        assert rotate_images(img, angle)[0, 0, 2, 2] == pytest.approx(1.0)


def test_datasets_as_tasks(small):
    other = Dataset(small.x + 1, small.y, ["a", "b", "c"], name="shifted")
    shared = datasets_as_tasks([small, other])
    assert [t.name for t in shared] == ["small", "shifted"]
    assert shares_label_space(shared) and shared[1].domain == "shifted"
    renamed = Dataset(small.x, small.y, ["x", "y", "z"], name="small")
    disjoint = datasets_as_tasks([small, renamed])
    assert [t.classes for t in disjoint] == [[0, 1, 2], [3, 4, 5]]
    assert [t.name for t in disjoint] == ["small #0", "small #1"]
    forced = datasets_as_tasks([small, other], names=["A", "B"], label_space="disjoint")
    assert forced[1].classes == [3, 4, 5] and forced[1].name == "B"
    with pytest.raises(DataError, match=r"dataset 1 \('flat'\) has samples of shape \(2, 2\)"):
        datasets_as_tasks([small, Dataset(small.x.reshape(60, 2, 2), small.y, name="flat")])
    with pytest.raises(DataError, match="non-empty list of datasets"):
        datasets_as_tasks([])
    with pytest.raises(DataError, match="label_space must be"):
        datasets_as_tasks([small], label_space="mixed")
    assert shared[0].origin is None  # made in code: nothing to rebuild from


def test_rebuild_task_reproduces_fingerprints(digits, tmp_path):
    sequences = [
        split_by_class(digits, n_tasks=5, shuffle=True, seed=5),
        permuted(digits, n_tasks=3, seed=9),
        rotated(digits, angles=[0, 33.5]),
        datasets_as_tasks([load_builtin("blobs", seed=1, n_features=3),
                           load_builtin("blobs", seed=2, n_features=3)]),
    ]
    for tasks in sequences:
        for t in tasks:
            origin = json.loads(json.dumps(t.origin))  # as it comes back from a project file
            again = rebuild_task(origin)
            assert again.fingerprint == t.fingerprint and again.name == t.name


def test_rebuild_from_imported_file(tmp_path):
    p = tmp_path / "d.csv"
    rows = [f"{i % 7},{(i * 3) % 5},{i % 4}" for i in range(80)]
    p.write_text("\n".join(rows) + "\n")
    tasks = split_by_class(__import__("modstudio.data", fromlist=["import_path"]).import_path(p))
    again = rebuild_task(json.loads(json.dumps(tasks[1].origin)))
    assert again.fingerprint == tasks[1].fingerprint
    p.write_text("\n".join(rows[:-1] + ["6,6,3"]) + "\n")
    with pytest.raises(DataError, match="has changed since the task was built"):
        rebuild_task(tasks[1].origin)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda o: "nope", "origin must be an object"),
        (lambda o: {**o, "builder": "magic"}, "unknown task builder 'magic'"),
        (lambda o: {**o, "index": 9}, "task index 9 is out of range"),
        (lambda o: {**o, "index": -1}, "'index' must be a non-negative integer"),
        (lambda o: {**o, "options": {**o["options"], "bogus": 1}}, "bad options for split_by_class"),
        (lambda o: {**o, "options": {**o["options"], "order": "abc"}}, "order must be a list"),
        (lambda o: {**o, "dataset": {"builtin": "nope"}}, "no built-in dataset named 'nope'"),
        (lambda o: {**o, "dataset": {"builtin": "digits", "path": "/x"}}, "exactly one of"),
        (lambda o: {**o, "dataset": {**o["dataset"], "fingerprint": "0" * 64}}, "has changed"),
        (lambda o: {k: v for k, v in o.items() if k != "dataset"}, "needs a 'dataset'"),
    ],
)
def test_rebuild_task_refuses_bad_origins(digits, mutate, match):
    origin = split_by_class(digits)[0].origin
    with pytest.raises(DataError, match=match):
        rebuild_task(mutate(origin))


def test_task_names_for_class_groups(digits):
    names = [t.name for t in split_by_class(digits, order=[3, 7, 0, 1, 2], n_tasks=2)]
    assert names == ["digits 3,7", "digits 0-2"]
