"""Lesion study: how much every task depends on one module, measured on a copy of the trained network.

A lesion zeroes a module instance's parameters, or adds Gaussian noise whose standard deviation is
``scale`` times each tensor's own (so 0.5 means "half as large as the weights' spread"). The
trained network is deep-copied first, so the run's weights are never touched. Accuracy is measured
on every trained task's test split with the task id given (task-incremental), before and after.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from modstudio.data import union_classes
from modstudio.learn.chunks import float_chunks
from modstudio.learn.network import ModularNetwork

MODES = ("zero", "noise")


class LesionError(ValueError):
    """The lesion cannot be made (unknown node, instance out of range, a module without weights)."""


@dataclass
class LesionResult:
    node_id: str
    instances: list[int]  # the lesioned instances of the node's bank
    mode: str
    scale: float
    task_names: list[str]
    before: list[float]  # test accuracy of every trained task, intact network
    after: list[float]  # … with the lesion
    affected: list[bool] = field(default_factory=list)  # whether the task's path runs through a lesioned instance

    @property
    def drops(self) -> list[float]:
        return [b - a for b, a in zip(self.before, self.after)]


def lesion_network(net: ModularNetwork, node_id: str, instances: Sequence[int] | None = None, mode: str = "zero",
                   scale: float = 1.0, seed: int = 0) -> ModularNetwork:
    """A deep copy of ``net`` with the given instances of ``node_id`` lesioned (all of them by default)."""
    if mode not in MODES:
        raise LesionError(f"unknown lesion {mode!r}; use {' or '.join(MODES)}")
    if mode == "noise" and not scale >= 0:
        raise LesionError(f"the noise scale must be ≥ 0, got {scale!r}")
    try:
        bank = net.instances(node_id)
    except KeyError:
        raise LesionError(f"the network has no module {node_id!r}") from None
    chosen = list(range(len(bank))) if instances is None else list(instances)
    for index in chosen:
        if not 0 <= index < len(bank):
            raise LesionError(f"{node_id!r} has {len(bank)} instance(s); there is no instance {index}")
    if not any(p.numel() for i in chosen for p in bank[i].parameters()):
        raise LesionError("this module has no weights to lesion")
    lesioned = copy.deepcopy(net)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    with torch.no_grad():
        for index in chosen:
            for p in lesioned.instances(node_id)[index].parameters():
                if mode == "zero":
                    p.zero_()
                else:
                    std = float(p.detach().float().std()) if p.numel() > 1 else float(p.detach().abs().mean())
                    noise = torch.randn(p.shape, generator=generator, dtype=torch.float32) * (scale * std)
                    p.add_(noise.to(device=p.device, dtype=p.dtype))
    return lesioned.eval()


@torch.no_grad()
def task_accuracies(net: ModularNetwork, tasks: Sequence, n_tasks: int | None = None) -> list[float]:
    """Test accuracy of the first ``n_tasks`` tasks (default: every task with a path), task id given."""
    n = len(net.paths) if n_tasks is None else n_tasks
    device = next(net.parameters()).device
    union = {c: i for i, c in enumerate(union_classes(tasks))}
    accuracies = []
    for task in range(n):
        test = tasks[task].test
        y = torch.tensor(np.asarray(test.y), dtype=torch.long)
        if net.shared_head is not None:  # one head over every class: compare in the union's label space
            y = torch.tensor([union[c] for c in tasks[task].classes], dtype=torch.long)[y]
        correct = start = 0
        for xb in float_chunks(test, device):  # mapped from bytes a chunk at a time
            correct += int((net(xb, task).argmax(1).cpu() == y[start:start + len(xb)]).sum())
            start += len(xb)
        accuracies.append(correct / max(len(y), 1))
    return accuracies


def lesion_study(project, run, node_id: str, instance: int | None = None, mode: str = "zero", scale: float = 1.0,
                 seed: int = 0, net: ModularNetwork | None = None) -> LesionResult:
    """Every trained task's accuracy with ``node_id`` (one instance, or all) lesioned, against intact.

    ``net`` is the run's restored network when the caller already has it (it is never modified)."""
    if net is None:
        from modstudio.learn.restore import restore_network

        net = restore_network(project, run)
    instances = None if instance is None else [instance]
    lesioned = lesion_network(net, node_id, instances, mode, scale, seed)
    tasks = project.tasks
    n = len(net.paths)
    chosen = set(range(len(net.instances(node_id))) if instance is None else [instance])
    affected = [net.paths[t].get(node_id) in chosen for t in range(n)]
    return LesionResult(node_id, sorted(chosen), mode, float(scale), [tasks[t].name for t in range(n)],
                        task_accuracies(net, tasks, n), task_accuracies(lesioned, tasks, n), affected)
