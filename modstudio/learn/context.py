"""What a strategy may use of the run: a narrow view of the trainer.

Strategies decide paths, data and losses; the trainer owns batches, optimisers, devices, events
and the processes of a distributed run. This context is the whole contract between them, so a
strategy can be read (and tested) without knowing the trainer's internals, and the trainer can
change without touching a strategy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import torch

from modstudio.learn.events import MemoryUpdated

if TYPE_CHECKING:
    from modstudio.learn.network import ModularNetwork
    from modstudio.learn.trainer import TaskTensors, Trainer
    from modstudio.project.settings import TrainingSettings


class Collective:
    """Operations across the processes of a distributed run (on one process: no-ops)."""

    def __init__(self, trainer: "Trainer") -> None:
        self._trainer = trainer

    @property
    def rank(self) -> int:
        return self._trainer.rank

    @property
    def world_size(self) -> int:
        return self._trainer.world_size

    @property
    def batch_size(self) -> int:
        """Samples in the current training batch over all processes (0 outside a batch)."""
        return self._trainer.batch_global

    def share(self, items: Sequence[Any]) -> Sequence[Any]:
        """This process's part of something every process drew identically (replay picks)."""
        return self._trainer.share(items)

    def sum_(self, tensors: Sequence[torch.Tensor]) -> None:
        """Sum tensors in place over the processes (EWC's Fisher information)."""
        self._trainer.all_reduce_sum_(tensors)


class TaskContext:
    """The run as a strategy sees it: settings, network, data, loss, fitting, accuracy, events."""

    def __init__(self, trainer: "Trainer") -> None:
        self._trainer = trainer
        self.collective = Collective(trainer)

    @property
    def settings(self) -> "TrainingSettings":
        return self._trainer.settings

    @property
    def net(self) -> "ModularNetwork":
        return self._trainer.net

    @property
    def class_incremental(self) -> bool:
        return self._trainer.class_incremental

    def data(self, task: int) -> "TaskTensors":
        """Task ``task``'s splits on the training device (labels local to the task)."""
        return self._trainer.data[task]

    def labels(self, task: int, local: torch.Tensor) -> torch.Tensor:
        """The labels training targets: local, or indices of the shared head over all classes."""
        return self._trainer.train_labels(task, local)

    def loss(self, task: int, x: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor | None = None,
             overrides=None) -> torch.Tensor:
        """Cross-entropy through each sample's own task head (or the shared head)."""
        return self._trainer.classification_loss(task, x, y, task_ids, overrides)

    def union_labels(self, task: int, local: torch.Tensor) -> torch.Tensor:
        """Task-local labels as indices into the union of every task's classes."""
        return self._trainer.data[task].union_labels[local]

    @property
    def n_classes(self) -> int:
        """Classes in the union of every task's (the width of a classifier over all of them)."""
        return len(self._trainer.union_classes)

    def optimize(self, task: int, params, tensors, loss_fn, epochs: int, phase: str, seed: int) -> None:
        """Train ``params`` (a readout beside the path) on ``loss_fn(*batch)`` over ``tensors``."""
        self._trainer.optimize(task, params, tensors, loss_fn, epochs, phase, seed)

    def fit(self, task: int, epochs: int, overrides=None, phase: str = "train") -> None:
        """Train ``task`` for ``epochs`` with the strategy's data and loss (``phase`` "search": a trial)."""
        self._trainer.fit(task, epochs, overrides=overrides, phase=phase)

    def accuracy(self, task: int, split: str = "test", overrides=None, local: bool = False) -> float:
        """Accuracy on a split; ``local``: through the task's own head, as if the task were given."""
        return self._trainer.accuracy(task, split, overrides, local)

    def emit(self, event) -> None:
        self._trainer.emit(event)

    def answers_changed(self) -> None:
        """What the network answers changed outside a training epoch (iCaRL's class means after a
        task): the task's end is then evaluated again instead of reusing its last epoch's scores."""
        self._trainer._fresh_accuracies = None

    def emit_memory(self, task: int, memory) -> None:
        """Tell the run what ``memory`` (an ExemplarMemory) holds after ``task``: the run keeps it."""
        self._trainer.emit(MemoryUpdated(task, memory.record(), len(memory), memory.nbytes(self)))
