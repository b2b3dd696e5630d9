"""Experience replay with a reservoir buffer (Vitter's algorithm R), mixed into every batch."""

from __future__ import annotations

import random

import torch

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy


@implements("replay")
class Replay(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        seed = ctx.settings.seed
        self.rng = random.Random(seed)
        self.seen = 0
        self.buffer: list[tuple[int, int]] = []  # (task, index into that task's training split)
        self.generator = torch.Generator().manual_seed(seed + 1)

    def loss(self, task, x, y, task_ids):
        loss = super().loss(task, x, y, task_ids)
        if not self.buffer:
            return loss
        ctx = self.ctx
        size = int(self.params["replay_batch"]) or ctx.collective.batch_size or len(x)
        picks = torch.randint(len(self.buffer), (min(size, len(self.buffer)),), generator=self.generator).tolist()
        picks = ctx.collective.share(picks)  # every process draws the same picks and replays its part
        if not picks:
            return loss
        by_task: dict[int, list[int]] = {}
        for pick in picks:
            t, i = self.buffer[pick]
            by_task.setdefault(t, []).append(i)
        rx, ry, rt = [], [], []
        for t, indices in by_task.items():
            data = ctx.data(t)
            index = torch.tensor(indices, device=data.train_x.device)
            rx.append(data.train_x[index])
            ry.append(ctx.labels(t, data.train_y[index]))
            rt.append(torch.full((len(indices),), t, device=data.train_x.device, dtype=torch.long))
        replay = ctx.loss(task, torch.cat(rx), torch.cat(ry), torch.cat(rt))
        return (loss * len(x) + replay * len(picks)) / (len(x) + len(picks))

    def end_task(self, task: int) -> None:
        """Offer every training sample of the task to the reservoir, in a seeded random order."""
        n = len(self.ctx.data(task).train_x)
        capacity = int(self.params["buffer_size"])
        for i in self.rng.sample(range(n), n):
            self.seen += 1
            if len(self.buffer) < capacity:
                self.buffer.append((task, i))
            else:
                j = self.rng.randrange(self.seen)
                if j < capacity:
                    self.buffer[j] = (task, i)
