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
from modstudio.project.tensors import numeric_problem

_BANK_KEY = re.compile(r"bank/([^/]+)/(\d+)/(.+)")
_ADAPTER_KEY = re.compile(r"extra/laterals/t\d+_s\d+\.down")
_READOUT_KEY = re.compile(r"extra/(unified|router)/(blocks|experts)\.(\d+)\.(.+)")


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
    holds (``modstudio.learn.export`` rebuilds models without the project archive through this;
    it calls ``check_parts`` first, since an export's parts are untrusted)."""
    by_instance = _by_instance(weights)
    net = _skeleton(graph, input_shape, task_classes, strategy, scenario, union_size, paths, by_instance,
                    _readouts(weights), _lateral_width(weights))
    for (node_id, index), state in by_instance.items():
        net.instances(node_id)[index].load_state_dict(_tensors(state), strict=True)
    _load_prefixed(net.laterals, weights, "extra/laterals/")
    if net.shared_head is not None:
        _load_prefixed(net.shared_head, weights, "extra/shared_head/")
    for name, module in net.readouts().items():
        _load_prefixed(module, weights, f"extra/{name}/")
    for p in net.parameters():
        p.requires_grad_(False)
    return net.to(device).eval()


def check_parts(
    graph, input_shape, task_classes, *, strategy: str, scenario: str | None, union_size: int,
    paths: list[dict[str, int]], weights: dict[str, np.ndarray],
) -> None:
    """RestoreError unless ``build_network`` on these parts makes exactly the network the weights
    fill: every path names instances the weights hold, every tensor the network has is there with
    its shape, and no other. The network is first built on torch's ``meta`` device, which
    allocates nothing, so an export that claims a huge network costs no memory to refuse."""
    by_instance = _by_instance(weights)
    for key, array in weights.items():
        problem = numeric_problem(array)
        if problem:
            raise RestoreError(f"tensor {key!r} {problem}")
    weighted: dict[str, set[int]] = defaultdict(set)
    for node_id, index in by_instance:
        weighted[node_id].add(index)
    for node_id, indexes in weighted.items():
        if indexes != set(range(len(indexes))):
            raise RestoreError(f"the weights of node {node_id!r} are not instances 0…{len(indexes) - 1} "
                               f"(found instance {max(indexes)})")
    for task, path in enumerate(paths):
        for node_id, index in path.items():
            if index >= max(len(weighted.get(node_id, ())), 1):
                raise RestoreError(f"task {task}'s path uses instance {index} of node {node_id!r}, "
                                   "which the weights do not hold")
    with torch.device("meta"):
        net = _skeleton(graph, input_shape, task_classes, strategy, scenario, union_size, paths, by_instance,
                        _readouts(weights), _lateral_width(weights))
    nodes = {step.node_id for step in net.plan if step.node_id != net.input_id}
    for task, path in enumerate(paths):
        if set(path) != nodes:
            odd = sorted(set(path) ^ nodes)[0]
            why = "is not in the graph" if odd not in nodes else "is missing from it"
            raise RestoreError(f"task {task}'s path does not fit the graph: node {odd!r} {why}")
    expected = _expected_shapes(net)
    for key, array in weights.items():
        if key not in expected:
            raise RestoreError(f"tensor {key!r} has no place in the network")
        if tuple(array.shape) != expected[key] and not (expected[key] == () and array.shape == (1,)):
            # (torch loads a one-element tensor into a scalar: how batch-norm counts are stored)
            raise RestoreError(f"tensor {key!r} has shape {tuple(array.shape)}, the network needs {expected[key]}")
    missing = sorted(set(expected) - set(weights))
    if missing:
        raise RestoreError(f"the weights lack {len(missing)} tensor(s) of the network, {missing[0]!r} first")


def _skeleton(graph, input_shape, task_classes, strategy, scenario, union_size, paths, by_instance,
              readouts=None, lateral_width=None) -> ModularNetwork:
    """The network with its bank grown, paths, laterals and readouts in place, weights not loaded."""
    try:
        spec = strategy_specs.get(strategy)
    except strategy_specs.StrategyError as exc:
        raise RestoreError(f"cannot rebuild the network: {exc}") from None
    class_incremental = scenario == "class"
    shared_head = union_size if class_incremental and not spec.path_based else None
    net = ModularNetwork(graph, input_shape, task_classes, shared_head)
    known = {step.node_id for step in net.plan if step.node_id != net.input_id}
    counts = _instance_counts([*by_instance, *_path_instances(paths)])
    for node_id, count in counts.items():
        if node_id not in known:
            raise RestoreError(f"cannot rebuild the network: node {node_id!r} is not in the graph")
        if node_id == net.head_id:
            if count > len(task_classes):
                raise RestoreError(f"cannot rebuild the network: {count} heads for {len(task_classes)} tasks")
            net.add_head(count - 1)
        else:
            while len(net.instances(node_id)) < count:
                net.grow(node_id)
    net.restore_paths(paths)
    if spec.laterals:
        for task in range(len(net.paths)):
            net.add_laterals(task, lateral_width)
    _add_readouts(net, readouts or {}, union_size)
    return net


def _lateral_width(weights: dict[str, np.ndarray]) -> int | None:
    """The width of the run's lateral adapters; None for runs saved with C×C mixes (or none)."""
    for key, array in weights.items():
        if _ADAPTER_KEY.fullmatch(key) and array.ndim == 2:
            return int(array.shape[0])
    return None


def _readouts(weights: dict[str, np.ndarray]) -> dict[str, tuple[str, int, int]]:
    """What class-incremental readouts the weights hold: name → (part, count, hidden width)."""
    found: dict[str, tuple[str, int, int]] = {}
    for key, array in weights.items():
        match = _READOUT_KEY.fullmatch(key)
        if match:
            name, part, index = match[1], match[2], int(match[3])
            hidden = int(array.shape[0]) if match[4] == "encode.weight" and array.ndim else 0
            _, count, width = found.get(name, (part, 0, 0))
            found[name] = (part, max(count, index + 1), max(width, hidden))
        elif key in ("extra/unified/bias", "extra/router/bias"):
            name = key.split("/")[1]
            found.setdefault(name, ("blocks", 0, 0))
    return found


def _add_readouts(net: ModularNetwork, readouts: dict[str, tuple[str, int, int]], union_size: int) -> None:
    """The unified classifier, gate or task classifier the weights name (``net.readouts()``)."""
    for name, (part, count, hidden) in readouts.items():
        if name == "unified" and part == "blocks":
            net.enable_unified(union_size)
            module = net.unified
        elif name == "router" and part == "experts":
            net.enable_gate(max(hidden, 1))
            for _ in range(count):
                net.add_gate_expert()
            continue
        elif name == "router":
            net.enable_task_classifier()
            module = net.router
        else:
            raise RestoreError(f"cannot rebuild the network: the weights hold an unknown {name} readout")
        module.grow_to(count)


def _by_instance(weights: dict[str, np.ndarray]) -> dict[tuple[str, int], dict[str, np.ndarray]]:
    by_instance: dict[tuple[str, int], dict[str, np.ndarray]] = defaultdict(dict)
    for key, array in weights.items():
        match = _BANK_KEY.fullmatch(key)
        if match:
            by_instance[(match[1], int(match[2]))][match[3]] = array
    return by_instance


def _expected_shapes(net: ModularNetwork) -> dict[str, tuple[int, ...]]:
    """Every tensor the network's file names hold, as ``ModularNetwork.weights`` names them."""
    shapes: dict[str, tuple[int, ...]] = {}
    for step in net.plan:
        if step.node_id == net.input_id:
            continue
        for index, module in enumerate(net.instances(step.node_id)):
            for name, tensor in module.state_dict().items():
                shapes[f"bank/{step.node_id}/{index}/{name}"] = tuple(tensor.shape)
    for name, tensor in net.laterals.state_dict().items():
        shapes[f"extra/laterals/{name}"] = tuple(tensor.shape)
    if net.shared_head is not None:
        for name, tensor in net.shared_head.state_dict().items():
            shapes[f"extra/shared_head/{name}"] = tuple(tensor.shape)
    for prefix, module in net.readouts().items():
        for name, tensor in module.state_dict().items():
            shapes[f"extra/{prefix}/{name}"] = tuple(tensor.shape)
    return shapes


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
