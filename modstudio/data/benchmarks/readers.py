"""A benchmark's verified files → images (N, C, H, W) uint8, labels and class names.

Through the importers' own readers (``importers.idx.read_idx`` for the MNIST family,
``importers.cifar`` for CIFAR's binary records), so the same bounds and checks hold; then the
shapes and counts are held against what the catalog says the benchmark has.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modstudio.data.benchmarks.catalog import Benchmark
from modstudio.data.errors import DataError
from modstudio.data.importers.cifar import read_cifar_archive
from modstudio.data.importers.idx import read_idx


def read_benchmark(bench: Benchmark, folder: Path, *, test: bool = False,
                   coarse: bool = False) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The training (or ``test``) set of ``bench`` from the files in ``folder``; ``coarse`` picks
    CIFAR-100's 20 superclasses."""
    if coarse and (bench.cifar is None or bench.cifar.coarse is None):
        raise DataError(f"{bench.title} has no superclasses (coarse labels)")
    if bench.format == "idx":
        x, y, names = _idx(bench, folder, test)
    elif bench.format == "cifar":
        x, y, names = _cifar(bench, folder, test, coarse)
    else:
        raise DataError(f"{bench.name}: unknown benchmark format {bench.format!r}")
    expected = (bench.test_samples if test else bench.train_samples, *bench.sample_shape)
    if x.shape != expected or x.dtype != np.uint8:
        raise DataError(f"{bench.name}: the files hold {x.dtype} images of shape {x.shape}, expected uint8 {expected}")
    if y.shape != (len(x),) or y.min() < 0 or y.max() >= len(names):
        raise DataError(f"{bench.name}: the labels do not fit the {len(names)} classes")
    return x, y, names


def _idx(bench: Benchmark, folder: Path, test: bool):
    prefix = "t10k" if test else "train"
    images = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels = folder / f"{prefix}-labels-idx1-ubyte.gz"
    x = read_idx(images)
    y = read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"{images.name} and {labels.name}: shapes {x.shape} and {y.shape} are not images and "
                        "their labels")
    return x[:, None], y.astype(np.int64), list(bench.class_names)


def _cifar(bench: Benchmark, folder: Path, test: bool, coarse: bool):
    layout = bench.cifar
    assert layout is not None
    index, names_member = layout.coarse if coarse else layout.fine
    return read_cifar_archive(folder / bench.files[0].name, layout.test if test else layout.train,
                              layout.label_bytes, index, names_member)
