"""The bench's engine figures: a task sequence trained through the engine against a hand-written
PyTorch loop doing the same work, in the same process, interleaved, so drift hits both alike.

Three workloads (``WORKLOADS``): the split-digits MLP of the examples; an MNIST-shaped split of
60,000 random 1×28×28 images (MLP 784-256-256, batch 128, the issue's "60k × 784" figure); and a
CIFAR-10-shaped split of random 3×32×32 images through the split CIFAR-10 example's conv net
(batch 64). Images are bytes (uint8) on both sides and become floats per batch on the device.
Random pixels learn nothing, but cost exactly what real ones do. Both sides: finetune, Adam,
the same network, shuffling, batch size, and every task's test split evaluated before training
and after every epoch, in chunks of the engine's ``EVAL_BATCH``. No augmentation on either side.
"""

from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

TASKS = 5
TEST_SHARE = 6  # one sample in six is a test sample (MNIST: 10,000 of 60,000)


@dataclass(frozen=True)
class Workload:
    """How to build the project (``samples``: random images in all; 0 for the example's own data)."""

    name: str
    describe: str
    build: Callable[[int], Any]
    samples: int
    quick_samples: int
    epochs: int
    quick_epochs: int


def _random_images(samples: int, shape: tuple[int, ...]) -> list:
    """5 tasks × 2 classes of random bytes (fixed seeds, so every run builds the same data)."""
    from modstudio.data import UNIT, Encoded, Split, Task

    tasks = []
    for t in range(TASKS):
        rng = np.random.default_rng(t)
        n = samples // TASKS
        splits = []
        for count in (n - n // TEST_SHARE, 0, n // TEST_SHARE):
            x = rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
            splits.append(Split(Encoded(x, UNIT), rng.integers(0, 2, size=count).astype(np.int64)))
        tasks.append(Task(f"task {t + 1}", [2 * t, 2 * t + 1], ["a", "b"], *splits))
    return tasks


def _split_digits(samples: int):
    from modstudio.examples import build_example

    return build_example("split-digits")


def _mnist_shaped(samples: int):
    from modstudio.examples import _chain
    from modstudio.project import Project, TrainingSettings

    project = Project.new("MNIST-shaped")
    _chain(project.graph, ("input", {}), ("flatten", {}), ("mlp_block", {"hidden": [256, 256]}), ("head", {}))
    project.tasks.extend(_random_images(samples, (1, 28, 28)))
    project.settings = TrainingSettings(strategy="finetune", batch_size=128, lr=1e-3)
    return project


def _cifar10_shaped(samples: int):
    from modstudio.examples import _chain
    from modstudio.project import Project, TrainingSettings

    project = Project.new("CIFAR-10-shaped")
    body = [("conv_block", {"out_channels": width, "padding": 1}) for width in (32, 64, 128)]
    _chain(project.graph, ("input", {}), *body, ("global_avg_pool", {}), ("head", {}))
    project.tasks.extend(_random_images(samples, (3, 32, 32)))
    project.settings = TrainingSettings(strategy="finetune", batch_size=64, lr=1e-3)
    return project


WORKLOADS = {
    w.name: w for w in (
        Workload("split_digits", "split-digits MLP (the example)", _split_digits, 0, 0, 20, 2),
        Workload("mnist_shaped", "MNIST-shaped: random 1×28×28 uint8 images, MLP 784-256-256",
                 _mnist_shaped, 60_000, 6_000, 1, 1),
        Workload("cifar10_shaped", "CIFAR-10-shaped: random 3×32×32 uint8 images, split CIFAR-10 example's "
                 "conv net (32-64-128)", _cifar10_shaped, 10_000, 1_000, 1, 1),
    )
}


def bench_workload(name: str, quick: bool = False, repeats: int = 3, device: str = "cpu",
                   epochs: int | None = None, samples: int | None = None) -> dict[str, Any]:
    """Engine and plain seconds (the best of ``repeats`` interleaved pairs, after a warm-up pair), and
    the median of the pairs' own ratios: on a shared or virtual machine a 10 s pass drifts by ±10 %,
    which the best-of figures feel more than the pairs do."""
    workload = WORKLOADS[name]
    if samples is None:
        samples = workload.quick_samples if quick else workload.samples
    if epochs is None:
        epochs = workload.quick_epochs if quick else workload.epochs
    project = workload.build(samples)
    engine, plain = _engine_side(project, epochs, device), _plain_side(project, epochs, device)
    engine()  # warm-up: imports, allocator, kernels
    plain()
    times = [(engine(), plain()) for _ in range(repeats)]
    engine_s, plain_s = min(t[0] for t in times), min(t[1] for t in times)
    trained = epochs * sum(len(t.train) for t in project.tasks)
    s = project.settings
    return {
        "workload": f"finetune, {workload.describe}, {len(project.tasks)} tasks × {epochs} epoch(s), "
                    f"{sum(len(t.train) + len(t.test) for t in project.tasks):,} samples, batch {s.batch_size}, "
                    f"{device}, best of {repeats}",
        "engine_s": round(engine_s, 3), "plain_pytorch_s": round(plain_s, 3),
        "engine_samples_per_s": round(trained / engine_s), "plain_samples_per_s": round(trained / plain_s),
        "time_ratio": round(engine_s / plain_s, 3),
        # each pair ran back to back, so its ratio is the one least moved by this machine's drift
        "pair_ratios": [round(e / p, 3) for e, p in times],
        "median_pair_ratio": round(statistics.median(e / p for e, p in times), 3),
    }


def _engine_side(project, epochs: int, device: str) -> Callable[[], float]:
    from modstudio.learn.api import train

    def engine() -> float:
        start = time.perf_counter()
        run = train(project, strategy="finetune", epochs=epochs, device=device).run
        project.runs.clear()
        assert run.status == "finished", run.message
        return time.perf_counter() - start

    return engine


def _tensor(array: np.ndarray, device: str):
    """The array on ``device``: on the CPU the array itself, as the engine holds bytes (no copy)."""
    import torch

    if device == "cpu":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "The given NumPy array is not writable")
            return torch.from_numpy(array)
    return torch.tensor(array, device=device)


