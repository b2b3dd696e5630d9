"""The modular network: the user's graph as a template, a bank of trained instances per node,
and a path per task saying which instance of every node that task runs through.

Strategies differ only in how they make paths: one shared path (fine-tune, EWC, replay, LwF,
joint), a fresh column per task with lateral inputs (progressive), or reuse-or-grow (expansion).
Frozen instances never change again: they lose ``requires_grad`` and always run in eval mode,
so even batch-norm statistics stay bit-identical while later tasks train.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import torch
from torch import nn

from modstudio.learn.compiler import CompileError, build_node, execution_plan, module_key
from modstudio.learn.readouts import AutoencoderGate, FeatureClassifier
from modstudio.project import features

if TYPE_CHECKING:
    from modstudio.graph import Graph

Path = dict[str, int]


class NetworkError(ValueError):
    """The graph cannot serve these tasks (invalid graph, head width that contradicts a task)."""


def _channel_map(weight: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A 1×1 map over the channel (first non-batch) axis: dense for vectors, 1×1 conv for maps."""
    return torch.einsum("oc,bc...->bo...", weight, x)


class LateralAdapter(nn.Module):
    """Progressive networks' adapter (Rusu et al. 2016, eq. 2): the older columns' activations,
    each scaled by a learned α, projected to ``width`` channels, a ReLU, then projected to this
    column's channels. The last projection starts at zero, so a new column begins exactly as an
    independent network; parameters grow by (older columns × C + C) × width, not C² per column."""

    def __init__(self, columns: int, channels: int, width: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(columns))
        bound = 1.0 / (columns * channels) ** 0.5
        self.down = nn.Parameter(torch.empty(width, columns * channels).uniform_(-bound, bound))
        self.up = nn.Parameter(torch.zeros(channels, width))

    def forward(self, older: list[torch.Tensor]) -> torch.Tensor:
        scaled = torch.cat([a * self.alpha[j] for j, a in enumerate(older)], dim=1)
        return _channel_map(self.up, torch.relu(_channel_map(self.down, scaled)))


