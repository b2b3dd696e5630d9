"""Example projects a user can open or write with ``modstudio new PROJECT --example NAME``.

Most are small, real continual-learning benchmarks built from data that ships with ModStudio: a
graph, a task sequence and training settings that train in seconds on a CPU. The ones at real
scale (split and permuted MNIST, split CIFAR-10 and CIFAR-100) need a standard benchmark's files
(``modstudio data get mnist``) and are listed only once those are present; their tasks are rebuilt
from those files when the project opens (``embed_data="never"``), so the project file stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from modstudio.data import Augmentation, load_builtin, permuted, split_by_class
from modstudio.data.benchmarks import is_present
from modstudio.graph import Graph
from modstudio.project import Project, TrainingSettings


@dataclass(frozen=True)
class ExampleInfo:
    name: str
    title: str
    description: str
    data: tuple[str, ...] = ()  # the benchmarks it needs (`modstudio data get NAME`)

    @property
    def available(self) -> bool:
        return not self.missing

    @property
    def missing(self) -> tuple[str, ...]:
        """The benchmarks it needs that are not downloaded yet."""
        return tuple(name for name in self.data if not is_present(name))


def _chain(graph: Graph, *nodes: tuple[str, dict]) -> list[str]:
    """Add ``nodes`` left to right and wire each to the next; returns their ids."""
    ids = [graph.add_node(kind, pos=(i * 240.0, 0.0), **params) for i, (kind, params) in enumerate(nodes)]
    for a, b in zip(ids, ids[1:]):
        graph.connect(a, b)
    return ids


def _mlp_project(name: str, tasks, hidden: list[int]) -> Project:
    """One MLP block per hidden layer, so reuse-or-grow can decide layer by layer."""
    project = Project.new(name)
    blocks = [("mlp_block", {"hidden": [width]}) for width in hidden]
    _chain(project.graph, ("input", {}), *blocks, ("head", {}))
    project.tasks.extend(tasks)
    project.settings = TrainingSettings(strategy="expansion", epochs=10, batch_size=32, lr=3e-3)
    return project


def split_digits() -> Project:
    return _mlp_project("split digits", split_by_class(load_builtin("digits", flat=True), n_tasks=5, val_fraction=0.2), [64, 64])


def permuted_digits() -> Project:
    return _mlp_project("permuted digits", permuted(load_builtin("digits", flat=True), n_tasks=5), [128, 128])


def split_mnist() -> Project:
    """Split MNIST: digits 0-1, 2-3, … as 5 tasks, the 60,000 training images (70/10/20 per task)."""
    tasks = split_by_class(load_builtin("mnist", flat=True), n_tasks=5)
    project = _mlp_project("split MNIST", tasks, [256, 256])
    project.configure(epochs=3, batch_size=128, lr=1e-3, embed_data="never")
    return project


def permuted_mnist() -> Project:
    """Permuted MNIST: 10 tasks of all 10 digits, task 0 as they are, each other one with its own fixed
    pixel order. 10 × 60,000 images: about 1.9 GB of float32 features in memory."""
    tasks = permuted(load_builtin("mnist", flat=True), n_tasks=10)
    project = _mlp_project("permuted MNIST", tasks, [256, 256])
    project.configure(epochs=2, batch_size=128, lr=1e-3, embed_data="never")
    return project


CIFAR_AUGMENTATION = Augmentation(crop_padding=4, flip=True)
"""The usual CIFAR training augmentation: random 32×32 crops of the image padded by 4, and mirror images."""


def _image_project(name: str, tasks, body: list[tuple[str, dict]], augmentation: Augmentation = Augmentation(),
                   **settings) -> Project:
    """A convolutional body, global average pooling and the head, on benchmark images rebuilt on open."""
    project = Project.new(name)
    _chain(project.graph, ("input", {}), *body, ("global_avg_pool", {}), ("head", {}))
    project.tasks.extend(t.with_augmentation(augmentation) for t in tasks)
    project.settings = TrainingSettings(strategy="expansion", embed_data="never", **settings)
    return project


def split_cifar10() -> Project:
    """Split CIFAR-10: airplane/automobile, bird/cat, … as 5 tasks, the 50,000 training images (70/10/20
    per task), by three conv blocks (32, 64, 128 filters, each halving the size)."""
    body = [("conv_block", {"out_channels": width, "padding": 1}) for width in (32, 64, 128)]
    return _image_project("split CIFAR-10", split_by_class(load_builtin("cifar10"), n_tasks=5), body,
                          CIFAR_AUGMENTATION, epochs=3, batch_size=64, lr=1e-3)


def split_cifar100() -> Project:
    """Split CIFAR-100: 10 tasks of 10 classes, by a ResNet-style body: a conv stem, a residual block at
    32×32, then two that double the channels and halve the size (their skips get a 1×1 projection)."""
    body = [
        ("conv_block", {"out_channels": 32, "padding": 1, "pool": "none"}),
        ("residual_block", {"out_channels": 32}),
        ("residual_block", {"out_channels": 64, "stride": 2}),
        ("residual_block", {"out_channels": 128, "stride": 2}),
    ]
    return _image_project("split CIFAR-100", split_by_class(load_builtin("cifar100"), n_tasks=10), body,
                          CIFAR_AUGMENTATION, epochs=3, batch_size=64, lr=1e-3)


def split_signals() -> Project:
    project = Project.new("split signals")
    _chain(
        project.graph,
        ("input", {}),
        ("conv_block", {"out_channels": 16, "kernel_size": 5, "padding": 2}),
        ("conv_block", {"out_channels": 32, "kernel_size": 5, "padding": 2}),
        ("global_avg_pool", {}),
        ("head", {}),
    )
    data = load_builtin("signals", n_classes=6, n_samples=1200, length=64, noise=0.3)
    project.tasks.extend(split_by_class(data, n_tasks=3))
    project.settings = TrainingSettings(strategy="expansion", epochs=8, batch_size=32, lr=2e-3)
    return project


def split_digits_conv() -> Project:
    project = Project.new("split digits (conv)")
    _chain(
        project.graph,
        ("input", {}),
        ("conv_block", {"out_channels": 16}),
        ("conv_block", {"out_channels": 32, "pool": "none"}),
        ("global_avg_pool", {}),
        ("head", {}),
    )
    project.tasks.extend(split_by_class(load_builtin("digits"), n_tasks=5))
    project.settings = TrainingSettings(strategy="expansion", epochs=8, batch_size=32, lr=2e-3)
    return project


_EXAMPLES: dict[str, tuple[ExampleInfo, Callable[[], Project]]] = {
    info.name: (info, build)
    for info, build in (
        (ExampleInfo("split-digits", "Split digits",
                     "Handwritten digits as 5 tasks of 2 classes each, learned by an MLP."), split_digits),
        (ExampleInfo("permuted-digits", "Permuted digits",
                     "The same 10 digits in 5 tasks, each with its pixels in a different fixed order."), permuted_digits),
        (ExampleInfo("split-signals", "Split signals (1-D conv)",
                     "Six waveform classes in 3 tasks of 2, learned by a 1-D convolutional network."), split_signals),
        (ExampleInfo("split-digits-conv", "Split digits (conv)",
                     "The split-digits tasks as 1×8×8 images, learned by a small convolutional network."), split_digits_conv),
        (ExampleInfo("split-mnist", "Split MNIST (5 × 2)",
                     "The 60,000 MNIST training digits as 5 tasks of 2 classes, learned by a 784-256-256 MLP.",
                     data=("mnist",)), split_mnist),
        (ExampleInfo("permuted-mnist", "Permuted MNIST (10 tasks)",
                     "All 10 MNIST digits in 10 tasks, each with its pixels in its own fixed order (about "
                     "1.9 GB in memory).", data=("mnist",)), permuted_mnist),
        (ExampleInfo("split-cifar10", "Split CIFAR-10 (5 × 2, conv net)",
                     "The 50,000 CIFAR-10 training photos as 5 tasks of 2 classes, learned by three conv blocks.",
                     data=("cifar10",)), split_cifar10),
        (ExampleInfo("split-cifar100", "Split CIFAR-100 (10 × 10, conv net with residual blocks)",
                     "The 100 CIFAR-100 classes as 10 tasks of 10, learned by a conv stem and three residual "
                     "blocks.", data=("cifar100",)), split_cifar100),
    )
}


def list_examples(include_unavailable: bool = False) -> list[ExampleInfo]:
    """The examples whose data is here (every one with ``include_unavailable``), in display order."""
    return [info for info, _ in _EXAMPLES.values() if include_unavailable or info.available]


def build_example(name: str) -> Project:
    """A fresh project for example ``name`` (ValueError naming the known ones otherwise)."""
    try:
        _, build = _EXAMPLES[name]
    except KeyError:
        raise ValueError(f"unknown example {name!r}; examples: {', '.join(_EXAMPLES)}") from None
    return build()
