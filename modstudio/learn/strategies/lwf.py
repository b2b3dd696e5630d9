"""Learning without Forgetting (Li & Hoiem 2016): distil the old model's outputs on new data."""

from __future__ import annotations

import copy

import torch

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy, distillation


@implements("lwf")
class LwF(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.teacher = None

    def begin_task(self, task: int) -> None:
        super().begin_task(task)
        if task > 0:
            self.teacher = copy.deepcopy(self.net).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if self.teacher is None:
            return loss
        alpha, temperature = self.params["alpha"], self.params["temperature"]
        with torch.no_grad():
            old = self._old_outputs(self.teacher, x, task)
        new = self._old_outputs(self.net, x, task)
        kd = sum(distillation(s, t, temperature) for s, t in zip(new, old)) / max(len(old), 1)
        return loss + alpha * kd

    def _old_outputs(self, net, x, task) -> list[torch.Tensor]:
        """What is distilled: every earlier task's head output (or the earlier classes of the shared head)."""
        if net.shared_head is not None:
            seen = torch.unique(torch.cat([self.ctx.data(t).union_labels for t in range(task)]))
            return [net.features_and_logits(x, task)[:, seen]]
        return [net.features_and_logits(x, t) for t in range(task)]
