"""The plain ``nn.Module``s that exporters trace: one task's model, or every task behind an index.

They wrap the restored :class:`ModularNetwork` rather than re-implementing its forward, so an
exported file computes exactly what the studio computes (laterals and shared heads included).
Only the modules the exported tasks run are kept: the other bank instances become parameter-free
placeholders, so a file for one task carries no weights of the others while path indices hold.
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from modstudio.learn.network import ModularNetwork


def columns_of(net: ModularNetwork, tasks: Sequence[int]) -> set[int]:
    """Every path the tasks' inference runs: a progressive column reads all older columns, and a
    unified classifier every path."""
    if net.unified is not None:
        return set(range(len(net.paths)))
    columns = set(tasks)
    for task in tasks:
        if task in net.lateral_tasks:
            columns.update(range(task + 1))
    return columns


def pruned_network(net: ModularNetwork, tasks: Sequence[int]) -> ModularNetwork:
    """A copy of ``net`` holding only the instances and adapters ``tasks`` use."""
    columns = columns_of(net, tasks)
    keep = {(node_id, index) for column in columns for node_id, index in net.paths[column].items()}
    pruned = copy.deepcopy(net)
    for step in pruned.plan:
        if step.node_id == pruned.input_id:
            continue
        bank = pruned.instances(step.node_id)
        for index in range(len(bank)):
            if (step.node_id, index) not in keep:
                bank[index] = nn.Identity()
    for key in list(pruned.laterals.keys()):
        if int(key[1:].split("_", 1)[0]) not in columns:  # keys are t<task>_s<step>
            del pruned.laterals[key]
    pruned.bank_changed()
    return pruned.eval()


class TaskModel(nn.Module):
    """``model(x) → logits`` of one task: its path and head (shared-head runs: all classes)."""

    def __init__(self, net: ModularNetwork, task: int) -> None:
        super().__init__()
        self.net = pruned_network(net, [task])
        self.task = task

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x, self.task)


class AllTasksModel(nn.Module):
    """``model(x, task) → (logits, all_logits)`` for every trained task in one file.

    Every head runs and the task index (int64, one per sample) selects the row, so a batch may mix
    tasks and the graph stays free of data-dependent control flow (which exporters cannot follow).
    Heads narrower than the widest are padded with -inf: a class that task does not have.
    ``all_logits`` (batch × tasks × width) serves class-incremental use: pick the most confident head.
    """

    def __init__(self, net: ModularNetwork, n_tasks: int) -> None:
        super().__init__()
        self.tasks = list(range(n_tasks))
        self.net = pruned_network(net, self.tasks)
        self.widths = [net.task_classes[t] for t in self.tasks]
        self.width = max(self.widths)

    def forward(self, x: torch.Tensor, task: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        heads = []
        for t, width in zip(self.tasks, self.widths):
            logits = self.net(x, t)
            if width < self.width:
                logits = F.pad(logits, (0, self.width - width), value=float("-inf"))
            heads.append(logits)
        all_logits = torch.stack(heads, dim=1)
        index = task.to(torch.long).view(-1, 1, 1).expand(-1, 1, self.width)
        return all_logits.gather(1, index).squeeze(1), all_logits


def example_inputs(model: nn.Module, input_shape: Sequence[int], batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Inputs to trace with: a batch above 1, so exporters keep the batch dimension symbolic."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *input_shape, generator=generator)
    if isinstance(model, AllTasksModel):
        return x, torch.arange(batch, dtype=torch.long) % len(model.tasks)
    return (x,)


def io_names(model: nn.Module) -> tuple[list[str], list[str]]:
    """Input and output names the files use (ONNX names them; the docs describe them)."""
    if isinstance(model, AllTasksModel):
        return ["x", "task"], ["logits", "all_logits"]
    return ["x"], ["logits"]
