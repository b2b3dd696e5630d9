"""Progressive networks (Rusu et al. 2016): a fresh column per task, lateral inputs from the old.

In the class scenario a router names each sample's column (``task_inference``, ``routing.py``).
"""

from __future__ import annotations

from modstudio.learn.events import ModuleAdded
from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy
from modstudio.learn.memory import new_memory, remember
from modstudio.learn.strategies.routing import TaskRouter


@implements("progressive")
class Progressive(Strategy):
    def bind(self, ctx) -> None:
        super().bind(ctx)
        mode = self.params["task_inference"]
        self.memory = new_memory(self) if ctx.class_incremental and mode == "memory" else None
        self.router = TaskRouter(self, self.memory) if ctx.class_incremental else None

    def planned_epochs(self, task: int) -> int:
        return self.ctx.settings.epochs + (self.router.epochs() if self.router else 0)

    def begin_task(self, task: int) -> None:
        net = self.net
        path = {}
        for node_id in net.trainable_nodes:
            # Task 0 trains the network as initialised (instance 0); later tasks get a fresh column.
            path[node_id] = net.grow(node_id) if task else net.shared_instance(node_id)
            self.ctx.emit(ModuleAdded(task, node_id, path[node_id]))
        net.set_path(task, path)
        net.add_laterals(task, int(self.params["adapter_width"]))

    def end_task(self, task: int) -> None:
        self.net.freeze_path(task)
        if self.memory is not None:
            remember(self, self.memory, task)
        if self.router is not None:
            self.router.after_task(task)
