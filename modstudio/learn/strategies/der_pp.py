"""DER++ (Buzzega et al., NeurIPS 2020, "Dark Experience for General Continual Learning").

Replay that remembers, besides each sample, the logits the network gave it, and keeps matching
them: the logits carry what the network knew of every class ("dark knowledge"), which a label
alone does not. Per step, with two independent draws from the memory:

    loss = CE(new batch) + alpha · MSE(logits on memory batch 1, their stored logits)
                         + beta · CE(memory batch 2, its labels)

Choices, and why:

- The memory is the one every memory strategy shares (``modstudio.learn.memory``), reservoir by
  default as in the paper, filled after each task with that task's training split, as replay
  fills it, so the two differ only in the loss.
- The logits are stored at insertion and never refreshed, as in the paper. The paper inserts while
  it trains (the logits of that step); here insertion is at the task's end, so the stored logits
  are the trained network's answer on its own task (evaluation mode, no gradient).
- Task-incremental: a sample's logits are its own task's head. Class-incremental: the shared head
  over every class, those not seen yet included (the paper matches the whole output too).
- Under DDP both draws are made identically on every process, and each trains on its share
  (``ctx.collective.share``), as replay does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from modstudio.learn.memory import remember
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy
from modstudio.learn.strategies.replay import Replay


@implements("der_pp")
class DerPP(Replay):
    """Replay's memory and draws; its own loss and what it stores."""

    def loss(self, task, x, y, task_ids):
        loss = Strategy.loss(self, task, x, y, task_ids)  # the new batch alone: no plain rehearsal
        memory = self.memory
        if not len(memory):
            return loss
        ctx = self.ctx
        logit_picks = self.draw(len(x))
        label_picks = self.draw(len(x))
        if logit_picks and self.params["alpha"]:
            mx, _, mt = memory.gather(ctx, logit_picks)
            loss = loss + self.params["alpha"] * self._logit_error(task, mx, mt, memory.extras(logit_picks))
        if label_picks and self.params["beta"]:
            loss = loss + self.params["beta"] * ctx.loss(task, *memory.gather(ctx, label_picks))
        return loss

    def _logit_error(self, task, x, task_ids, stored: list[torch.Tensor]) -> torch.Tensor:
        """Mean squared difference between the logits now and those stored (each sample's own head)."""
        net = self.net
        if net.shared_head is not None:
            return F.mse_loss(net.features_and_logits(x, task), torch.stack(stored))
        total, count = x.new_zeros(()), 0
        for t in torch.unique(task_ids).tolist():
            rows = (task_ids == t).nonzero().flatten()
            target = torch.stack([stored[r] for r in rows.tolist()])
            total = total + (net.features_and_logits(x[rows], t) - target).pow(2).sum()
            count += target.numel()
        return total / count

    def end_task(self, task: int) -> None:
        remember(self, self.memory, task, extras=self.net.features_and_logits)
