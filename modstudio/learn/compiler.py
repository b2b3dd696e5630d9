"""Compile a checked graph into a ``torch.nn.Module`` that runs it.

The check is the single source of truth: the compiler builds only graphs it accepts, with the
shapes and effective params (input shape and head width filled from the task) it inferred, so the
network's parameters are exactly the ones the canvas shows. The forward pass is a plain loop over
a plan fixed at compile time, which tracing and ``torch.export`` follow without trouble.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Sequence

import torch
from torch import nn

from modstudio.graph import catalog
from modstudio.graph.catalog import Params
from modstudio.graph.check import CheckReport
from modstudio.learn.builders import build_module

if TYPE_CHECKING:
    from modstudio.graph.model import Graph


class CompileError(ValueError):
    """The graph does not pass the check; ``report`` holds every error, the message lists them."""

    def __init__(self, report: CheckReport) -> None:
        self.report = report
        lines = "\n".join(f"- {error.message}" for error in report.errors)
        super().__init__(f"the graph cannot be compiled ({len(report.errors)} error(s)):\n{lines}")


class Step(NamedTuple):
    """One node of the execution plan: its inputs by node id, in port then edge order."""

    node_id: str
    sources: list[str]
    multi: bool


def module_key(node_id: str) -> str:
    """The ``ModuleDict`` key of a node: a valid, unique attribute name for any id.

    Uuid hex ids become ``"n" + id``; anything else (ids from a hand-edited file) is hex-encoded
    under another prefix, so two ids never share a key.
    """
    key = "n" + node_id
    return key if key.isidentifier() else "x" + node_id.encode().hex()


def effective_params(graph: "Graph", report: CheckReport, node_id: str) -> Params:
    """The node's params with the values the check took from the task (input shape, head width)."""
    node = graph.nodes[node_id]
    params = dict(node.params)
    role = node.spec.role
    if role == "input":
        params["shape"] = list(report.nodes[node_id].shape)
    elif role == "head":
        params["classes"] = report.nodes[node_id].shape[0]
    return params


class GraphNetwork(nn.Module):
    """The user's graph as a network: one module per node, run in a precomputed topological plan."""

    def __init__(self, layers: dict[str, nn.Module], plan: list[Step], report: CheckReport) -> None:
        super().__init__()
        self.layers = nn.ModuleDict({module_key(node_id): module for node_id, module in layers.items()})
        self.plan = plan
        self.report = report
        slot = {step.node_id: index for index, step in enumerate(plan)}
        self._run = [(module_key(s.node_id), [slot[src] for src in s.sources], s.multi) for s in plan]
        self._output = slot[report.head_id]

    def node_module(self, node_id: str) -> nn.Module:
        """The module that computes ``node_id`` (KeyError for an id not in the network)."""
        try:
            return self.layers[module_key(node_id)]
        except KeyError:
            raise KeyError(f"no node with id {node_id} in this network") from None

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs: list[torch.Tensor] = []
        for key, sources, multi in self._run:
            module = self.layers[key]
            if not sources:
                outputs.append(module(x))
            elif multi:
                outputs.append(module([outputs[i] for i in sources]))
            else:
                outputs.append(module(outputs[sources[0]]))
        return outputs[self._output]


def _sources(graph: "Graph", node_id: str, spec: catalog.KindSpec) -> list[str]:
    """Upstream node ids in the order the check collected the input shapes."""
    return [e.src for port in spec.inputs for e in graph.in_edges(node_id) if e.dst_port == port.name]


def compile_graph(
    graph: "Graph", input_shape: Sequence[int] | None = None, classes: int | None = None
) -> GraphNetwork:
    """Check ``graph`` and build its network; CompileError listing the problems if it is not valid."""
    report = graph.check(input_shape=input_shape, classes=classes)
    if not report.ok:
        raise CompileError(report)
    plan = execution_plan(graph, report)
    layers = {step.node_id: build_node(graph, report, step.node_id) for step in plan}
    return GraphNetwork(layers, plan, report)


def execution_plan(graph: "Graph", report: CheckReport) -> list[Step]:
    """The checked graph's nodes in topological order with their sources (a valid report only)."""
    plan = []
    for node_id in report.order:
        spec = graph.nodes[node_id].spec
        plan.append(Step(node_id, _sources(graph, node_id, spec), any(p.multi for p in spec.inputs)))
    return plan


def build_node(graph: "Graph", report: CheckReport, node_id: str, classes: int | None = None) -> nn.Module:
    """A fresh module for one node, with the effective params; ``classes`` overrides a head's width."""
    spec = graph.nodes[node_id].spec
    params = effective_params(graph, report, node_id)
    if classes is not None and spec.role == "head":
        params["classes"] = classes
    return build_module(spec.kind, params, report.nodes[node_id].in_shapes)
