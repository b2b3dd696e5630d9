"""Tasks: one step of a continual-learning sequence, with its splits, classes and fingerprint.

Labels inside a task are local (0..k-1) so each task can have its own output head
(task-incremental); ``classes`` maps them to global ids for one shared label space
(class-incremental, ``global_labels``); tasks that keep the same ``classes`` and differ only in
``domain`` (permuted, rotated) form a domain-incremental sequence.

A task crosses the project file as JSON metadata (``to_dict``) plus plain arrays (``arrays``);
``from_dict`` treats both as untrusted and raises only DataError.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from modstudio.data.augment import NONE, Augmentation
from modstudio.data.dataset import all_finite, frozen, hash_arrays
from modstudio.data.errors import DataError
from modstudio.data.values import Encoded, Normalization, ValueMap, floats, standardization, stored

SPLIT_NAMES = ("train", "val", "test")
TASK_FORMAT = 3
"""2: samples may be bytes with ``values`` (data/values.py). A float task is still written as 1,
so its metadata reads as before; a byte task is 2, so a ModStudio that would read its bytes as
numbers refuses it as newer instead. 3: the task has an ``augmentation`` (data/augment.py) or a
``normalize`` (its mean/sd and the map as imported: ``values.Normalization``); only such a task is
written as 3, so a ModStudio that would silently train it unaugmented refuses it."""
MAX_NAME_LENGTH = 500


class Split:
    """One split of a task: features ``x`` (float32, n × sample_shape), local labels ``y`` (int64).

    Given an ``Encoded``, ``x`` is its bytes (uint8) and ``values`` their mapping (None for
    float features); ``floats()`` gives the features. Validation may be empty (val_fraction=0);
    the arrays are read-only.
    """

    def __init__(self, x: Any, y: Any, what: str = "split") -> None:
        x, self.values = stored(x, what)
        x = np.asarray(x)
        y = np.asarray(y)
        if x.dtype.kind not in "iuf":
            raise DataError(f"{what}: features must be numbers, got dtype {x.dtype}")
        if y.dtype.kind not in "iu":
            raise DataError(f"{what}: labels must be integers, got dtype {y.dtype}")
        if x.ndim < 2 or any(d == 0 for d in x.shape[1:]):
            raise DataError(f"{what}: features need shape (samples, features...), got {x.shape}")
        if y.ndim != 1:
            raise DataError(f"{what}: labels must be 1-D, got shape {y.shape}")
        if len(x) != len(y):
            raise DataError(f"{what}: {len(x)} samples but {len(y)} labels")
        self.x = frozen(x, np.float32 if self.values is None else np.uint8)
        if self.values is None and not all_finite(self.x):
            raise DataError(f"{what}: features contain NaN or infinite values")
        if y.size and y.min() < 0:
            raise DataError(f"{what}: labels must be non-negative")
        if y.size and y.dtype.kind == "u" and y.max() > 2**62:
            raise DataError(f"{what}: label {y.max()} is too large")
        self.y = frozen(y, np.int64)

    def __len__(self) -> int:
        return len(self.y)

    def floats(self, rows: slice = slice(None)) -> np.ndarray:
        """The features of ``rows`` (all) as float32: the mapping applied to bytes (a new array),
        else ``x`` itself."""
        return floats(self.x[rows], self.values)

    def __repr__(self) -> str:
        return f"Split({len(self)} samples, shape {self.x.shape[1:]})"


def _int_list(value: Any, what: str) -> list[int]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in value
    ):
        raise DataError(f"{what} must be a list of integers, got {value!r:.200}")
    return [int(v) for v in value]


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{what} must be a list of strings, got {value!r:.200}")
    return list(value)


class Task:
    """A named task: train/val/test splits with local labels, the global ``classes`` they stand
    for (local i ↔ ``classes[i]``), an optional ``domain`` and the ``origin`` recipe that
    ``rebuild_task`` uses to make it again from its source."""

    def __init__(
        self,
        name: str,
        classes: Sequence[int],
        class_names: Sequence[str],
        train: Split,
        val: Split,
        test: Split,
        domain: str | None = None,
        origin: dict | None = None,
        augmentation: Augmentation | None = None,
        normalization: Normalization | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise DataError(f"task name must be a non-empty string of at most {MAX_NAME_LENGTH} characters")
        self.name = name
        self.classes = _int_list(classes, "task classes")
        self.class_names = _str_list(class_names, "task class_names")
        if len(self.classes) < 2:
            raise DataError(f"task {name!r}: a task needs at least two classes, got {self.classes}")
        if len(set(self.classes)) != len(self.classes) or min(self.classes) < 0:
            raise DataError(f"task {name!r}: classes must be distinct non-negative ids, got {self.classes}")
        if len(self.class_names) != len(self.classes):
            raise DataError(
                f"task {name!r}: {len(self.class_names)} class names for {len(self.classes)} classes"
            )
        if domain is not None and not isinstance(domain, str):
            raise DataError(f"task {name!r}: domain must be a string or None")
        if origin is not None and not isinstance(origin, dict):
            raise DataError(f"task {name!r}: origin must be a dict or None")
        self.domain = domain
        self.origin = origin
        splits = {"train": train, "val": val, "test": test}
        for key, split in splits.items():
            if not isinstance(split, Split):
                raise DataError(f"task {name!r}: {key} must be a Split")
        if len(train) == 0:
            raise DataError(f"task {name!r}: the train split is empty")
        shape = train.x.shape[1:]
        k = len(self.classes)
        for key, split in splits.items():
            if split.values != train.values:
                raise DataError(f"task {name!r}: the {key} split's values are stored unlike the train split's")
            if split.x.shape[1:] != shape:
                raise DataError(
                    f"task {name!r}: {key} samples have shape {split.x.shape[1:]}, train has {shape}"
                )
            if len(split) and split.y.max() >= k:
                raise DataError(
                    f"task {name!r}: {key} label {int(split.y.max())} is out of range for {k} classes"
                )
        self.train, self.val, self.test = train, val, test
        augmentation = NONE if augmentation is None else augmentation
        if not isinstance(augmentation, Augmentation):
            raise DataError(f"task {name!r}: augmentation must be an Augmentation or None")
        augmentation.check(shape, f"task {name!r}")
        self.augmentation = augmentation
        if normalization is not None and (not isinstance(normalization, Normalization)
                                          or normalization.values != self.values):
            raise DataError(f"task {name!r}: its value mapping is not its normalisation's (the mapping as "
                            "imported with the mean and sd composed in)")
        self.normalization = normalization
        """The mean/sd its features are standardised by (``normalize_tasks``), or None: as imported."""
        self._fingerprint: str | None = None

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def values(self) -> ValueMap | None:
        """How the splits' bytes become features (``data/values.py``); None for float features."""
        return self.train.values

    def split(self, split_name: str) -> Split:
        if split_name not in SPLIT_NAMES:
            raise DataError(f"no split named {split_name!r}; splits are {list(SPLIT_NAMES)}")
        return getattr(self, split_name)

    def global_labels(self, split_name: str) -> np.ndarray:
        """Labels of a split in the union label space (class-incremental): ``classes[local]``."""
        return np.asarray(self.classes, dtype=np.int64)[self.split(split_name).y]

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the three splits and the class mapping; not of the name, so renaming a
        task keeps its fingerprint."""
        if self._fingerprint is None:
            # bytes hash as their floats: a task stored as bytes keeps the fingerprint of its floats
            arrays = [a for s in SPLIT_NAMES for a in ((self.split(s).x, self.values), self.split(s).y)]
            self._fingerprint = hash_arrays(
                arrays, {"classes": self.classes, "class_names": self.class_names}
            )
        return self._fingerprint

    @property
    def imported_values(self) -> ValueMap | None:
        """The value mapping as imported: ``values`` without the normalisation (None for floats)."""
        return self.values if self.normalization is None else self.normalization.imported

    def with_normalization(self, normalization: Normalization | None) -> Task:
        """A copy of the task (same bytes, name, augmentation) read through ``normalization``, whose
        ``imported`` must be this task's map as imported; None reads it with that map again, so the
        features and fingerprint are exactly those of before. DataError for float features
        (``normalize_tasks`` computes the statistics of several tasks together)."""
        imported = self.imported_values
        if imported is None:
            raise DataError(not_normalizable(self))
        if normalization is not None and normalization.imported != imported:
            raise DataError(f"task {self.name!r}: the normalisation is of another value mapping than the task's")
        values = imported if normalization is None else normalization.values
        values.check(self.train.x.shape, f"task {self.name!r}")
        changed = copy.copy(self)
        for name in SPLIT_NAMES:  # the same read-only bytes (never a copy: they may be a file map)
            split = copy.copy(self.split(name))
            split.values = values
            setattr(changed, name, split)
        changed.normalization = normalization
        if values != self.values:
            changed._fingerprint = None  # the features changed, so does their hash
        return changed

    def describe_preparation(self) -> str:
        """What training does to the samples, in words, as the Tasks panel and ``modstudio info``
        show it: "crop ±4 px, flip, mean/sd", or "none"."""
        parts = ([self.augmentation.describe()] if self.augmentation.active else []) + \
            ([self.normalization.describe()] if self.normalization is not None else [])
        return ", ".join(parts) or "none"

    def with_augmentation(self, augmentation: Augmentation) -> Task:
        """A copy of the task (same data, fingerprint and name) trained with ``augmentation``;
        DataError for an active one on samples that are not images."""
        augmentation.check(self.sample_shape, f"task {self.name!r}")
        changed = copy.copy(self)
        changed.augmentation = augmentation
        return changed

    def to_dict(self) -> dict:
        """JSON-able metadata (no arrays); ``arrays()`` holds the data. ``values`` only for bytes,
        ``augmentation`` and ``normalize`` only when there is one, so other tasks' metadata reads as
        before."""
        values = {} if self.values is None else {"values": self.values.to_dict()}
        if self.augmentation.active:
            values["augmentation"] = self.augmentation.to_dict()
        if self.normalization is not None:
            values["normalize"] = self.normalization.to_dict()
        fmt = TASK_FORMAT if self.augmentation.active or self.normalization is not None \
            else 1 if self.values is None else 2
        return {
            "format": fmt,
            "name": self.name,
            "classes": list(self.classes),
            "class_names": list(self.class_names),
            "domain": self.domain,
            "origin": self.origin,
            "sample_shape": list(self.sample_shape),
            "sizes": {s: len(self.split(s)) for s in SPLIT_NAMES},
            "fingerprint": self.fingerprint,
            **values,
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The split arrays by name (train_x, train_y, val_x, val_y, test_x, test_y), for an .npz."""
        out = {}
        for s in SPLIT_NAMES:
            out[f"{s}_x"] = self.split(s).x
            out[f"{s}_y"] = self.split(s).y
        return out

    @classmethod
    def from_dict(cls, meta: Any, arrays: Any) -> Task:
        """A task from ``to_dict`` metadata and ``arrays()``, both untrusted: any defect (types,
        shapes, dtypes, label range, non-finite values, a fingerprint that does not match) is a
        DataError naming it, and nothing else is ever raised for bad input."""
        try:
            return cls._from_dict(meta, arrays)
        except (DataError, MemoryError):  # running out of memory says nothing about the data: the caller tells
            raise
        except Exception as exc:  # belt and braces: a malformed archive must not crash the loader
            raise DataError(f"invalid task data: {type(exc).__name__}: {exc}") from None

    @classmethod
    def _from_dict(cls, meta: Any, arrays: Any) -> Task:
        if not isinstance(meta, Mapping):
            raise DataError(f"task metadata must be a JSON object, got {type(meta).__name__}")
        if not isinstance(arrays, Mapping):
            raise DataError(f"task arrays must be a mapping of names to arrays, got {type(arrays).__name__}")
        fmt = meta.get("format", TASK_FORMAT)
        if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
            raise DataError(f"task metadata: format must be a positive integer, got {fmt!r}")
        if fmt > TASK_FORMAT:
            raise DataError(f"task metadata has format {fmt}, newer than this version reads ({TASK_FORMAT})")
        for key in ("name", "classes", "class_names"):
            if key not in meta:
                raise DataError(f"task metadata is missing {key!r}")
        name = meta["name"]
        if not isinstance(name, str):
            raise DataError("task metadata: 'name' must be a string")
        where = f"task {name[:80]!r}"
        origin = meta.get("origin")
        if origin is not None:
            if not isinstance(origin, dict):
                raise DataError(f"{where}: 'origin' must be an object or null")
            try:
                json.dumps(origin, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise DataError(f"{where}: 'origin' is not plain JSON ({exc})") from None
        names = [f"{s}_{part}" for s in SPLIT_NAMES for part in ("x", "y")]
        missing = [n for n in names if n not in arrays]
        if missing:
            raise DataError(f"{where}: missing arrays {missing}")
        unknown = sorted(str(k) for k in arrays if k not in names)
        if unknown:
            raise DataError(f"{where}: unknown arrays {unknown}")
        for n in names:
            a = arrays[n]
            if not isinstance(a, np.ndarray):
                raise DataError(f"{where}: {n} must be an array, got {type(a).__name__}")
            want = "iuf" if n.endswith("_x") else "iu"
            if a.dtype.kind not in want:
                raise DataError(f"{where}: {n} has dtype {a.dtype}, expected {'numbers' if n.endswith('_x') else 'integers'}")
        values = meta.get("values")
        if values is not None and fmt < 2:
            raise DataError(f"{where}: 'values' needs task format 2, the metadata says {fmt}")
        if values is not None:
            values = ValueMap.from_dict(values)
        augmentation = meta.get("augmentation")
        if augmentation is not None and fmt < 3:
            raise DataError(f"{where}: 'augmentation' needs task format 3, the metadata says {fmt}")
        augmentation = None if augmentation is None else Augmentation.from_dict(augmentation)
        normalization = meta.get("normalize")
        if normalization is not None and (fmt < 3 or values is None):
            raise DataError(f"{where}: 'normalize' needs task format 3 and 'values', the metadata says format {fmt}"
                            f"{'' if values is not None else ' and no values'}")
        normalization = None if normalization is None else Normalization.from_dict(normalization)
        splits = {
            s: Split(arrays[f"{s}_x"] if values is None else Encoded(arrays[f"{s}_x"], values),
                     arrays[f"{s}_y"], what=f"{where}, {s} split") for s in SPLIT_NAMES
        }
        task = cls(
            name, meta["classes"], meta["class_names"], splits["train"], splits["val"], splits["test"],
            domain=meta.get("domain"), origin=origin, augmentation=augmentation, normalization=normalization,
        )
        shape = meta.get("sample_shape")
        if shape is not None and (not isinstance(shape, list) or list(task.sample_shape) != shape):
            raise DataError(f"{where}: sample_shape {shape!r} does not match the arrays {list(task.sample_shape)}")
        fingerprint = meta.get("fingerprint")
        if fingerprint is not None and fingerprint != task.fingerprint:
            raise DataError(f"{where}: the data does not match its fingerprint (changed or damaged)")
        return task

    def __repr__(self) -> str:
        sizes = "/".join(str(len(self.split(s))) for s in SPLIT_NAMES)
        return f"Task({self.name!r}, classes {self.classes}, train/val/test {sizes})"


def not_normalizable(task: Task) -> str:
    """Why a task of float features cannot be normalised, in words (the DataError's, the GUI's tooltip)."""
    return (f"{task.name!r} is stored as float features, not as bytes with a value mapping, so it cannot be "
            "normalised here: normalise its features before importing them (an image folder: normalize "
            "\"standard\")")


def normalize_tasks(tasks: Sequence[Task], on: bool = True) -> list[Task]:
    """The tasks with their features standardised to mean 0 and sd 1 per channel (an image's; one
    for flat features) over the union of their training splits, under the maps as imported — the
    dataset's statistics, shared, so tasks imported alike get one ``ValueMap`` and the trainer keeps
    them as bytes on the device. ``on=False``: each with its map as imported again. DataError for a
    task of float features."""
    tasks = list(tasks)
    for task in tasks:
        if task.values is None:
            raise DataError(not_normalizable(task))
    if not on:
        return [t.with_normalization(None) for t in tasks]
    if not tasks:
        return []
    mean, sd = standardization((t.train.x, t.imported_values) for t in tasks)
    return [t.with_normalization(Normalization(t.imported_values, mean, sd)) for t in tasks]


def union_classes(tasks: Iterable[Task]) -> list[int]:
    """The sorted global class ids of a sequence: the label space of class-incremental learning."""
    return sorted({c for t in tasks for c in t.classes})


def label_space_size(tasks: Iterable[Task]) -> int:
    """Output width a single class-incremental head needs (largest global id + 1)."""
    return max((c for t in tasks for c in t.classes), default=-1) + 1


def shares_label_space(tasks: Sequence[Task]) -> bool:
    """True when every task has the same classes (a domain-incremental sequence)."""
    return all(t.classes == tasks[0].classes for t in tasks) if tasks else True

