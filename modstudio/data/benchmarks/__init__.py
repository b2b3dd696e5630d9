"""The standard benchmarks (MNIST, Fashion-MNIST, KMNIST, CIFAR-10, CIFAR-100): fetched once from
their publishers, checked against checksums pinned in the code, offline afterwards.

    get("mnist")                          # download (resumable) into the per-user data folder
    get("mnist", source="~/Downloads")    # or import the files a user already has
    load_builtin("mnist", flat=True)      # then a Dataset like any built-in (origin: the name)

One module a job:

- ``catalog``: the benchmarks, one entry each (files, mirrors, checksums, format, options);
- ``fetch``: one file over HTTP(S), resumable, capped, cancellable, verified before it is kept;
- ``store``: the per-user folder, what is present, ``get`` (download or import);
- ``readers``: the files → uint8 images and labels (through ``importers.idx`` and ``importers.cifar``);
- ``load``: → a Dataset.

numpy and the standard library only (urllib, hashlib, tarfile): no torch, no Qt.
"""

from __future__ import annotations

from modstudio.data.benchmarks.catalog import Benchmark, BenchmarkFile, benchmarks
from modstudio.data.benchmarks.fetch import ChecksumError, DownloadCancelled, DownloadError, Transfer
from modstudio.data.benchmarks.load import load_benchmark
from modstudio.data.benchmarks.store import BenchmarkState, FileResult, get, is_present, root, state, states

__all__ = [
    "Benchmark", "BenchmarkFile", "benchmarks", "ChecksumError", "DownloadCancelled", "DownloadError", "Transfer",
    "load_benchmark", "BenchmarkState", "FileResult", "get", "is_present", "root", "state", "states",
]
