"""Project save/load speed against plain safetensors on the same tensors: what ``modstudio bench`` reports.

Ratios, not seconds, so figures from different machines compare. Our save includes the fsync
that makes it crash-safe; plain ``save_file`` does not, so ``save_no_fsync_ratio`` is the
like-for-like figure and ``save_ratio`` shows the price of durability on this disk.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import safetensors.numpy as stnp

from modstudio.graph import Graph
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


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench_project_io(), indent=1))
