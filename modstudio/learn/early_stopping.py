"""Early stopping on a task's validation split: patience in epochs, and the best epoch's weights.

Chosen like Avalanche's ``EarlyStoppingPlugin``: a training phase ends after ``patience`` epochs in
a row without a strictly better validation accuracy, and the task then keeps the weights of its
best epoch (parameters and buffers such as batch-norm statistics of the modules trained), whether
or not it stopped early. Snapshots are taken only when the accuracy improves, once per epoch at
most: nothing is added per batch.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch


class EarlyStopper:
    """Watches one training phase; ``tensors`` are what it trains (parameters, their modules' buffers)."""

    def __init__(self, patience: int, tensors: Sequence[torch.Tensor]) -> None:
        if patience < 1:
            raise ValueError(f"patience must be at least 1 epoch, not {patience}")
        self.patience = patience
        self.tensors = list(tensors)
        self.best = -math.inf
        self.best_epoch = -1
        self.waited = 0  # epochs since the best one
        self._saved: list[torch.Tensor] | None = None

    def update(self, epoch: int, accuracy: float) -> bool:
        """Record ``epoch``'s validation accuracy; True when training should stop."""
        if accuracy > self.best:
            self.best, self.best_epoch, self.waited = accuracy, epoch, 0
            self._saved = [t.detach().clone() for t in self.tensors]
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore_best(self) -> bool:
        """Put the best epoch's weights back; True if that changed them (the best was not the last)."""
        if self._saved is None or self.waited == 0:
            return False
        with torch.no_grad():
            for tensor, saved in zip(self.tensors, self._saved):
                tensor.copy_(saved)
        return True
