"""The optimiser of one ``fit`` and its learning-rate schedule, as the settings ask.

Every ``fit`` gets a torch optimiser of its own, because the trainable set changes per task, per
expansion candidate and per probe. With ``reset_optimizer`` off, a task's training phase starts
from the per-parameter state of the previous one (Adam's moments and step counts) for every
parameter it trains again, which is exactly what one optimiser kept across tasks would hold
(Avalanche's default); parameters no longer trained (frozen paths) leave their state behind.
The schedule restarts with every training phase and spans its epochs.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR

from modstudio.project.settings import LR_SCHEDULES, OPTIMIZER_NAMES, TrainingSettings

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
assert set(OPTIMIZERS) == set(OPTIMIZER_NAMES)


def new_optimizer(settings: TrainingSettings, params: Sequence[torch.nn.Parameter],
                  carry_from: torch.optim.Optimizer | None = None) -> torch.optim.Optimizer:
    """An optimiser over ``params``; the state ``carry_from`` holds for any of them goes on."""
    optimizer = OPTIMIZERS[settings.optimizer](params, lr=settings.lr, weight_decay=settings.weight_decay)
    if carry_from is not None:
        for p in params:
            state = carry_from.state.get(p)  # .get: the state is a defaultdict
            if state:
                optimizer.state[p] = state
    return optimizer


def new_schedule(settings: TrainingSettings, optimizer: torch.optim.Optimizer, epochs: int) -> LRScheduler | None:
    """The learning-rate schedule over one training phase of ``epochs`` (stepped once per epoch);
    None for a constant rate."""
    name = settings.lr_schedule
    if name == "step":
        return StepLR(optimizer, step_size=settings.lr_step_epochs, gamma=settings.lr_step_factor)
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if name != "constant":
        raise ValueError(f"unknown lr_schedule {name!r}; use {', '.join(LR_SCHEDULES)}")
    return None
