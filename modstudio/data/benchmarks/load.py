"""A present benchmark as a ModStudio Dataset (what ``load_builtin("mnist")`` returns).

Every file is checked against its pinned checksum before it is read (once per process, see
``store.verify``), so a file damaged on disk is refused with its name and the checksum it should
have, never read into wrong data.

Memory: the Dataset holds float32 features, pixels scaled to [0, 1] as the IDX importer does, so
4 bytes a pixel where the files hold 1 (MNIST's training set: 47 MB of pixels, 188 MB as a
Dataset; CIFAR-10's: 154 MB, 614 MB). At the peak of a load the uint8 images, the scaled copy and
the Dataset's own copy are all alive: about 9 bytes a pixel.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from modstudio.data.benchmarks.catalog import Benchmark
from modstudio.data.benchmarks.readers import read_benchmark
from modstudio.data.benchmarks.store import lookup, state, verify
from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError


def missing_message(bench: Benchmark, missing: list[str], folder: Path) -> str:
    what = "no files" if len(missing) == len(bench.files) else f"{', '.join(missing)} missing"
    return (f"{bench.title} is not on this computer ({what} in {folder}): run "
            f"`modstudio data get {bench.name}` once (it downloads {bench.download_bytes / 1e6:,.0f} MB from "
            "its publisher), or `modstudio data get "
            f"{bench.name} --from FOLDER` with the files you have")


def load_benchmark(name: str, *, test: bool = False, flat: bool = False, coarse: bool = False,
                   folder: Path | None = None, catalog: Mapping[str, Benchmark] | None = None) -> Dataset:
    """The training set (or the official ``test`` set) of benchmark ``name`` from its verified files;
    ``flat`` gives one row of C·H·W features per image, ``coarse`` CIFAR-100's superclasses."""
    bench = lookup(name, catalog)
    here = state(name, folder=folder, catalog=catalog)
    if not here.present:
        raise DataError(missing_message(bench, here.missing, here.folder))
    for f in here.files:
        verify(f.path, f.spec)
    x8, y, names = read_benchmark(bench, here.folder, test=test, coarse=coarse)
    x = x8.astype(np.float32)
    del x8
    np.divide(x, np.float32(255.0), out=x)
    if flat:
        x = x.reshape(len(x), -1)
    part = "test" if test else "training"
    labels = " (superclasses)" if coarse else ""
    return Dataset(x, y, names, name=f"{bench.name} test" if test else bench.name,
                   source=f"{bench.title}, {part} set{labels}, {len(y):,} images: {bench.reference}")
