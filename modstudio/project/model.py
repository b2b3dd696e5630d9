"""The Project of the public API and the records it keeps: settings and run history.

Plain dataclasses with no file logic (see ``saving``/``loading``), so the GUI and the trainer
can build and edit them freely; equality is defined so a saved and reloaded project compares
equal, weights included bit for bit.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from modstudio.graph import Graph

RUN_STATUSES = ("finished", "stopped", "failed", "running")
EMBED_MODES = ("auto", "always", "never")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class TrainingSettings:
    """What the next training run will use; the learn layer interprets the strings."""

    strategy: str = "expansion"
    epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    scenario: str = "task"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    embed_data: str = "auto"  # "auto" (when small), "always", "never" (when rebuildable)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    metrics: dict[str, Any] = field(default_factory=dict)
    paths: list[dict[str, int]] = field(default_factory=list)
    params_per_task: list[int] = field(default_factory=list)
    graph: dict[str, Any] | None = None  # the graph this run trained (the project's may change since)
    weights: dict[str, np.ndarray] | None = None

    def trained_graph(self, fallback: Graph) -> Graph:
        """The graph the run's paths and weights refer to: its own snapshot, else ``fallback``."""
        return Graph.from_dict(self.graph) if self.graph is not None else fallback

    def to_dict(self) -> dict[str, Any]:
        """JSON for project.json: everything but the tensors, which go to weights/<id>.safetensors."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "weights"}
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


@dataclass(eq=False)
class Project:
    """Everything a user saves: graph, tasks, training settings and run history."""

    name: str
    graph: Graph = field(default_factory=Graph)
    tasks: list[Any] = field(default_factory=list)  # modstudio.data.Task
    settings: TrainingSettings = field(default_factory=TrainingSettings)
    runs: list[Run] = field(default_factory=list)
    id: str = field(default_factory=new_id)  # names the recovery copy; stays across saves
    warnings: list[str] = field(default_factory=list)  # from the last load; not saved

    @classmethod
    def new(cls, name: str) -> "Project":
        return cls(name=name)

    def save(self, path: str | Path, *, backup: bool = True) -> Path:
        """Write atomically to ``path`` (keeping the previous file as ``path~``); returns the path."""
        from modstudio.project.saving import save_project

        return save_project(self, path, backup=backup)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Project):
            return NotImplemented
        return (
            self.name == other.name
            and self.id == other.id
            and self.graph.to_dict() == other.graph.to_dict()
            and [_task_key(t) for t in self.tasks] == [_task_key(t) for t in other.tasks]
            and self.settings == other.settings
            and self.runs == other.runs
        )


def _task_key(task: Any) -> tuple:
    return (task.fingerprint, task.to_dict())
