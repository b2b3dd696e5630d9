"""How a path-per-task strategy names a sample's task in the class scenario (``task_inference``).

- ``confidence``: the most confident head (the trainer's fallback; no training, poorly calibrated),
- ``gate``: Expert Gate (Aljundi et al. 2017), one small autoencoder per task on the input,
  trained on that task's data after the task; the best reconstruction names the task,
- ``memory``: a task classifier over every path's frozen features, retrained after each task on
  the class-balanced exemplar memory (the same memory budget every strategy gets).

The readouts themselves live on the network (``net.router``), so a saved run keeps them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from modstudio.learn.memory import ExemplarMemory


def frozen_features(net, x: torch.Tensor, sources: list[int], batch: int = 4096) -> list[torch.Tensor]:
    """Every source path's features for ``x``, computed once (the paths are frozen)."""
    with torch.no_grad():
        parts = [net.head_inputs(x[i:i + batch], sources) for i in range(0, len(x), batch)]
    return [torch.cat([p[k] for p in parts]) for k in range(len(sources))]


class TaskRouter:
    """Trains the router ``task_inference`` names, after each task's path is frozen."""

    def __init__(self, strategy, memory: ExemplarMemory | None) -> None:
        self.strategy = strategy
        self.mode = strategy.params["task_inference"]
        self.memory = memory
        net = strategy.net
        if self.mode == "gate":
            net.enable_gate(int(strategy.params["gate_hidden"]))
        elif self.mode == "memory":
            net.enable_task_classifier()

    def epochs(self) -> int:
        """Epochs the router trains per task (0 for confidence, which learns nothing)."""
        if self.mode == "confidence":
            return 0
        return int(self.strategy.params["router_epochs"]) or self.strategy.ctx.settings.epochs

    def after_task(self, task: int) -> None:
        ctx, net = self.strategy.ctx, self.strategy.net
        seed = ctx.settings.seed * 1009 + task
        if self.mode == "gate":
            expert = net.add_gate_expert()
            ctx.optimize(task, list(expert.parameters()), (ctx.data(task).train_x,),
                         lambda x: expert.error(x).mean(), self.epochs(), "router", seed)
            for p in expert.parameters():
                p.requires_grad_(False)
            expert.eval()
        elif self.mode == "memory":
            router = net.router
            sources = net.feature_sources(task + 1)
            router.grow_to(len(sources))
            router.activate([task])
            x, _, task_ids = self.memory.gather(ctx)
            features = frozen_features(net, x, sources)

            def loss(task_ids, *features):
                return F.cross_entropy(router(list(features)), task_ids)

            ctx.optimize(task, list(router.parameters()), (task_ids, *features), loss, self.epochs(), "router", seed)
