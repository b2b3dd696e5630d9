"""Synaptic Intelligence (Zenke et al. 2017): while a task trains, each shared parameter's
contribution to the fall of the task's loss is integrated along its path, ω −= g · Δθ at every
optimiser step (g the gradient of the task's own loss, without the penalty, as in the authors'
code); after the task Ω += max(ω, 0) / (Δ² + ξ), Δ the parameter's change over the task, and
later tasks pay λ · Σ Ω (θ − θ*)². (A negative ω, a parameter that rose the loss on net, counts as
no importance: a negative Ω would reward drifting.)"""

from __future__ import annotations

import torch

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.penalty import ImportancePenalty


@implements("si")
class SI(ImportancePenalty):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.omega: dict[str, torch.Tensor] = {}  # this task's path integral, per shared parameter
        self.start: dict[str, torch.Tensor] = {}  # the values the task started from
        self._grad: dict[str, torch.Tensor] = {}  # this step's task-loss gradient
        self._before: dict[str, torch.Tensor] = {}  # and the values before the step
        self._keys: dict[str, torch.nn.Parameter] = {}  # the parameters this task's steps integrate

    def begin_task(self, task: int) -> None:
        super().begin_task(task)
        shared = self.shared(task)
        self.start = {k: p.detach().clone() for k, p in shared.items()}
        self.omega = {k: torch.zeros_like(p) for k, p in shared.items()}
        self._keys = shared

    def before_step(self, task, params) -> None:
        self._grad.clear()
        self._before.clear()
        for k, p in self._keys.items():
            if p.grad is None:
                continue
            grad = p.grad.detach().clone()
            own = self.penalty_gradient(k, p)
            if own is not None:
                grad -= own  # the task loss's gradient alone
            self._grad[k] = grad
            self._before[k] = p.detach().clone()

    def after_step(self, task, params) -> None:
        for k, grad in self._grad.items():
            self.omega[k] -= grad * (self._keys[k].detach() - self._before[k])

    def end_task(self, task: int) -> None:
        xi = self.params["damping"]
        shared = self.shared(task)
        importance = {k: self.omega[k].clamp(min=0) / ((shared[k].detach() - self.start[k]).pow(2) + xi)
                      for k in self.omega}
        self.ctx.collective.sum_(list(importance.values()))  # several processes: the same steps, averaged
        world = self.ctx.collective.world_size
        if world > 1:
            for value in importance.values():
                value /= world
        self.consolidate(task, importance)
