"""What every strategy shares: hooks the trainer calls, and the shared-path default.

A strategy decides three things: which path a task runs through (``begin_task``), what data and
loss it trains on (``train_set``/``loss``, and the gradients around each optimiser step:
``before_step``/``after_step``), and what it keeps after a task (``end_task``).
Everything else (batches, optimiser, stop/pause, evaluation, events) is the trainer's; a strategy
reaches the run only through its :class:`~modstudio.learn.context.TaskContext` (``self.ctx``).
Its name, kind and typed parameters are its spec (``modstudio.project.strategy_specs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F

from modstudio.project.strategy_specs import StrategyError, StrategySpec

if TYPE_CHECKING:
    from modstudio.learn.context import TaskContext

TrainSet = tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None"]

__all__ = ["Strategy", "StrategyError", "TrainSet", "distillation"]


class Strategy:
    spec: ClassVar[StrategySpec]  # set by ``implements``

    def __init__(self, **params: Any) -> None:
        self.params = self.spec.resolved(params)
        self.ctx: TaskContext | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def bind(self, ctx: "TaskContext") -> None:
        self.ctx = ctx

    @property
    def net(self):
        return self.ctx.net

    # ------------------------------------------------------------------ hooks

    def begin_task(self, task: int) -> None:
        """Shared path: every task runs through instance 0 of every node (its own head)."""
        net = self.net
        net.set_path(task, {node_id: net.shared_instance(node_id) for node_id in net.trainable_nodes})

    def fit_task(self, task: int) -> None:
        """Train ``task`` for the configured epochs (expansion overrides this with its search)."""
        self.ctx.fit(task, self.ctx.settings.epochs)

    def planned_epochs(self, task: int) -> int:
        """Epochs ``fit_task`` will run for ``task`` (searches included): the progress bar's scale."""
        return self.ctx.settings.epochs

    def train_set(self, task: int) -> TrainSet:
        """(x, labels, task ids or None when every sample belongs to ``task``)."""
        data = self.ctx.data(task)
        return data.train_x, self.ctx.labels(task, data.train_y), None

    def loss(self, task: int, x: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor | None) -> torch.Tensor:
        return self.ctx.loss(task, x, y, task_ids)

    def before_step(self, task: int, params: list[torch.nn.Parameter]) -> None:
        """After a training batch's backward pass, before the optimiser's step: ``p.grad`` of the
        ``params`` being trained may be changed here (A-GEM projects them)."""

    def after_step(self, task: int, params: list[torch.nn.Parameter]) -> None:
        """After the optimiser's step (SI integrates each parameter's path here)."""

    def end_epoch(self, task: int) -> None:
        """After a training epoch, before it is evaluated (iCaRL sets its class means here)."""

    def extra_parameters(self, task: int) -> list[torch.nn.Parameter]:
        """Parameters trained with ``task``'s path besides it (a readout over every path's features)."""
        return []

    def end_task(self, task: int) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.params}


def distillation(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton et al.'s KD term, scaled by T² so its gradient size does not depend on T."""
    t = temperature
    return F.kl_div(F.log_softmax(student / t, dim=1), F.softmax(teacher / t, dim=1), reduction="batchmean") * t * t
