"""Progressive networks (Rusu et al. 2016): a fresh column per task, lateral inputs from the old."""

from __future__ import annotations

from modstudio.learn.events import ModuleAdded
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy


@implements("progressive")
class Progressive(Strategy):
    def begin_task(self, task: int) -> None:
        net = self.net
        path = {}
        for node_id in net.trainable_nodes:
            # Task 0 trains the network as initialised (instance 0); later tasks get a fresh column.
            path[node_id] = net.grow(node_id) if task else net.shared_instance(node_id)
            self.ctx.emit(ModuleAdded(task, node_id, path[node_id]))
        net.set_path(task, path)
        net.add_laterals(task)

    def end_task(self, task: int) -> None:
        self.net.freeze_path(task)
