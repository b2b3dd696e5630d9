"""The bench's larger-than-memory figure: a project whose embedded data is twice a process's memory
limit trains when its data is mapped from the file, and gives the matrix of in-memory training.

``write_project`` writes two tasks of random 1×64×64 images (labels from their first pixel, so
there is something to learn) into a project file without ever holding them in memory (the arrays
are ``.npy`` maps filled a chunk at a time). ``python -m modstudio.mapped_bench PATH LIMIT_MB``
imports torch, limits its private memory (``RLIMIT_DATA``, which read-only file maps do not count
since Linux 4.7, unlike ``RLIMIT_AS``) to what it holds plus ``LIMIT_MB`` (0: no limit), then tries
to load the project into memory (it cannot, under a limit smaller than the data), loads it mapped
and trains ``finetune`` for one epoch on the CPU, and prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SHAPE = (1, 64, 64)
TASKS = 2
TEST_SHARE = 10
CHUNK_ROWS = 8192
BATCH = 512


def _vm_data_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_project(path: str | Path, data_mb: float, work: str | Path) -> int:
    """A project of ``data_mb`` MB of uint8 samples at ``path``; its data bytes. ``work``: a folder
    for the arrays' own files while the project is written (removed after)."""
    from modstudio.data import UNIT, Encoded, Split, Task
    from modstudio.graph import Graph
    from modstudio.project import Project

    per_task = int(data_mb * 2**20) // TASKS // int(np.prod(SHAPE))
    tasks, files = [], []
    for t in range(TASKS):
        rng = np.random.default_rng(t)
        splits = []
        for part, count in (("train", per_task - per_task // TEST_SHARE), ("test", per_task // TEST_SHARE)):
            file = Path(work) / f"task{t}-{part}.npy"
            x = np.lib.format.open_memmap(file, mode="w+", dtype=np.uint8, shape=(count, *SHAPE))
            y = np.empty(count, np.int64)
            for start in range(0, count, CHUNK_ROWS):
                rows = x[start:start + CHUNK_ROWS]
                rows[...] = rng.integers(0, 256, size=rows.shape, dtype=np.uint8)
                y[start:start + CHUNK_ROWS] = rows[:, 0, 0, 0] >= 128
            x.flush()
            del x
            files.append(file)
            splits.append(Split(Encoded(np.load(file, mmap_mode="r"), UNIT), y))  # no copy: a read-only map
        empty = Split(Encoded(np.zeros((0, *SHAPE), np.uint8), UNIT), np.zeros(0, np.int64))
        tasks.append(Task(f"task {t}", [2 * t, 2 * t + 1], ["dark", "light"], splits[0], empty, splits[1]))
    graph = Graph()
    nodes = [graph.add_node("input"), graph.add_node("flatten"), graph.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        graph.connect(a, b)
    project = Project(name="larger than memory", graph=graph, tasks=tasks)
    project.configure(strategy="finetune", epochs=1, batch_size=BATCH, device="cpu", embed_data="always")
    project.save(path)
    size = sum(a.nbytes for task in tasks for a in task.arrays().values())
    del project, tasks, splits
    for file in files:
        file.unlink()
    return size


def _warm_up() -> None:
    """Train once on a few samples, so the limit is set over a process that has imported and
    started all it trains with (torch loads its compiler stack with the first optimiser: ~70 MB)."""
    from modstudio.data import UNIT, Encoded, Split, Task
    from modstudio.graph import Graph
    from modstudio.learn.trainer import Trainer
    from modstudio.project import TrainingSettings

    rng = np.random.default_rng(0)
    split = Split(Encoded(rng.integers(0, 256, (64, *SHAPE), dtype=np.uint8), UNIT), np.arange(64) % 2)
    graph = Graph()
    nodes = [graph.add_node("input"), graph.add_node("flatten"), graph.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        graph.connect(a, b)
    task = Task("warm-up", [0, 1], ["a", "b"], split, split, split)
    Trainer(graph, [task], TrainingSettings(strategy="finetune", epochs=1, batch_size=BATCH, device="cpu")).run()


def child(path: str, limit_mb: float) -> dict[str, Any]:
    """In this process: limit private memory, then load (in memory, then mapped) and train."""
    import torch

    from modstudio.learn.trainer import Trainer
    from modstudio.project import ProjectFileError, load_project

    torch.set_num_threads(1)  # the same arithmetic in every process, so matrices compare exactly
    _warm_up()
    out: dict[str, Any] = {}
    if limit_mb > 0:
        limit = int((_vm_data_mb() + limit_mb) * 2**20)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))
        out["limit_mb"] = round(limit / 2**20)
        try:
            load_project(path, map_data=False)
            out["in_memory"] = "loaded"
        except ProjectFileError as exc:
            out["in_memory"] = str(exc)
    project = load_project(path, map_data=limit_mb > 0)
    started = time.perf_counter()
    trainer = Trainer(project.graph, project.tasks, project.settings)
    run = trainer.run()
    out.update(status=run.status, message=run.message, acc_matrix=run.acc_matrix,
               train_s=round(time.perf_counter() - started, 2),
               data_mb=round(sum(a.nbytes for t in project.tasks for a in t.arrays().values()) / 2**20),
               vm_data_mb=round(_vm_data_mb()))
    return out


def run_child(path: str | Path, limit_mb: float, timeout: float = 300) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "modstudio.mapped_bench", str(path), str(limit_mb)],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the training process failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_mapped(limit_mb: float = 200, work: str | Path | None = None) -> dict[str, Any]:
    """The bench row: data twice ``limit_mb`` trained mapped under the limit vs in memory without one."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=work) as folder:
        path = Path(folder) / "big.modstudio"
        data = write_project(path, 2 * limit_mb, folder)
        limited = run_child(path, limit_mb)
        free = run_child(path, 0)
    same = limited["status"] == "finished" and limited["acc_matrix"] == free["acc_matrix"]
    return {
        "workload": f"finetune, 1 epoch, {TASKS} tasks of 1×64×64 uint8, {data / 2**20:.0f} MB embedded",
        "memory_limit_mb": limit_mb, "data_mb": round(data / 2**20),
        "in_memory_under_limit": "refused" if limited.get("in_memory", "loaded") != "loaded" else "loaded",
        "mapped_under_limit": limited["status"], "same_matrix": same,
        "mapped_train_s": limited["train_s"], "in_memory_train_s": free["train_s"],
        "goal": "trains under the limit, same_matrix True",
    }


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], float(sys.argv[2]))))
