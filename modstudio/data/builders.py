"""Task builders: the standard ways to turn datasets into a continual-learning sequence.

- ``split_by_class``: disjoint groups of classes, one group a task (task- or class-incremental).
- ``permuted``: every task sees all classes through its own fixed pixel permutation (domain-incr.).
- ``rotated``: every task sees all images rotated by its own fixed angle (domain-incremental).
- ``datasets_as_tasks``: each dataset in a list is one task.

Each builder first makes a plan (validated options and one recipe per task) and then builds
tasks from it, so ``rebuild_task`` can remake a single task from its ``origin`` without building
the whole sequence. Every task's ``origin`` stores resolved options (the shuffled class order,
the angles), so rebuilding never depends on defaults that might change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError
from modstudio.data.splits import check_fractions, stratified_split
from modstudio.data.tasks import Split, Task
from modstudio.data.values import Encoded, ValueMap

Plan = tuple[int, Callable[[int], Task]]


def _positive_int(value: Any, key: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise DataError(f"{key} must be an integer of at least {minimum}, got {value!r}")
    return int(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise DataError(f"seed must be a non-negative integer, got {value!r}")
    return int(value)


def _check_dataset(dataset: Any, what: str = "dataset") -> Dataset:
    if not isinstance(dataset, Dataset):
        raise DataError(f"{what} must be a Dataset, got {type(dataset).__name__}")
    return dataset


def _source_of(dataset: Dataset) -> dict | None:
    return None if dataset.origin is None else {**dataset.origin, "fingerprint": dataset.fingerprint}


def _origin(datasets: Sequence[Dataset], builder: str, options: dict, index: int) -> dict | None:
    """The JSON recipe of one task; None when a dataset was built in code and cannot be reloaded."""
    sources = [_source_of(d) for d in datasets]
    if any(s is None for s in sources):
        return None
    head = {"dataset": sources[0]} if builder != "datasets_as_tasks" else {"datasets": sources}
    return {**head, "builder": builder, "options": options, "index": index}


def _splits(x: np.ndarray, y: np.ndarray, seed: Any, val_fraction: float, test_fraction: float,
            values: ValueMap | None = None):
    """Stratified train/val/test splits; samples stay bytes with ``values`` when they are."""
    parts = stratified_split(y, val_fraction, test_fraction, seed)
    return tuple(Split(x[i] if values is None else Encoded(x[i], values), y[i]) for i in parts)


# --- split by class ----------------------------------------------------------------------------


def _class_groups(order: list[int], n_tasks: int | None, per_task: int | None) -> list[list[int]]:
    """Cut the class order into task groups. With only ``n_tasks``, each task gets
    len(order) // n_tasks classes and the last also takes the remainder; with only
    ``classes_per_task``, the last task gets what is left; with both, the first
    n_tasks × classes_per_task classes are used. A group of one class is refused."""
    total = len(order)
    if n_tasks is None and per_task is None:
        per_task = 2
    if n_tasks is not None and per_task is not None:
        if n_tasks * per_task > total:
            raise DataError(
                f"{n_tasks} tasks × {per_task} classes need {n_tasks * per_task} classes, "
                f"but only {total} are available"
            )
        sizes = [per_task] * n_tasks
    elif n_tasks is not None:
        per_task = total // n_tasks
        if per_task < 2:
            raise DataError(f"{total} classes are too few for {n_tasks} tasks of at least two classes")
        sizes = [per_task] * (n_tasks - 1) + [total - per_task * (n_tasks - 1)]
    else:
        assert per_task is not None
        sizes = [per_task] * (total // per_task) + ([total % per_task] if total % per_task else [])
    if per_task < 2 or sizes[-1] < 2:
        left = order[sum(sizes[:-1]):]
        raise DataError(
            f"splitting {total} classes into tasks of {per_task} leaves a task with only "
            f"class {left}; a task needs at least two classes (choose another classes_per_task "
            "or n_tasks, or give an order without it)"
        )
    groups, start = [], 0
    for size in sizes:
        groups.append(order[start:start + size])
        start += size
    return groups


def _group_label(names: list[str], group: list[int]) -> str:
    """'0-4' for a run of consecutive classes, '3,7,2' otherwise (so '3-7' never means just two)."""
    if all(b == a + 1 for a, b in zip(group, group[1:])):
        return f"{names[group[0]]}-{names[group[-1]]}"
    return ",".join(names[c] for c in group)


def _plan_split_by_class(dataset: Dataset, n_tasks=None, classes_per_task=None, order=None, seed=0,
                         val_fraction=0.1, test_fraction=0.2, shuffle=False) -> Plan:
    dataset = _check_dataset(dataset)
    seed = _seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    n_classes = dataset.num_classes
    if order is None:
        order = list(range(n_classes))
        if shuffle:
            order = [int(c) for c in np.random.default_rng(seed).permutation(n_classes)]
    else:
        if isinstance(order, np.ndarray):
            order = order.tolist()
        if not isinstance(order, (list, tuple)) or not all(
            isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in order
        ):
            raise DataError(f"order must be a list of class ids, got {order!r:.200}")
        order = [int(c) for c in order]
        bad = [c for c in order if not 0 <= c < n_classes]
        if bad:
            raise DataError(f"order has class ids {bad} outside 0..{n_classes - 1}")
        if len(set(order)) != len(order):
            raise DataError(f"order lists a class more than once: {order}")
    n = None if n_tasks is None else _positive_int(n_tasks, "n_tasks")
    k = None if classes_per_task is None else _positive_int(classes_per_task, "classes_per_task", 2)
    groups = _class_groups(order, n, k)
    options = {"n_tasks": n, "classes_per_task": k, "order": order, "seed": seed,
               "val_fraction": val_fraction, "test_fraction": test_fraction}

    def make(i: int) -> Task:
        group = groups[i]
        lookup = np.full(n_classes, -1, dtype=np.int64)
        lookup[group] = np.arange(len(group))
        members = np.flatnonzero(lookup[dataset.y] >= 0)
        train, val, test = _splits(dataset.x[members], lookup[dataset.y[members]], [seed, i],
                                   val_fraction, test_fraction, dataset.values)
        return Task(
            f"{dataset.name} {_group_label(dataset.class_names, group)}",
            group, [dataset.class_names[c] for c in group], train, val, test,
            domain=None, origin=_origin([dataset], "split_by_class", options, i),
        )

    return len(groups), make


def split_by_class(dataset: Dataset, n_tasks: int | None = None, classes_per_task: int | None = None,
                   order: Sequence[int] | None = None, seed: int = 0, val_fraction: float = 0.1,
                   test_fraction: float = 0.2, shuffle: bool = False) -> list[Task]:
    """Tasks of disjoint class groups, e.g. digits 0-1, 2-3, … (split MNIST).

    The class order is ``order`` if given (it may list a subset of the classes), else the natural
    order, or a shuffle by ``seed`` when ``shuffle=True``. Default: tasks of two classes. With only
    ``n_tasks`` the last task takes any remainder (10 classes, 3 tasks → 3, 3, 4 classes); with only
    ``classes_per_task`` the last task gets what is left. A task of one class is refused.
    Labels are local (0..k-1); ``task.classes`` gives the global ids.
    """
    n, make = _plan_split_by_class(dataset, n_tasks, classes_per_task, order, seed,
                                   val_fraction, test_fraction, shuffle)
    return [make(i) for i in range(n)]


# --- permuted ----------------------------------------------------------------------------------


def feature_permutation(n_features: int, seed: int, index: int, identity_first: bool = True) -> np.ndarray:
    """The fixed permutation of task ``index``: a function of (seed, index) only."""
    if identity_first and index == 0:
        return np.arange(n_features)
    return np.random.default_rng([seed, index]).permutation(n_features)


def _plan_permuted(dataset: Dataset, n_tasks=5, seed=0, val_fraction=0.1, test_fraction=0.2,
                   identity_first=True) -> Plan:
    dataset = _check_dataset(dataset)
    n = _positive_int(n_tasks, "n_tasks")
    seed = _seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    if not isinstance(identity_first, (bool, np.bool_)):
        raise DataError(f"identity_first must be true or false, got {identity_first!r}")
    options = {"n_tasks": n, "seed": seed, "val_fraction": val_fraction,
               "test_fraction": test_fraction, "identity_first": bool(identity_first)}
    # Bytes stay bytes under one mapping for every channel; a permutation mixes channels, so
    # per-channel mappings are applied first.
    values = dataset.values if dataset.values is not None and dataset.values.channels == 1 else None
    flat = (dataset.x if values is not None else dataset.floats()).reshape(len(dataset), -1)
    everything = list(range(dataset.num_classes))

    def make(i: int) -> Task:
        perm = feature_permutation(flat.shape[1], seed, i, bool(identity_first))
        x = flat[:, perm].reshape(dataset.x.shape)
        train, val, test = _splits(x, dataset.y, seed, val_fraction, test_fraction, values)
        return Task(f"{dataset.name} permuted #{i}", everything, list(dataset.class_names),
                    train, val, test, domain=f"permutation {i}",
                    origin=_origin([dataset], "permuted", options, i))

    return n, make


def permuted(dataset: Dataset, n_tasks: int = 5, seed: int = 0, val_fraction: float = 0.1,
             test_fraction: float = 0.2, identity_first: bool = True) -> list[Task]:
    """Permuted-input tasks (permuted MNIST): all classes, a fixed feature permutation per task.

    Task 0 is the identity (the data as it is) unless ``identity_first=False``; task i > 0 uses
    ``default_rng([seed, i]).permutation``. All tasks share one stratified split (same samples)
    and the same ``classes``, so they form a domain-incremental sequence.
    """
    n, make = _plan_permuted(dataset, n_tasks, seed, val_fraction, test_fraction, identity_first)
    return [make(i) for i in range(n)]


# --- rotated -----------------------------------------------------------------------------------


def rotate_images(x: np.ndarray, angle: float) -> np.ndarray:
    """Rotate images (…, H, W) counter-clockwise (as displayed) about their centre, bilinear,
    zero outside. Vectorised over all leading axes: one gather per corner for the whole set."""
    h, w = x.shape[-2:]
    theta = np.deg2rad(angle)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dy, dx = yy - cy, xx - cx
    ys = np.round(dx * np.sin(theta) + dy * np.cos(theta) + cy, 9)
    xs = np.round(dx * np.cos(theta) - dy * np.sin(theta) + cx, 9)
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    wy, wx = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
    out = np.zeros(x.shape, dtype=np.float32)
    for oy, ox, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                           (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yi, xi = y0 + oy, x0 + ox
        valid = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w) & (weight > 0)
        out += x[..., np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)] * np.where(valid, weight, 0)
    return out


def _plan_rotated(dataset: Dataset, n_tasks=None, angles=None, seed=0, val_fraction=0.1,
                  test_fraction=0.2) -> Plan:
    dataset = _check_dataset(dataset)
    if len(dataset.sample_shape) not in (2, 3):
        raise DataError(
            f"rotated tasks need images of shape (H, W) or (channels, H, W); "
            f"{dataset.name!r} has samples of shape {dataset.sample_shape}"
        )
    seed = _seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    if angles is None:
        n = _positive_int(5 if n_tasks is None else n_tasks, "n_tasks")
        angles = [i * 180.0 / n for i in range(n)]
    else:
        if isinstance(angles, np.ndarray):
            angles = angles.tolist()
        if not isinstance(angles, (list, tuple)) or not angles or not all(
            isinstance(a, (int, float, np.integer, np.floating)) and not isinstance(a, bool)
            and np.isfinite(a) for a in angles
        ):
            raise DataError(f"angles must be a non-empty list of finite numbers (degrees), got {angles!r:.200}")
        angles = [float(a) for a in angles]
        if n_tasks is not None and _positive_int(n_tasks, "n_tasks") != len(angles):
            raise DataError(f"n_tasks is {n_tasks} but {len(angles)} angles were given")
    options = {"n_tasks": len(angles), "angles": angles, "seed": seed,
               "val_fraction": val_fraction, "test_fraction": test_fraction}
    everything = list(range(dataset.num_classes))

    def make(i: int) -> Task:
        x = rotate_images(dataset.floats(), angles[i])  # bilinear: between bytes, so floats
        train, val, test = _splits(x, dataset.y, seed, val_fraction, test_fraction)
        label = f"{angles[i]:g}°"
        return Task(f"{dataset.name} rotated {label}", everything, list(dataset.class_names),
                    train, val, test, domain=f"rotation {label}",
                    origin=_origin([dataset], "rotated", options, i))

    return len(angles), make


def rotated(dataset: Dataset, n_tasks: int | None = None, angles: Sequence[float] | None = None,
            seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2) -> list[Task]:
    """Rotated-image tasks: all classes, a fixed angle per task (degrees, counter-clockwise).

    Default angles spread over half a turn: i × 180 / n_tasks (0°, 36°, 72°, … for 5 tasks),
    so task 0 is the data as it is. Images only (sample shape (H, W) or (C, H, W)); bilinear.
    """
    n, make = _plan_rotated(dataset, n_tasks, angles, seed, val_fraction, test_fraction)
    return [make(i) for i in range(n)]


# --- each dataset a task -----------------------------------------------------------------------


def _plan_datasets_as_tasks(datasets, names=None, seed=0, val_fraction=0.1, test_fraction=0.2,
                            label_space="auto") -> Plan:
    if isinstance(datasets, Dataset) or not isinstance(datasets, (list, tuple)) or not datasets:
        raise DataError("datasets_as_tasks needs a non-empty list of datasets")
    datasets = [_check_dataset(d, f"datasets[{i}]") for i, d in enumerate(datasets)]
    seed = _seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    shape = datasets[0].sample_shape
    for i, d in enumerate(datasets):
        if d.sample_shape != shape:
            raise DataError(
                f"dataset {i} ({d.name!r}) has samples of shape {d.sample_shape}, dataset 0 "
                f"({datasets[0].name!r}) has {shape}; one network needs one input shape"
            )
    if names is None:
        names = [d.name for d in datasets]
        if len(set(names)) != len(names):
            names = [f"{n} #{i}" for i, n in enumerate(names)]
    elif not isinstance(names, (list, tuple)) or len(names) != len(datasets) \
            or not all(isinstance(n, str) and n.strip() for n in names):
        raise DataError(f"names must be a list of {len(datasets)} non-empty strings, got {names!r:.200}")
    names = list(names)
    if label_space == "auto":
        same = all(d.class_names == datasets[0].class_names for d in datasets)
        label_space = "shared" if same else "disjoint"
    if label_space == "shared":
        sizes = {d.num_classes for d in datasets}
        if len(sizes) != 1:
            raise DataError(f"a shared label space needs the same number of classes in every dataset, got {sorted(sizes)}")
        offsets = [0] * len(datasets)
    elif label_space == "disjoint":
        offsets = [int(v) for v in np.cumsum([0] + [d.num_classes for d in datasets[:-1]])]
    else:
        raise DataError(f"label_space must be 'auto', 'shared' or 'disjoint', got {label_space!r}")
    options = {"names": names, "seed": seed, "val_fraction": val_fraction,
               "test_fraction": test_fraction, "label_space": label_space}

    def make(i: int) -> Task:
        d = datasets[i]
        train, val, test = _splits(d.x, d.y, [seed, i], val_fraction, test_fraction, d.values)
        classes = [offsets[i] + c for c in range(d.num_classes)]
        return Task(names[i], classes, list(d.class_names), train, val, test,
                    domain=d.name, origin=_origin(datasets, "datasets_as_tasks", options, i))

    return len(datasets), make


def datasets_as_tasks(datasets: Sequence[Dataset], names: Sequence[str] | None = None, seed: int = 0,
                      val_fraction: float = 0.1, test_fraction: float = 0.2,
                      label_space: str = "auto") -> list[Task]:
    """One task per dataset (all with the same sample shape).

    ``label_space``: "shared" gives every task the ids 0..C-1 (same classes in new domains,
    domain-incremental); "disjoint" gives each dataset its own block of global ids
    (class-incremental); "auto" (default) is "shared" when all class names agree.
    """
    n, make = _plan_datasets_as_tasks(datasets, names, seed, val_fraction, test_fraction, label_space)
    return [make(i) for i in range(n)]


PLANS: dict[str, Callable[..., Plan]] = {
    "split_by_class": _plan_split_by_class,
    "permuted": _plan_permuted,
    "rotated": _plan_rotated,
    "datasets_as_tasks": _plan_datasets_as_tasks,
}
