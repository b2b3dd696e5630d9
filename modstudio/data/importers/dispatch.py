"""``import_path``: one entry point that chooses the reader from what the path is (a folder, or
the file's suffix or IDX name), builds the Dataset and records how to import it again.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError
from modstudio.data.importers.csv import _csv
from modstudio.data.importers.files import _stat
from modstudio.data.importers.idx import _IDX_NAME, _idx
from modstudio.data.importers.images import _image_folder
from modstudio.data.importers.npy import _npy, _npz
from modstudio.data.importers.options import _absolute, _jsonable, _text_option, _user_path


def import_path(path: str | Path, **options: Any) -> Dataset:
    """Import a dataset from a file or folder, choosing the reader from what the path is.

    Folders are image folders; ``.csv``/``.tsv``/``.txt`` are CSV; ``.npz``/``.npy`` NumPy;
    names ending ``idxN-ubyte[.gz]`` (or ``.idx``) IDX. Common options: ``name`` (default: the
    file's stem) and ``max_bytes`` (default ``MAX_BYTES``). See each reader for the rest.
    """
    if not isinstance(path, (str, Path)):
        raise DataError(f"a path must be a string or Path, got {type(path).__name__}")
    p = _user_path(path, "the path")
    st = _stat(p, str(p))
    opts = dict(options)
    name = opts.pop("name", None)
    if name is not None:
        name = _text_option(name, "name")
    suffix = p.suffix.lower()
    is_dir = stat.S_ISDIR(st.st_mode)
    resolved: dict[str, Any] = {}  # options a reader chose itself (an image folder's size), recorded too
    features = None
    if is_dir:
        x, y, names, source, resolved = _image_folder(p, opts)
    elif suffix in (".csv", ".tsv", ".txt"):
        x, y, names, source, features = _csv(p, opts)
    elif suffix == ".npz":
        x, y, names, source = _npz(p, opts)
    elif suffix == ".npy":
        x, y, names, source = _npy(p, opts)
    elif _IDX_NAME.search(p.name) or suffix == ".idx":
        x, y, names, source = _idx(p, opts)
    else:
        raise DataError(
            f"{p.name}: unsupported file type {p.suffix or '(no extension)'}; expected .csv, .npz, "
            ".npy, an IDX file (…-idx3-ubyte[.gz]) or a folder with one sub-folder per class"
        )
    if name is None:
        name = _default_name(p, is_dir)
    try:
        dataset = Dataset(x, y, names, name=str(name), source=source, feature_names=features)
    except DataError as exc:
        raise DataError(f"{p.name}: {exc}") from None
    recipe = {**options, **resolved}  # every option has been checked by the reader by now
    if isinstance(recipe.get("labels"), (str, Path)):  # a relative path would break a later rebuild
        recipe["labels"] = Path(_absolute(_user_path(recipe["labels"], "labels")))
    dataset.origin = {"path": _absolute(p), "options": _jsonable(recipe)}
    return dataset


def _default_name(p: Path, is_dir: bool) -> str:
    """'iris.csv' → 'iris', 'train-images-idx3-ubyte.gz' → 'train-images', a folder → its name."""
    if is_dir:
        return p.name or "dataset"
    if _IDX_NAME.search(p.name):
        return _IDX_NAME.sub("", p.name).rstrip("-_.") or p.name
    return p.stem or p.name
