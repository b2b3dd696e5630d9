"""One training run as the project keeps it: settings, history, typed metrics, trained weights.

The record is built from the trainer's events by one recorder (``modstudio.learn.recorder``),
whichever way the run was trained (the API, the CLI, the studio's training process), so the
same seeded run gives the same record.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

import numpy as np

from modstudio.graph import Graph

RUN_STATUSES = ("finished", "stopped", "failed", "running")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class RunMetrics:
    """The figures of a run (definitions in ``modstudio.learn.metrics``), over the tasks trained.

    ACC, BWT, FWT, forgetting and AIA are None where undefined (no task trained; BWT with one task).
    ``task_inference`` is, per task, how often the right path was chosen in a class-incremental
    path-per-task run (None in other runs). ``traceback`` explains a failed run to a developer.
    """

    tasks_trained: int = 0
    acc: float | None = None
    bwt: float | None = None
    fwt: float | None = None
    forgetting: float | None = None
    aia: float | None = None  # average incremental accuracy (Rebuffi et al. 2017)
    test_sizes: list[int] = field(default_factory=list)  # samples in each task's test split
    final_accuracies: list[float] = field(default_factory=list)
    seconds_per_task: list[float] = field(default_factory=list)
    task_parameters: list[int] = field(default_factory=list)
    task_inference: list[float] | None = None
    bank_sizes: dict[str, int] = field(default_factory=dict)
    total_parameters: int | None = None
    traceback: str = ""
    distributed: dict[str, Any] | None = None  # world size, backend, replicas identical (torchrun runs)

    FIGURES = ("acc", "bwt", "fwt", "forgetting", "aia")  # the headline figures, in the order tables show them

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def figures(self) -> dict[str, float | None]:
        return {k: getattr(self, k) for k in self.FIGURES}


METRIC_FIELDS = tuple(f.name for f in fields(RunMetrics))


@dataclass(eq=False)
class Run:
    """One training run: its settings, history, metrics and (optionally) the trained module bank.

    ``weights`` keys are ``bank/<node_id>/<instance>/<tensor>`` (the head's instance is the task
    index) and ``extra/<anything>`` for strategy state; see docs/file-format.md.
    """

    id: str = field(default_factory=new_id)
    strategy: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    started: str = field(default_factory=now_iso)
    ended: str | None = None
    status: str = "running"
    message: str = ""
    curves: list[dict[str, Any]] = field(default_factory=list)
    acc_matrix: list[list[float | None]] = field(default_factory=list)
    metrics: RunMetrics = field(default_factory=RunMetrics)
    paths: list[dict[str, int]] = field(default_factory=list)
    params_per_task: list[int] = field(default_factory=list)
    graph: dict[str, Any] | None = None  # the graph this run trained (the project's may change since)
    # the exemplar memory after the last task, for strategies that keep one: {"samples": n,
    # "bytes": b, "items": [[task, index into that task's training split], …]}; None otherwise
    memory: dict[str, Any] | None = None
    weights: dict[str, np.ndarray] | None = None

    def trained_graph(self, fallback: Graph) -> Graph:
        """The graph the run's paths and weights refer to: its own snapshot, else ``fallback``."""
        return Graph.from_dict(self.graph) if self.graph is not None else fallback

    def to_dict(self) -> dict[str, Any]:
        """JSON for project.json: everything but the tensors, which go to weights/<id>.safetensors."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("weights", "metrics")}
        data["metrics"] = self.metrics.to_dict()
        data["weights"] = self.weights is not None
        return data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        return self.to_dict() == other.to_dict() and weights_equal(self.weights, other.weights)


def weights_equal(a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray] | None) -> bool:
    """Bit-identical: same names, dtypes, shapes and bytes (NaNs compare equal)."""
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a
    )
