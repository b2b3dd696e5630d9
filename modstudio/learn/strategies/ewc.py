"""Online EWC (Schwarz et al. 2018): F ← γ·F + F_task, penalty λ/2 · Σ F (θ − θ*)²."""

from __future__ import annotations

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.penalty import ImportancePenalty


@implements("ewc")
class EWC(ImportancePenalty):
    scale = 0.5

    def end_task(self, task: int) -> None:
        """Diagonal empirical Fisher of this task's loss, from mini-batches of its training data."""
        n = min(len(self.ctx.data(task).train_y), int(self.params["fisher_samples"]))
        fisher = self.mean_gradient_statistic(
            task, n, max(1, int(self.params["fisher_batch"])),
            lambda x, y: self.ctx.loss(task, x, y), lambda grad: grad.pow(2))
        self.consolidate(task, fisher, decay=self.params["gamma"])
