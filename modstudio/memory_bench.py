"""The bench's memory figure: peak resident memory of a training run against plain PyTorch holding
the same arrays, each side in a fresh process so neither sees the other's pages.

``python -m modstudio.memory_bench SIDE DTYPE SAMPLES`` trains one epoch of a split task sequence
of random 1×28×28 images (5 tasks × 2 classes, MLP 784-256-256, batch 128, every task evaluated
after the epoch) and prints one JSON line: its peak RSS (``ru_maxrss``), the RSS once the data is
held, and the bytes of the data and of the model. SIDE "engine" goes through ``Task``s and the
``Trainer``; "plain" holds the arrays as tensors (no copy) and runs the same loop by hand, mapping
each uint8 batch to float32 on the device as the engine does. DTYPE "uint8" keeps the bytes,
"float32" holds them as 0 … 1 floats (how image data was held before it stayed bytes).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from typing import Any

import numpy as np

TASKS = 5
TEST_SHARE = 6  # one sample in six is a test sample (MNIST: 10,000 of 60,000)
BATCH = 128
HIDDEN = (256, 256)
SHAPE = (1, 28, 28)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _arrays(samples: int, dtype: str, task: int):
    """Task ``task``'s (train x, train y, test x, test y): random bytes, labels 0/1; the same on both sides."""
    rng = np.random.default_rng(task)
    n = samples // TASKS
    n_test = n // TEST_SHARE
    out = []
    for count in (n - n_test, n_test):
        x = rng.integers(0, 256, size=(count, *SHAPE), dtype=np.uint8)
        if dtype == "float32":
            x = x.astype(np.float32)
            x /= np.float32(255.0)
        out += [x, rng.integers(0, 2, size=count).astype(np.int64)]
    return out


def _engine(samples: int, dtype: str) -> dict[str, Any]:
    from modstudio.data import Split, Task
    from modstudio.graph import Graph
    from modstudio.learn.trainer import Trainer
    from modstudio.project import TrainingSettings

    def wrap(a):
        if dtype == "float32":
            return a
        from modstudio.data import UNIT, Encoded

        return Encoded(a, UNIT)

    tasks = []
    for t in range(TASKS):
        tx, ty, sx, sy = _arrays(samples, dtype, t)
        empty = np.zeros((0, *SHAPE), dtype=tx.dtype)
        tasks.append(Task(f"task {t}", [2 * t, 2 * t + 1], ["a", "b"], Split(wrap(tx), ty),
                          Split(wrap(empty), np.zeros(0, np.int64)), Split(wrap(sx), sy)))
        del tx, ty, sx, sy
    data_bytes = sum(s.x.nbytes + s.y.nbytes for task in tasks for s in (task.train, task.val, task.test))
    held = _rss_mb()
    g = Graph()
    nodes = [g.add_node("input"), g.add_node("flatten"), g.add_node("mlp_block", hidden=list(HIDDEN)),
             g.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    trainer = Trainer(g, tasks, TrainingSettings(strategy="finetune", epochs=1, batch_size=BATCH, lr=1e-3))
    run = trainer.run()
    assert run.status == "finished", run.message
    model_bytes = sum(p.numel() * p.element_size() for p in trainer.net.parameters())
    return {"data_bytes": data_bytes, "model_bytes": model_bytes, "held_mb": held, "peak_mb": _peak_mb()}


def _plain(samples: int, dtype: str) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    arrays = [_arrays(samples, dtype, t) for t in range(TASKS)]
    data = [tuple(torch.from_numpy(a) for a in task) for task in arrays]  # the arrays themselves
    data_bytes = sum(a.nbytes for task in arrays for a in task)
    held = _rss_mb()
    torch.manual_seed(0)
    layers, width = [torch.nn.Flatten()], int(np.prod(SHAPE))
    for h in HIDDEN:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    body = torch.nn.Sequential(*layers)
    heads = [torch.nn.Linear(width, 2) for _ in range(TASKS)]

    def features(x):
        return x.to(torch.float32).div_(255.0) if x.dtype == torch.uint8 else x

    def evaluate():
        with torch.no_grad():
            for j, (_, _, sx, sy) in enumerate(data):
                for i in range(0, len(sx), 4096):
                    (heads[j](body(features(sx[i:i + 4096]))).argmax(1) == sy[i:i + 4096]).sum().item()

    generator = torch.Generator().manual_seed(0)
    evaluate()
    for t, (x, y, _, _) in enumerate(data):
        optimizer = torch.optim.Adam([*body.parameters(), *heads[t].parameters()], lr=1e-3)
        order = torch.randperm(len(x), generator=generator)
        for b in range(0, len(x), BATCH):
            index = order[b:b + BATCH]
            loss = F.cross_entropy(heads[t](body(features(x[index]))), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        evaluate()
    model_bytes = sum(p.numel() * p.element_size() for m in (body, *heads) for p in m.parameters())
    return {"data_bytes": data_bytes, "model_bytes": model_bytes, "held_mb": held, "peak_mb": _peak_mb()}


def measure(side: str, dtype: str, samples: int) -> dict[str, Any]:
    """One side's figures, from a fresh interpreter (``python -m modstudio.memory_bench``)."""
    out = subprocess.run([sys.executable, "-m", "modstudio.memory_bench", side, dtype, str(samples)],
                         capture_output=True, text=True, check=False, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"the {side} {dtype} measurement failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_memory(samples: int = 60_000, dtypes: tuple[str, ...] = ("uint8", "float32")) -> dict[str, Any]:
    """Peak RSS, engine over plain PyTorch, for each storage ``dtype`` (uint8 is the target)."""
    result: dict[str, Any] = {"workload": f"finetune, {samples:,} × 1×28×28 random images, {TASKS} tasks × 2 classes, "
                                          f"MLP 784-{'-'.join(map(str, HIDDEN))}, batch {BATCH}, 1 epoch, cpu"}
    for dtype in dtypes:
        engine, plain = measure("engine", dtype, samples), measure("plain", dtype, samples)
        result[f"{dtype}_data_mb"] = round(engine["data_bytes"] / 2**20, 1)
        result[f"{dtype}_engine_peak_mb"] = round(engine["peak_mb"], 1)
        result[f"{dtype}_plain_peak_mb"] = round(plain["peak_mb"], 1)
        result[f"{dtype}_engine_held_mb"] = round(engine["held_mb"], 1)
        result[f"{dtype}_plain_held_mb"] = round(plain["held_mb"], 1)
        result[f"{dtype}_peak_ratio"] = round(engine["peak_mb"] / plain["peak_mb"], 3)
    result["goal"] = "uint8_peak_ratio ≤ 1.15"
    return result


if __name__ == "__main__":
    side, dtype, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if side not in ("engine", "plain") or dtype not in ("uint8", "float32"):
        raise SystemExit("usage: python -m modstudio.memory_bench engine|plain uint8|float32 SAMPLES")
    print(json.dumps((_engine if side == "engine" else _plain)(samples, dtype)))
