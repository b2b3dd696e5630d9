"""Online EWC (Schwarz et al. 2018): F ← γ·F + F_task, penalty λ/2 · Σ F (θ − θ*)²."""

from __future__ import annotations

import torch

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.penalty import ImportancePenalty


@implements("ewc")
class EWC(ImportancePenalty):
    scale = 0.5

    def end_task(self, task: int) -> None:
        """Diagonal empirical Fisher of this task's loss, from mini-batches of its training data."""
        ctx, collective = self.ctx, self.ctx.collective
        x, y, _ = super().train_set(task)
        n = min(len(x), int(self.params["fisher_samples"]))
        batch = max(1, int(self.params["fisher_batch"]))
        shared = self.shared(task)
        fisher = {k: torch.zeros_like(p) for k, p in shared.items()}
        was_training = self.net.training
        self.net.eval()
        batches = 0
        for start in range(0, n, batch):
            batches += 1
            if (batches - 1) % collective.world_size != collective.rank:
                continue  # several processes: each takes every world_size-th batch; summed below
            self.net.zero_grad(set_to_none=True)
            ctx.loss(task, x[start:start + batch], y[start:start + batch]).backward()
            for k, p in shared.items():
                if p.grad is not None:
                    fisher[k] += p.grad.detach().pow(2)
        collective.sum_(list(fisher.values()))
        self.net.zero_grad(set_to_none=True)
        self.net.train(was_training)
        for k in fisher:
            fisher[k] /= max(batches, 1)
        self.consolidate(task, fisher, decay=self.params["gamma"])
