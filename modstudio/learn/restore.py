"""Rebuild a trained network from a saved run: its graph snapshot, paths and weights.

What export, the lesion study and inference outside training need: the exact network the run
ended with, every module frozen, without training anything.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import torch

from modstudio.data import union_classes
from modstudio.learn.network import ModularNetwork
from modstudio.project import strategy_specs

_BANK_KEY = re.compile(r"bank/([^/]+)/(\d+)/(.+)")


class RestoreError(ValueError):
    """The run cannot be turned back into a network (no weights, failed before training, …)."""


def restore_network(project, run, device: str | torch.device = "cpu") -> ModularNetwork:
    """The network ``run`` trained, on ``device``, in eval mode with every parameter frozen."""
    if not run.weights:
        raise RestoreError(f"run {run.id} has no saved weights (it {_what_happened(run)})")
    if not run.paths:
        raise RestoreError(f"run {run.id} trained no task, so there is no model to use")
    tasks = project.tasks
    return build_network(
        run.trained_graph(project.graph), tasks[0].sample_shape, [t.num_classes for t in tasks],
        strategy=run.settings.get("strategy", run.strategy), scenario=run.settings.get("scenario"),
        union_size=len(union_classes(tasks)), paths=run.paths, weights=run.weights, device=device,
    )


def build_network(
    graph, input_shape, task_classes, *, strategy: str, scenario: str | None, union_size: int,
    paths: list[dict[str, int]], weights: dict[str, np.ndarray], device: str | torch.device = "cpu",
) -> ModularNetwork:
    """A frozen, eval-mode network from plain parts: what a run stores, or an exported description
    holds (``modstudio.learn.export`` rebuilds models without the project archive through this)."""
    try:
        spec = strategy_specs.get(strategy)
    except strategy_specs.StrategyError as exc:
        raise RestoreError(f"cannot rebuild the network: {exc}") from None
    class_incremental = scenario == "class"
    shared_head = union_size if class_incremental and not spec.path_based else None
    net = ModularNetwork(graph, input_shape, task_classes, shared_head)

    by_instance: dict[tuple[str, int], dict[str, np.ndarray]] = defaultdict(dict)
    for key, array in weights.items():
        match = _BANK_KEY.fullmatch(key)
        if match:
            by_instance[(match[1], int(match[2]))][match[3]] = array
    for node_id, count in _instance_counts([*by_instance, *_path_instances(paths)]).items():
        if node_id == net.head_id:
            net.add_head(count - 1)
        else:
            while len(net.instances(node_id)) < count:
                net.grow(node_id)
    net.restore_paths(paths)
    if spec.laterals:
        for task in range(len(net.paths)):
            net.add_laterals(task)
    for (node_id, index), state in by_instance.items():
        net.instances(node_id)[index].load_state_dict(_tensors(state), strict=True)
    _load_prefixed(net.laterals, weights, "extra/laterals/")
    if net.shared_head is not None:
        _load_prefixed(net.shared_head, weights, "extra/shared_head/")
    for p in net.parameters():
        p.requires_grad_(False)
    return net.to(device).eval()


def _path_instances(paths: list[dict[str, int]]) -> list[tuple[str, int]]:
    """Instances the paths use: stateless nodes (pooling, activations) have no weights to count."""
    return [(node_id, index) for path in paths for node_id, index in path.items()]


def _instance_counts(instances) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node_id, index in instances:
        counts[node_id] = max(counts.get(node_id, 0), index + 1)
    return counts


def _tensors(state: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {name: torch.from_numpy(np.array(array)) for name, array in state.items()}


def _load_prefixed(module: torch.nn.Module, weights: dict[str, np.ndarray], prefix: str) -> None:
    state = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    if state or len(module.state_dict()):
        module.load_state_dict(_tensors(state), strict=True)


def _what_happened(run) -> str:
    return {"failed": f"failed: {run.message}", "running": "is still running"}.get(run.status, "was saved without weights")


@torch.no_grad()
def predict_logits(net: ModularNetwork, x: np.ndarray | torch.Tensor, task: int) -> torch.Tensor:
    """Logits of ``task`` for a batch (task-incremental use: the task id is given)."""
    device = next(net.parameters()).device
    return net(torch.tensor(np.asarray(x, dtype=np.float32), device=device), task)
