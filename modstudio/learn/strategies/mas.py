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
        collective = self.ctx.collective
        x, _, _ = super().train_set(task)
        batch = max(1, min(self.ctx.settings.batch_size, len(x)))
        shared = self.shared(task)
        importance = {k: torch.zeros_like(p) for k, p in shared.items()}
        was_training = self.net.training
        self.net.eval()
        batches = 0
        for start in range(0, len(x), batch):
            batches += 1
            if (batches - 1) % collective.world_size != collective.rank:
                continue  # several processes: each takes every world_size-th batch; summed below
            self.net.zero_grad(set_to_none=True)
            out = self.net.features_and_logits(x[start:start + batch], task)
            out.pow(2).sum(dim=1).mean().backward()
            for k, p in shared.items():
                if p.grad is not None:
                    importance[k] += p.grad.detach().abs()
        collective.sum_(list(importance.values()))
        self.net.zero_grad(set_to_none=True)
        self.net.train(was_training)
        alpha = self.params["alpha"]
        for k in importance:
            importance[k] *= (1.0 - alpha) / max(batches, 1) if self.importance else 1.0 / max(batches, 1)
        self.consolidate(task, importance, decay=alpha)