class ChannelMix(nn.Module):
    """The first lateral form: a learned C×C mix per older column, zero at start. Kept so runs
    saved with it still restore; new runs use :class:`LateralAdapter`."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _channel_map(self.weight, x)


class ModularNetwork(nn.Module):
    """Module bank + per-task paths and heads over one checked graph."""

    def __init__(
        self,
        graph: "Graph",
        input_shape: Sequence[int],
        task_classes: Sequence[int],
        shared_head_classes: int | None = None,
    ) -> None:
        super().__init__()
        self.graph = graph.copy()
        report = self.graph.check(input_shape=tuple(input_shape), classes=task_classes[0] if task_classes else None)
        if not report.ok:
            raise NetworkError(str(CompileError(report)))
        head = self.graph.nodes[report.head_id]
        fixed = head.params.get("classes", 0)
        for index, n in enumerate(task_classes):
            if fixed and fixed != n:
                raise NetworkError(
                    f"the head is set to {fixed} classes but task {index + 1} has {n}; "
                    "set the head's classes to 0 to take each task's width"
                )
        self.report = report
        self.plan = execution_plan(self.graph, report)
        self.head_id = report.head_id
        self.input_id = report.input_id
        self.task_classes = list(task_classes)
        self.trainable_nodes = [
            s.node_id for s in self.plan
            if s.node_id not in (self.head_id, self.input_id) and report.nodes[s.node_id].param_count
        ]
        slot = {step.node_id: i for i, step in enumerate(self.plan)}
        self._slot = slot
        self._run = [([slot[src] for src in step.sources], step.multi) for step in self.plan]
        self.bank = nn.ModuleDict({
            module_key(step.node_id): nn.ModuleList() for step in self.plan if step.node_id != self.input_id
        })
        self.paths: list[Path] = []
        self._resolved: dict[int, list[nn.Module | None]] = {}
        self.frozen: set[tuple[str, int]] = set()
        self.laterals = nn.ModuleDict()
        self.lateral_tasks: set[int] = set()
        # Where the network lives: modules are grown long after ``.to(device)``, when the bank may
        # still hold no parameter to ask (the first heads of a CUDA run were made on the CPU).
        # A buffer moves with ``.to()``; empty and not persistent, it is in no file.
        self.register_buffer("_placement", torch.empty(0), persistent=False)
        self.shared_head: nn.Module | None = None
        if shared_head_classes:
            self.shared_head = build_node(self.graph, report, self.head_id, classes=shared_head_classes)
        head_step = self.plan[slot[self.head_id]]
        self._feature_slot = slot[head_step.sources[0]]
        self.feature_width = int(report.nodes[head_step.sources[0]].shape[0])  # what a head reads
        self.feature_nodes = features.feature_nodes(self.graph, self.head_id)  # what makes a head's input
        # Class-incremental readouts (``modstudio.learn.readouts``): one classifier over every
        # path's features, and a router that names a sample's task. None unless a strategy asks.
        self.unified: FeatureClassifier | None = None
        self.router: nn.Module | None = None
        # How stored bytes become features (``learn/inputs.DeviceValues``), set by the trainer
        # when its tasks keep bytes on the device; float inputs pass through untouched.
        self.input_values: Callable[[torch.Tensor], torch.Tensor] | None = None

    # ------------------------------------------------------------------ bank

    def instances(self, node_id: str) -> nn.ModuleList:
        return self.bank[module_key(node_id)]

    def new_instance(self, node_id: str, copy_of: int | None = None) -> nn.Module:
        """A trainable module for ``node_id`` on the network's device, not yet in the bank: fresh,
        or a copy of instance ``copy_of`` (frozen or not) to start from what it learned."""
        if copy_of is not None:
            module = copy.deepcopy(self.instances(node_id)[copy_of])
            for p in module.parameters():
                p.requires_grad_(True)
            module.train()
        else:
            module = build_node(self.graph, self.report, node_id)
        return module.to(self._device())

    def grow(self, node_id: str, init_from: int | None = None) -> int:
        """Add an instance of ``node_id`` (see ``new_instance``); returns its index."""
        bank = self.instances(node_id)
        bank.append(self.new_instance(node_id, init_from))
        return len(bank) - 1

    def add_head(self, task: int) -> None:
        """Create the heads of tasks up to ``task`` (head instance index = task index)."""
        bank = self.instances(self.head_id)
        while len(bank) <= task:
            module = build_node(self.graph, self.report, self.head_id, classes=self.task_classes[len(bank)])
            bank.append(module.to(self._device()))

    def shared_instance(self, node_id: str) -> int:
        """Index 0 of a node, grown on first use: what shared-path strategies and stateless nodes use."""
        if not len(self.instances(node_id)):
            self.grow(node_id)
        return 0

    def set_path(self, task: int, path: Path) -> None:
        """Record ``task``'s path; stateless nodes default to their single shared instance."""
        full = {}
        for step in self.plan:
            node_id = step.node_id
            if node_id == self.input_id:
                continue
            if node_id == self.head_id:
                self.add_head(task)
                full[node_id] = task
            elif node_id in path:
                full[node_id] = path[node_id]
            else:
                full[node_id] = self.shared_instance(node_id)
        while len(self.paths) <= task:
            self.paths.append({})
        self.paths[task] = full
        self._resolved.clear()

    def restore_paths(self, paths: Sequence[Path]) -> None:
        """Take every task's path as saved (instances must be in the bank already): restoring a run."""
        self.paths = [dict(path) for path in paths]
        self.bank_changed()

    def bank_changed(self) -> None:
        """Call after putting other modules into the bank directly (pruning an export's copy)."""
        self._resolved.clear()

    def freeze(self, node_id: str, index: int) -> None:
        module = self.instances(node_id)[index]
        for p in module.parameters():
            p.requires_grad_(False)
        module.eval()
        self.frozen.add((node_id, index))

    def freeze_path(self, task: int) -> None:
        for node_id, index in self.paths[task].items():
            self.freeze(node_id, index)
        for adapter in self.laterals_of(task):
            for p in adapter.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> "ModularNetwork":
        super().train(mode)
        for node_id, index in self.frozen:
            self.instances(node_id)[index].eval()
        return self

    def _device(self) -> torch.device:
        return self._placement.device

    # ------------------------------------------------------------------ running

    def modules_for(self, task: int, overrides: dict[str, nn.Module] | None = None) -> list[nn.Module | None]:
        """The module of every plan step along ``task``'s path (None for the input).

        Resolved once per path and cached (every batch asks); a changed path or bank clears it."""
        if not overrides:
            cached = self._resolved.get(task)
            if cached is None:
                cached = self._resolved[task] = self._resolve(task, None)
            return list(cached)
        return self._resolve(task, overrides)

    def _resolve(self, task: int, overrides: dict[str, nn.Module] | None) -> list[nn.Module | None]:
        path = self.paths[task]
        result: list[nn.Module | None] = []
        for step in self.plan:
            node_id = step.node_id
            if overrides and node_id in overrides:
                result.append(overrides[node_id])
            elif node_id == self.input_id:
                result.append(None)
            else:
                result.append(self.instances(node_id)[path[node_id]])
        return result

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """The float features of a batch: bytes mapped here, per batch, on the device (every
        strategy hands the network stored samples as they are)."""
        if x.dtype != torch.uint8:
            return x
        if self.input_values is None:
            raise NetworkError("the network got bytes (uint8) without the mapping that makes them features")
        return self.input_values(x)

    def run(self, x: torch.Tensor, modules: list[nn.Module | None], older=None, adapters=None) -> list[torch.Tensor]:
        """Execute the plan with the given modules; returns every step's output (for laterals)."""
        x = self.inputs(x)
        outs: list[torch.Tensor] = []
        for index, (sources, multi) in enumerate(self._run):
            module = modules[index]
            if module is None:
                outs.append(x)
                continue
            if multi:
                outs.append(module([outs[i] for i in sources]))
                continue
            inp = outs[sources[0]]
            adapter = adapters[index] if adapters is not None else None
            if isinstance(adapter, LateralAdapter):
                inp = inp + adapter([column[sources[0]] for column in older])
            elif adapter is not None:  # ChannelMix per older column (runs saved before adapters)
                for column, mix in zip(older, adapter):
                    inp = inp + mix(column[sources[0]])
            outs.append(module(inp))
        return outs

    def inference_modules(self, task: int, overrides=None) -> list[nn.Module | None]:
        """``modules_for`` with the shared head in place of the task's own, when there is one."""
        modules = self.modules_for(task, overrides)
        if self.shared_head is not None and not (overrides and self.head_id in overrides):
            modules[self._slot[self.head_id]] = self.shared_head
        return modules

    def features_and_logits(self, x: torch.Tensor, task: int, overrides=None) -> torch.Tensor:
        if task in self.lateral_tasks:
            return self._run_columns(x, task, overrides)[-1]
        return self.run(x, self.inference_modules(task, overrides))[self._slot[self.head_id]]

    def forward(self, x: torch.Tensor, task: int = 0) -> torch.Tensor:
        """Logits of ``task``'s head; in class-incremental runs with one classifier over every class
        (a shared head, or the unified classifier over every path's features) that classifier's."""
        if self.unified is not None:
            return self.unified_logits(x)
        return self.features_and_logits(x, task)

    # ------------------------------------------------------------------ every path's features at once

    def feature_key(self, task: int) -> tuple:
        """What determines ``task``'s features (the head's input): the instances feeding it.
        Two tasks with the same key compute the same features, so a readout needs only one.
        The rule is ``modstudio.project.features`` (torch-free: the studio shows it too)."""
        return features.feature_key(self.paths[task], self.feature_nodes, task, task in self.lateral_tasks)

    def feature_sources(self, n_tasks: int | None = None) -> list[int]:
        """The first task of every distinct feature key among the first ``n_tasks`` paths."""
        return features.feature_sources(self.paths, self.feature_nodes, self.lateral_tasks, n_tasks)

    def head_inputs(self, x: torch.Tensor, tasks: Sequence[int], overrides=None, override_task=None) -> list[torch.Tensor]:
        """The features every task in ``tasks`` gives its head, modules shared by paths run once."""
        x = self.inputs(x)
        cache: dict[tuple, torch.Tensor] = {}
        found = []
        for task in tasks:
            extra = overrides if task == override_task else None
            if task in self.lateral_tasks:
                found.append(self._run_columns(x, task, extra)[self._feature_slot])
                continue
            modules, keys, outs = self.modules_for(task, extra), [], []
            for index, (sources, multi) in enumerate(self._run):
                if index > self._feature_slot:
                    break
                module = modules[index]
                key = (id(module), tuple(keys[i] for i in sources))
                keys.append(key)
                if key not in cache:
                    if module is None:
                        cache[key] = x
                    elif multi:
                        cache[key] = module([outs[i] for i in sources])
                    else:
                        cache[key] = module(outs[sources[0]])
                outs.append(cache[key])
            found.append(outs[self._feature_slot])
        return found

    def enable_unified(self, classes: int) -> None:
        """Give the network DER's unified classifier over ``classes`` (class-incremental expansion)."""
        self.unified = FeatureClassifier(self.feature_width, classes).to(self._device())

    def sync_unified(self) -> None:
        """One unified block per distinct feature source of the paths so far."""
        self.unified.grow_to(len(self.feature_sources()))

    def unified_logits(self, x: torch.Tensor, n_tasks: int | None = None, overrides=None, override_task=None):
        """The unified classifier's logits over every class (−inf for classes not trained yet),
        from the features of the first ``n_tasks`` paths."""
        sources = self.feature_sources(n_tasks)
        return self.unified(self.head_inputs(x, sources, overrides, override_task))

    def enable_gate(self, hidden: int) -> None:
        inputs = int(np.prod(self.report.nodes[self.input_id].shape))
        self.router = AutoencoderGate(inputs, hidden).to(self._device())

    def add_gate_expert(self):
        """A new task's autoencoder in the gate, on the network's device."""
        return self.router.add_expert(self._device())

    def enable_task_classifier(self) -> None:
        self.router = FeatureClassifier(self.feature_width, len(self.task_classes)).to(self._device())

    # ------------------------------------------------------------------ progressive laterals

    def add_laterals(self, task: int, width: int | None) -> None:
        """Give column ``task`` lateral inputs from every older column (Rusu et al. 2016), through
        adapters of ``width`` channels (None: the C×C mixes runs were saved with before adapters)."""
        self.lateral_tasks.add(task)
        if task == 0:
            return
        for index, step in enumerate(self.plan):
            if not self._takes_lateral(index):
                continue
            channels = self.report.nodes[step.sources[0]].shape[0]
            adapter = (LateralAdapter(task, channels, width) if width is not None
                       else nn.ModuleList(ChannelMix(channels) for _ in range(task)))
            self.laterals[f"t{task}_s{index}"] = adapter.to(self._device())

    def _takes_lateral(self, index: int) -> bool:
        step = self.plan[index]
        if step.multi or not step.sources or step.sources[0] == self.input_id:
            return False
        return step.node_id == self.head_id or step.node_id in self.trainable_nodes

    def laterals_of(self, task: int) -> list[nn.Module]:
        """Column ``task``'s lateral adapters (progressive networks; none for other strategies)."""
        return [m for key, m in self.laterals.items() if key.startswith(f"t{task}_")]

    def _run_columns(self, x: torch.Tensor, task: int, overrides=None) -> list[torch.Tensor]:
        columns: list[list[torch.Tensor]] = []
        for column in range(task + 1):
            modules = self.modules_for(column, overrides if column == task else None)
            adapters = [self.laterals[f"t{column}_s{i}"] if f"t{column}_s{i}" in self.laterals else None
                        for i in range(len(self.plan))] if column else None
            columns.append(self.run(x, modules, older=columns, adapters=adapters))
        return columns[-1]

    # ------------------------------------------------------------------ accounting and state

    def path_parameters(self, task: int, overrides: dict[str, nn.Module] | None = None) -> list[nn.Parameter]:
        """The trainable (not frozen) parameters along ``task``'s path, adapters included."""
        seen, params = set(), []
        modules = [m for m in self.modules_for(task, overrides) if m is not None]
        if self.shared_head is not None:
            modules.append(self.shared_head)
        for module in [*modules, *self.laterals_of(task)]:
            for p in module.parameters():
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return params

    def parameter_count(self) -> int:
        """Every parameter the network uses now: all bank instances, heads and adapters (per-task
        heads do not count when one shared head answers for every task)."""
        total = sum(p.numel() for p in self.parameters())
        if self.shared_head is not None:
            total -= sum(p.numel() for p in self.instances(self.head_id).parameters())
        return total

    def task_parameter_count(self, task: int) -> int:
        """Parameters one task's inference uses (its path, head and adapters, older columns included)."""
        modules = {id(m): m for m in self.inference_modules(task) if m is not None}
        if task in self.lateral_tasks:
            for column in range(task):
                modules.update({id(m): m for m in self.modules_for(column) if m is not None})
                modules.update({id(m): m for m in self.laterals_of(column)})
            modules.update({id(m): m for m in self.laterals_of(task)})
        return sum(p.numel() for m in modules.values() for p in m.parameters())

    def bank_sizes(self) -> dict[str, int]:
        return {step.node_id: len(self.instances(step.node_id)) for step in self.plan if step.node_id != self.input_id}

    def weights(self) -> dict[str, np.ndarray]:
        """Flat numpy tensors named as the project file expects (``bank/<node>/<i>/<tensor>``)."""
        out: dict[str, np.ndarray] = {}
        for step in self.plan:
            if step.node_id == self.input_id:
                continue
            for index, module in enumerate(self.instances(step.node_id)):
                for name, tensor in module.state_dict().items():
                    out[f"bank/{step.node_id}/{index}/{name}"] = _to_numpy(tensor)
        for name, tensor in self.laterals.state_dict().items():
            out[f"extra/laterals/{name}"] = _to_numpy(tensor)
        if self.shared_head is not None:
            for name, tensor in self.shared_head.state_dict().items():
                out[f"extra/shared_head/{name}"] = _to_numpy(tensor)
        for prefix, module in self.readouts().items():
            for name, tensor in module.state_dict().items():
                out[f"extra/{prefix}/{name}"] = _to_numpy(tensor)
        return out

    def readouts(self) -> dict[str, nn.Module]:
        """The class-incremental readouts the network has, by the name their weights are stored under."""
        found = {"unified": self.unified, "router": self.router}
        return {name: module for name, module in found.items() if module is not None}


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu").contiguous().numpy().copy()

