"""A present benchmark as a ModStudio Dataset (what ``load_builtin("mnist")`` returns).

Every file is checked against its pinned checksum before it is read (once per process, see
``store.verify``), so a file damaged on disk is refused with its name and the checksum it should
have, never read into wrong data.

Memory: the Dataset holds the pixels as bytes, read as [0, 1] (``values.UNIT``, as the IDX
importer does), one byte a pixel as in the files (MNIST's training set: 47 MB; CIFAR-10's:
154 MB); they become floats a batch at a time on the training device.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from modstudio.data.benchmarks.catalog import Benchmark
from modstudio.data.benchmarks.readers import read_benchmark
from modstudio.data.benchmarks.store import lookup, state, verify
from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError
from modstudio.data.values import UNIT, Encoded


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
    if flat:
        x8 = x8.reshape(len(x8), -1)
    part = "test" if test else "training"
    labels = " (superclasses)" if coarse else ""
    return Dataset(Encoded(x8, UNIT), y, names, name=f"{bench.name} test" if test else bench.name,
                   source=f"{bench.title}, {part} set{labels}, {len(y):,} images: {bench.reference}")
