"""Memory Aware Synapses (Aljundi et al. 2018): a shared parameter matters as much as the output
moves with it. After a task, Ω_task is the mean over its training batches of |∂ ‖f(x)‖² / ∂θ|
(f the task head's outputs, ‖·‖² averaged over the batch, as Avalanche computes it), joined to the
old one as a running average, Ω ← α Ω + (1 − α) Ω_task; later tasks pay λ · Σ Ω (θ − θ*)². No
labels are needed to measure it."""

from __future__ import annotations

import torch

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.penalty import ImportancePenalty


@implements("mas")
class MAS(ImportancePenalty):
    def end_task(self, task: int) -> None:
        n = len(self.ctx.data(task).train_y)
        importance = self.mean_gradient_statistic(
            task, n, max(1, min(self.ctx.settings.batch_size, n)),
            lambda x, _y: self.net.features_and_logits(x, task).pow(2).sum(dim=1).mean(), torch.abs)
        alpha = self.params["alpha"]
        if self.importance:  # a running average: the new task's share is 1 − α
            for k in importance:
                importance[k] *= 1.0 - alpha
        self.consolidate(task, importance, decay=alpha)
