"""Joint training: every task seen so far trained together, the upper reference."""

from __future__ import annotations

import torch

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy, TrainSet


@implements("joint")
class Joint(Strategy):
    def train_set(self, task: int) -> TrainSet:
        ctx = self.ctx
        xs, ys, ids = [], [], []
        for seen in range(task + 1):
            data = ctx.data(seen)
            xs.append(data.train_x)
            ys.append(ctx.labels(seen, data.train_y))
            ids.append(torch.full_like(data.train_y, seen))
        return torch.cat(xs), torch.cat(ys), torch.cat(ids)
