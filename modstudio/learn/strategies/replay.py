"""Experience replay: rehearse the exemplar memory alongside every new batch.

The memory is the one every memory strategy shares (``modstudio.learn.memory``), reservoir by
default (Chaudhry et al. 2019), filled after each task with that task's training split.
"""

from __future__ import annotations

import torch

from modstudio.learn.memory import new_memory, remember
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy


@implements("replay")
class Replay(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.memory = new_memory(self)
        self.generator = torch.Generator().manual_seed(ctx.settings.seed + 1)

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if not len(self.memory):
            return loss
        picks = self.draw(len(x))
        if not picks:
            return loss
        replay = self.ctx.loss(task, *self.memory.gather(self.ctx, picks))
        return (loss * len(x) + replay * len(picks)) / (len(x) + len(picks))

    def draw(self, batch: int) -> list[int]:
        """Memory positions to rehearse beside a batch of ``batch`` (``replay_batch``, 0: the batch's
        size): every process draws the same and takes its part."""
        ctx = self.ctx
        size = int(self.params["replay_batch"]) or ctx.collective.batch_size or batch
        return ctx.collective.share(self.memory.sample(size, self.generator))

    def end_task(self, task: int) -> None:
        remember(self, self.memory, task)
