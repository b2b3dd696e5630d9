"""GDumb (Prabhu et al. 2020): greedily keep a class-balanced memory of everything seen, and after
every task train the network from scratch on that memory alone; the task's own data is used
only through what the memory keeps of it. (The paper's training recipe, SGD with warm restarts
and CutMix, is left to the run's settings.) The memory is the shared one, class-balanced by
default: equal shares per class, re-balanced after each task, which is what the paper's greedy
sampler converges to."""

from __future__ import annotations

from modstudio.learn.memory import new_memory, remember
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy, TrainSet


@implements("gdumb")
class GDumb(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        self.memory = new_memory(self)

    def fit_task(self, task: int) -> None:
        remember(self, self.memory, task)
        self._reset_network()
        if len(self.memory):
            self.ctx.fit(task, self.ctx.settings.epochs)

    def train_set(self, task: int) -> TrainSet:
        return self.memory.gather(self.ctx)

    def extra_parameters(self, task: int) -> list:
        """The earlier tasks' heads, trained again with the body (the shared head already is)."""
        net = self.net
        if net.shared_head is not None:
            return []
        heads = net.instances(net.head_id)
        return [p for t in range(min(task, len(heads))) for p in heads[t].parameters()]

    def _reset_network(self) -> None:
        """Every module the tasks use starts again from a fresh initialisation (the run's seeded
        random stream, so a run repeats)."""
        for module in self.net.modules():
            if module is not self.net and callable(getattr(module, "reset_parameters", None)):
                module.reset_parameters()
