"""Project save/load speed against plain safetensors and numpy on the same arrays: what
``modstudio bench`` reports.

Ratios, not seconds, so figures from different machines compare. Our save includes the fsync
that makes it crash-safe; plain ``save_file`` does not, so ``save_no_fsync_ratio`` is the
like-for-like figure and ``save_ratio`` shows the price of durability on this disk. Embedded
task data is measured against ``np.savez``/``np.load`` of the task arrays, with and without the
fsync on both sides.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import safetensors.numpy as stnp

from modstudio.project.loading import load_project
from modstudio.project.model import Project
from modstudio.project.run import Run
from modstudio.project.saving import save_project

_WIDTH = 1024  # each instance of the hidden layer is a 1024×1024 float32 matrix (4 MiB)


def bench_project(size_mb: float = 100) -> Project:
    """A project with one finished run whose module bank holds about ``size_mb`` MB of float32."""
    project = Project.new("bench")
    g = project.graph
    x = g.add_node("input", shape=(_WIDTH,))
    h = g.add_node("linear", out_features=_WIDTH)
    head = g.add_node("head", classes=10)
    g.connect(x, h)
    g.connect(h, head)
    rng = np.random.default_rng(0)
    instances = max(1, round(size_mb * 1e6 / ((_WIDTH + 1) * _WIDTH * 4)))
    weights = {f"bank/{head}/0/weight": rng.standard_normal((10, _WIDTH), np.float32),
               f"bank/{head}/0/bias": np.zeros(10, np.float32)}
    for i in range(instances):
        weights[f"bank/{h}/{i}/weight"] = rng.standard_normal((_WIDTH, _WIDTH), np.float32)
        weights[f"bank/{h}/{i}/bias"] = rng.standard_normal(_WIDTH, np.float32)
    project.runs.append(Run(strategy="expansion", status="finished", weights=weights))
    return project


def _best(fn: Callable[[Path], object], folder: Path, suffix: str, repeats: int, keep: bool = False) -> float:
    """Best time of ``fn(path)``; each write goes to a fresh path (no cost of replacing an old file)."""
    times = []
    for i in range(repeats):
        path = folder / f"bench{i}{suffix}" if not keep else folder / f"bench{suffix}"
        start = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - start)
        if not keep:
            path.unlink()
    return min(times)


def bench_project_io(size_mb: float = 100, repeats: int = 3, folder: str | Path | None = None) -> dict:
    """Seconds (best of ``repeats``) and ratios for project save/load vs safetensors save_file/load_file."""
    project = bench_project(size_mb)
    weights = project.runs[0].weights
    assert weights is not None
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp = Path(tmp)
        plain_save = _best(lambda p: stnp.save_file(weights, p), tmp, ".safetensors", repeats)
        save = _best(lambda p: save_project(project, p, backup=False), tmp, ".modstudio", repeats)
        no_fsync = _best(lambda p: save_project(project, p, backup=False, durable=False), tmp, ".modstudio", repeats)
        stnp.save_file(weights, tmp / "bench.safetensors")
        save_project(project, tmp / "bench.modstudio")
        plain_load = _best(lambda p: stnp.load_file(p), tmp, ".safetensors", repeats, keep=True)
        load = _best(lambda p: load_project(p), tmp, ".modstudio", repeats, keep=True)
    size = sum(a.nbytes for a in weights.values())
    return {
        "weights_mb": round(size / 1e6, 1),
        "save_s": save, "save_no_fsync_s": no_fsync, "load_s": load,
        "safetensors_save_s": plain_save, "safetensors_load_s": plain_load,
        "save_ratio": save / plain_save,
        "save_no_fsync_ratio": no_fsync / plain_save,
        "load_ratio": load / plain_load,
    }


_SAMPLE = 784  # features per sample: the MNIST-sized task sequence of the issue (60,000 × 784 float32)


def bench_data_project(size_mb: float = 180, n_tasks: int = 5) -> Project:
    """A project whose ``n_tasks`` tasks (split by class from random float32 samples of 784
    features, 10 classes) embed about ``size_mb`` MB of data."""
    from modstudio.data import Dataset, split_by_class

    rng = np.random.default_rng(0)
    n = max(20 * n_tasks, round(size_mb * 1e6 / (_SAMPLE * 4 + 8)))
    dataset = Dataset(rng.standard_normal((n, _SAMPLE), np.float32), np.arange(n) % (2 * n_tasks))
    project = Project.new("bench data")
    project.tasks.extend(split_by_class(dataset, n_tasks=n_tasks))
    project.configure(embed_data="always")
    for task in project.tasks:
        task.fingerprint  # once per task, made when it is built or loaded: not part of a save
    return project


def _median(fn: Callable[[Path], object], folder: Path, suffix: str, repeats: int) -> float:
    """Median time of ``fn(path)`` on fresh paths, each removed afterwards."""
    times = []
    for i in range(repeats):
        path = folder / f"bench{i}{suffix}"
        start = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - start)
        path.unlink()
    return statistics.median(times)


def _synced(write: Callable[[Path], object]) -> Callable[[Path], None]:
    """``write``, then the file and its folder fsynced: what a durable save costs on this disk."""
    def run(path: Path) -> None:
        write(path)
        for target, flags in ((path, os.O_RDONLY), (path.parent, os.O_RDONLY)):
            fd = os.open(target, flags)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    return run


def bench_task_data_io(size_mb: float = 180, repeats: int = 3, folder: str | Path | None = None) -> dict:
    """Median seconds and ratios: saving and loading a project with ``size_mb`` MB of embedded task
    data against ``np.savez``/``np.load`` of the same arrays (``*_fsync``: both sides fsynced)."""
    project = bench_data_project(size_mb)
    arrays = {f"t{i}_{k}": a for i, t in enumerate(project.tasks) for k, a in t.arrays().items()}

    def np_load(path: Path) -> None:
        with np.load(path, allow_pickle=False) as npz:
            [npz[k] for k in npz.files]

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmp = Path(tmp)
        np_save = lambda p: np.savez(p, **arrays)  # noqa: E731
        ours = lambda p: save_project(project, p, backup=False, durable=False)  # noqa: E731
        t = {
            "np_savez_s": _median(np_save, tmp, ".npz", repeats),
            "np_savez_fsync_s": _median(_synced(np_save), tmp, ".npz", repeats),
            "save_no_fsync_s": _median(ours, tmp, ".modstudio", repeats),
            "save_s": _median(lambda p: save_project(project, p, backup=False), tmp, ".modstudio", repeats),
        }
        np.savez(tmp / "plain.npz", **arrays)
        saved = save_project(project, tmp / "bench.modstudio", backup=False)
        file_mb = saved.stat().st_size / 1e6
        loads, np_loads = [], []
        for _ in range(repeats):  # interleaved, so drift hits both alike
            start = time.perf_counter()
            np_load(tmp / "plain.npz")
            np_loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            load_project(saved)
            loads.append(time.perf_counter() - start)
        t["np_load_s"], t["load_s"] = statistics.median(np_loads), statistics.median(loads)
    return {
        "data_mb": round(sum(a.nbytes for a in arrays.values()) / 1e6, 1), "file_mb": round(file_mb, 1),
        **t,
        "save_ratio": t["save_no_fsync_s"] / t["np_savez_s"],
        "save_fsync_ratio": t["save_s"] / t["np_savez_fsync_s"],
        "load_ratio": t["load_s"] / t["np_load_s"],
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps({"weights": bench_project_io(), "task_data": bench_task_data_io()}, indent=1))
