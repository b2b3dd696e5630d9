"""Datasets, importers and task builders: where a continual-learning sequence comes from.

numpy (and Pillow, for image folders) only: importing this never imports Qt or torch.

    ds = load_builtin("digits")                  # or import_path("my.csv", label_column="kind")
    ds = load_builtin("mnist", flat=True)        # a standard benchmark, once `modstudio data get mnist` ran
    tasks = split_by_class(ds, n_tasks=5)        # digits 0-1, 2-3, … with train/val/test splits
    task = rebuild_task(tasks[2].origin)         # the same task again, from its recipe
"""

from modstudio.data.builders import (
    datasets_as_tasks,
    feature_permutation,
    permuted,
    rotate_images,
    rotated,
    split_by_class,
)
from modstudio.data.augment import Augmentation
from modstudio.data.builtin import BuiltinInfo, OptionInfo, list_builtin, load_builtin
from modstudio.data.dataset import Dataset, encode_labels
from modstudio.data.errors import DataError
from modstudio.data.importers import MAX_BYTES, import_path, read_idx
from modstudio.data.rebuild import load_source, rebuild_task
from modstudio.data.resources import resource_path, resources_dir
from modstudio.data.splits import SplitIndices, stratified_split
from modstudio.data.tasks import (
    SPLIT_NAMES,
    Split,
    Task,
    label_space_size,
    normalize_tasks,
    shares_label_space,
    union_classes,
)
from modstudio.data.values import UNIT, Encoded, ValueMap

__all__ = [
    "Dataset", "Task", "Split", "DataError", "SPLIT_NAMES",
    "load_builtin", "list_builtin", "BuiltinInfo", "OptionInfo",
    "import_path", "read_idx", "MAX_BYTES", "encode_labels",
    "stratified_split", "SplitIndices",
    "split_by_class", "permuted", "rotated", "datasets_as_tasks", "rebuild_task", "load_source",
    "feature_permutation", "rotate_images",
    "union_classes", "label_space_size", "shares_label_space",
    "resources_dir", "resource_path",
    "ValueMap", "Encoded", "UNIT", "Augmentation", "normalize_tasks",
]
