"""What EWC, SI and MAS share: an importance per shared parameter and the value it ended the last
task with, and while later tasks train a quadratic penalty ``scale · λ · Σ Ω (θ − θ*)²``.

They differ only in how Ω is measured after a task (EWC: the Fisher information of the task's
loss; SI: each parameter's contribution to the loss's fall along its training path; MAS: the
sensitivity of the output's norm) and in how a new Ω joins the old one. The task heads are left
out: in the task scenario each task has its own, which no later task trains.
"""

from __future__ import annotations

import torch

from modstudio.learn.strategies.base import Strategy


class ImportancePenalty(Strategy):
    scale = 1.0  # EWC's penalty is λ/2 · Σ F (θ − θ*)²

    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.importance: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}

    def shared(self, task: int) -> dict[str, torch.nn.Parameter]:
        """Parameters every task shares: the path without the task-specific head, keyed by position."""
        head = self.net.instances(self.net.head_id)
        head_params = {id(p) for m in head for p in m.parameters()}
        return {f"{i}": p for i, p in enumerate(self.net.path_parameters(task)) if id(p) not in head_params}

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if self.importance:
            penalty = sum(
                (self.importance[k] * (p - self.anchor[k]).pow(2)).sum() for k, p in self.shared(task).items()
            )
            loss = loss + self.scale * self.params["lambda"] * penalty
        return loss

    def penalty_gradient(self, key: str, p: torch.Tensor) -> torch.Tensor | None:
        """The penalty's own gradient for parameter ``key`` (2 · scale · λ · Ω (θ − θ*)), or None."""
        if key not in self.importance:
            return None
        return 2.0 * self.scale * self.params["lambda"] * self.importance[key] * (p.detach() - self.anchor[key])

    def mean_gradient_statistic(self, task: int, n: int, batch: int, objective, statistic) -> dict[str, torch.Tensor]:
        """Per shared parameter, the mean over batches of the first ``n`` training samples of
        ``statistic(grad)`` of ``objective(x, y)`` (EWC: grad² of the task loss; MAS: |grad| of the
        output's norm), the network in evaluation mode. Several processes take every world_size-th
        batch each, and the sums are shared."""
        collective = self.ctx.collective
        x, y, _ = super().train_set(task)
        shared = self.shared(task)
        total = {k: torch.zeros_like(p) for k, p in shared.items()}
        was_training = self.net.training
        self.net.eval()
        batches = 0
        for start in range(0, n, batch):
            batches += 1
            if (batches - 1) % collective.world_size != collective.rank:
                continue
            self.net.zero_grad(set_to_none=True)
            labels = y[start:start + batch]  # on the training device; x may be streamed from the host
            objective(x[start:start + batch].to(labels.device), labels).backward()
            for k, p in shared.items():
                if p.grad is not None:
                    total[k] += statistic(p.grad.detach())
        collective.sum_(list(total.values()))
        self.net.zero_grad(set_to_none=True)
        self.net.train(was_training)
        for k in total:
            total[k] /= max(batches, 1)
        return total

    def consolidate(self, task: int, importance: dict[str, torch.Tensor], decay: float | None = None) -> None:
        """Take ``importance`` (measured on ``task``) into Ω and anchor the shared parameters where
        they are now: Ω ← decay · Ω + Ω_task, or the sum when ``decay`` is None."""
        shared = self.shared(task)
        for k, value in importance.items():
            if k in self.importance:
                old = self.importance[k] if decay is None else decay * self.importance[k]
                self.importance[k] = old + value
            else:
                self.importance[k] = value
            self.anchor[k] = shared[k].detach().clone()