def _plain_side(project, epochs: int, device: str) -> Callable[[], float]:
    """The same work by hand: set-up counts too (build, data to the device, the first evaluation)."""
    import torch
    import torch.nn.functional as F

    from modstudio.learn.compiler import compile_graph
    from modstudio.learn.chunks import EVAL_BATCH

    s, tasks = project.settings, project.tasks

    def features(x: torch.Tensor, values) -> torch.Tensor:
        if values is None:
            return x
        shift, spread = (torch.tensor(a, device=x.device) for a in values.broadcast(x.dim()))
        return (x.to(torch.float32) / values.divisor - shift) / spread

    def plain() -> float:
        start = time.perf_counter()
        torch.manual_seed(s.seed)
        body = compile_graph(project.graph, input_shape=tasks[0].sample_shape, classes=2)
        head_in = body.report.nodes[body.report.head_id].in_shapes[0][0]
        heads = [torch.nn.Linear(head_in, t.num_classes).to(device) for t in tasks]
        body.layers[next(k for k in body.layers if k.endswith(body.report.head_id))] = torch.nn.Identity()
        body.to(device)
        data = [tuple(_tensor(a, device) for a in (t.train.x, t.train.y, t.test.x, t.test.y)) for t in tasks]
        generator = torch.Generator().manual_seed(s.seed)

        def evaluate() -> None:
            body.eval()
            with torch.no_grad():
                for j, (_, _, tx, ty) in enumerate(data):
                    for i in range(0, len(tx), EVAL_BATCH):
                        xb = features(tx[i:i + EVAL_BATCH], tasks[j].values)
                        int((heads[j](body(xb)).argmax(1) == ty[i:i + EVAL_BATCH]).sum())

        evaluate()
        for t, (x, y, _, _) in enumerate(data):
            optimizer = torch.optim.Adam([*body.parameters(), *heads[t].parameters()], lr=s.lr)
            for _ in range(epochs):
                body.train()
                order = torch.randperm(len(x), generator=generator).to(device)
                total = torch.zeros((), device=device)
                for b in range(0, len(x), s.batch_size):
                    index = order[b:b + s.batch_size]
                    loss = F.cross_entropy(heads[t](body(features(x[index], tasks[t].values))), y[index])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach() * len(index)
                total.item()
                evaluate()
        return time.perf_counter() - start

    return plain
