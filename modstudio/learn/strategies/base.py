"""What every strategy shares: hooks the trainer calls, and the shared-path default.

A strategy decides three things: which path a task runs through (``begin_task``), what data and
loss it trains on (``train_set``/``loss``), and what it keeps after a task (``end_task``).
Everything else (batches, optimiser, stop/pause, evaluation, events) is the trainer's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from modstudio.learn.trainer import Trainer

TrainSet = tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None"]


class StrategyError(ValueError):
    """Unknown strategy or a strategy parameter out of range."""


class Strategy:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    path_based: ClassVar[bool] = False  # each task its own path: class-incremental infers the task
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise StrategyError(f"{self.name} has no parameter {', '.join(sorted(unknown))} (known: {known})")
        self.params = {**self.defaults, **params}
        for key, value in self.params.items():
            default = self.defaults[key]
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                    raise StrategyError(f"{self.name}: {key} must be a number ≥ 0, got {value!r}")
                if isinstance(default, int) and value != int(value):
                    raise StrategyError(f"{self.name}: {key} must be a whole number, got {value!r}")
                self.params[key] = type(default)(value)
        self.trainer: Trainer | None = None

    def bind(self, trainer: "Trainer") -> None:
        self.trainer = trainer

    @property
    def net(self):
        return self.trainer.net

    # ------------------------------------------------------------------ hooks

    def begin_task(self, task: int) -> None:
        """Shared path: every task runs through instance 0 of every node (its own head)."""
        net = self.net
        net.set_path(task, {node_id: net.shared_instance(node_id) for node_id in net.trainable_nodes})

    def fit_task(self, task: int) -> None:
        """Train ``task`` for the configured epochs (expansion overrides this with its search)."""
        self.trainer.fit(task, self.trainer.settings.epochs)

    def planned_epochs(self, task: int) -> int:
        """Epochs ``fit_task`` will run for ``task`` (searches included): the progress bar's scale."""
        return self.trainer.settings.epochs

    def train_set(self, task: int) -> TrainSet:
        """(x, labels, task ids or None when every sample belongs to ``task``)."""
        data = self.trainer.data[task]
        return data.train_x, self.trainer.train_labels(task, data.train_y), None

    def parameters(self, task: int) -> list[torch.nn.Parameter]:
        return self.net.path_parameters(task)

    def loss(self, task: int, x: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor | None) -> torch.Tensor:
        return self.trainer.classification_loss(task, x, y, task_ids)

    def end_task(self, task: int) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.params}


def distillation(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton et al.'s KD term, scaled by T² so its gradient size does not depend on T."""
    t = temperature
    return F.kl_div(F.log_softmax(student / t, dim=1), F.softmax(teacher / t, dim=1), reduction="batchmean") * t * t
