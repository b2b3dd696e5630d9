"""A-GEM (Chaudhry et al. 2019): after each batch's backward pass, the gradient g is compared with
the reference gradient g_ref of a batch drawn from the exemplar memory; where they disagree
(g · g_ref < 0) the step takes g − (g · g_ref / g_ref · g_ref) g_ref instead, which leaves the
remembered samples' loss unchanged to first order. The memory is the shared one
(``modstudio.learn.memory``, class-balanced by default), filled after each task."""

from __future__ import annotations

import torch

from modstudio.learn.memory import new_memory, remember
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy


@implements("agem")
class AGEM(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.memory = new_memory(self)
        self.generator = torch.Generator().manual_seed(ctx.settings.seed + 1)
        self.projected = 0  # steps whose gradient was projected (for tests and curiosity)

    def before_step(self, task, params) -> None:
        if not len(self.memory):
            return
        ctx = self.ctx
        size = int(self.params["replay_batch"]) or ctx.collective.batch_size or ctx.settings.batch_size
        drawn = self.memory.sample(size, self.generator)  # every process draws the same ...
        mine = ctx.collective.share(drawn)  # ... and takes its part
        grads = [p.grad for p in params]
        for p in params:
            p.grad = None
        if mine:
            x, y, ids = self.memory.gather(ctx, mine)
            (ctx.loss(task, x, y, ids) * (len(mine) / len(drawn))).backward()
        reference = [torch.zeros_like(p) if p.grad is None else p.grad for p in params]
        ctx.collective.sum_(reference)  # several processes: the whole drawn batch's mean gradient
        current = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params)]
        current, changed = project(current, reference)
        self.projected += changed
        for p, g, before in zip(params, current, grads):
            p.grad = None if before is None and not changed else g

    def end_task(self, task: int) -> None:
        remember(self, self.memory, task)


def project(gradient: list[torch.Tensor], reference: list[torch.Tensor]) -> tuple[list[torch.Tensor], bool]:
    """A-GEM's rule over parameter lists taken as one vector: ``gradient`` unchanged where it does not
    oppose ``reference`` (g · r ≥ 0), else g − (g · r / r · r) r; and whether it was projected."""
    dot = sum((g * r).sum() for g, r in zip(gradient, reference))
    norm = sum((r * r).sum() for r in reference)
    if not (dot < 0 and norm > 0):
        return gradient, False
    scale = dot / norm
    return [g - scale * r for g, r in zip(gradient, reference)], True
