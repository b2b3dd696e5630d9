"""GUI-side buffers of one run: what the plots draw, filled from trainer events or a saved Run.

Plain Python (no Qt, no torch): events append to lists here and bump ``version``; the plots read
the lists on a timer, never per event. A saved run is replayed through the same methods, so a run
looks the same live and after a reload.

The x axis of every curve is the run's progress in tasks: 0 before training, k after task k
(``fraction × n_tasks``), so task boundaries fall on whole numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modstudio.project.run import RunMetrics


@dataclass
class Decision:
    """What one node of the current task's path is: ``grown``, ``reused`` (from ``from_task``) …"""

    kind: str  # "grown", "reused", "shared", "candidate-reuse", "candidate-grow"
    instance: int | None = None
    from_task: int | None = None


@dataclass
class LiveRun:
    n_tasks: int = 0
    task_names: list[str] = field(default_factory=list)
    strategy: str = ""
    run_id: str = ""
    device: str = ""
    status: str = "idle"  # idle, running, finished, stopped, failed
    message: str = ""
    retention: list[tuple[list[float], list[float]]] = field(default_factory=list)  # per task: (xs, ys)
    loss_x: list[float] = field(default_factory=list)  # fine-grained (progress events)
    loss_y: list[float] = field(default_factory=list)
    epoch_loss_x: list[float] = field(default_factory=list)
    epoch_loss_y: list[float] = field(default_factory=list)
    matrix: list[list[float | None]] = field(default_factory=list)
    params: list[int] = field(default_factory=list)  # network size after each task
    task_params: list[int] = field(default_factory=list)
    paths: list[dict[str, int]] = field(default_factory=list)
    decisions: dict[str, Decision] = field(default_factory=dict)  # the current task's, live
    candidates: list[Any] = field(default_factory=list)  # CandidateEvaluated of the current task
    current_task: int = -1
    epoch: int = 0
    epochs: int = 0
    fraction: float = 0.0
    samples_per_s: float | None = None
    eta_s: float | None = None
    phase: str = ""
    metrics: RunMetrics = field(default_factory=RunMetrics)  # the run's, once it ended
    version: int = 0
    _last_acc: list[float] = field(default_factory=list)

    # ------------------------------------------------------------------ building

    @classmethod
    def for_tasks(cls, task_names: list[str], strategy: str = "") -> "LiveRun":
        state = cls(n_tasks=len(task_names), task_names=list(task_names), strategy=strategy)
        state.retention = [([], []) for _ in task_names]
        return state

    @classmethod
    def from_run(cls, run, task_names: list[str]) -> "LiveRun":
        """Replay a saved run's curves and matrix into fresh buffers."""
        n = len(run.acc_matrix[0]) if run.acc_matrix else len(task_names)
        names = list(task_names[:n]) + [f"Task {i + 1}" for i in range(len(task_names), n)]
        state = cls.for_tasks(names, run.strategy)
        state.run_id = run.id  # status, message and metrics: ``finished`` below
        if run.acc_matrix:
            state.before_training(list(run.acc_matrix[0]))
        by_task: dict[int, list[dict]] = {}
        for point in run.curves:
            by_task.setdefault(int(point["task"]), []).append(point)
        trained = max(len(run.acc_matrix) - 1, 0)
        for task in range(max(trained, max(by_task, default=-1) + 1)):
            state.task_started(task)
            for point in by_task.get(task, []):
                state.epoch_ended(task, point["fraction"], point["loss"], point["acc"])
            if task < trained:
                params = run.params_per_task[task] if task < len(run.params_per_task) else None
                path = run.paths[task] if task < len(run.paths) else {}
                state.task_ended(task, run.acc_matrix[task + 1], params, path)
        state.paths = [dict(p) for p in run.paths]
        state.finished(run)
        return state

    # ------------------------------------------------------------------ updates

    def x_of(self, fraction: float) -> float:
        return float(fraction) * self.n_tasks

    def before_training(self, accuracies: list[float]) -> None:
        self._last_acc = list(accuracies)
        self.matrix = [list(accuracies)]
        self.version += 1

    def task_started(self, task: int) -> None:
        """A task's curve begins where its training begins, at the accuracy it had just before."""
        self.current_task, self.decisions, self.candidates = task, {}, []
        if task < len(self.retention) and task < len(self._last_acc):
            xs, ys = self.retention[task]
            xs.append(float(task))
            ys.append(self._last_acc[task])
        self.version += 1

    def epoch_ended(self, task: int, fraction: float, loss: float | None, accuracies: list[float]) -> None:
        x = self.x_of(fraction)
        for j in range(min(task + 1, len(self.retention))):
            xs, ys = self.retention[j]
            xs.append(x)
            ys.append(accuracies[j])
        if loss is not None:
            self.epoch_loss_x.append(x)
            self.epoch_loss_y.append(float(loss))
        self._last_acc = list(accuracies)
        self.fraction = max(self.fraction, float(fraction))
        self.version += 1

    def task_ended(self, task: int, accuracies: list[float], params: int | None, path: dict[str, int]) -> None:
        x = float(task + 1)
        for j in range(min(task + 1, len(self.retention))):
            xs, ys = self.retention[j]
            if not xs or xs[-1] < x - 1e-9:  # no evaluation at the boundary yet (short expansion tasks)
                xs.append(x)
                ys.append(accuracies[j])
        self._last_acc = list(accuracies)
        self.matrix.append(list(accuracies))
        if params is not None:
            self.params.append(int(params))
        while len(self.paths) <= task:
            self.paths.append({})
        self.paths[task] = dict(path)
        self.version += 1

    def finished(self, run) -> None:
        """The run's record, once it ended: its metrics stand for the run from now on."""
        self.status, self.message = run.status, run.message
        self.metrics = run.metrics
        self.task_params = list(run.metrics.task_parameters)
        self.current_task = -1
        self.eta_s = None
        self.version += 1

    def apply(self, event) -> None:
        """One trainer event (``modstudio.learn.events``), by its kind."""
        kind = event.kind
        if kind == "run_started":
            self.run_id, self.strategy, self.device = event.run_id, event.strategy, event.device
            self.status = "running"
        elif kind == "evaluated" and event.task == -1:
            self.before_training(list(event.accuracies))
        elif kind == "task_started":
            self.task_started(event.task)
        elif kind == "progress":
            self.current_task, self.epoch, self.epochs = event.task, event.epoch, event.epochs
            self.fraction = max(self.fraction, float(event.fraction))
            self.samples_per_s, self.eta_s, self.phase = event.samples_per_s, event.eta_s, event.phase
            if event.loss is not None and event.phase == "train":
                self.loss_x.append(self.x_of(event.fraction))
                self.loss_y.append(float(event.loss))
        elif kind == "epoch_ended":
            self.epoch = event.epoch + 1
            self.epoch_ended(event.task, event.fraction, event.train_loss, list(event.accuracies))
        elif kind == "module_added":
            self.decisions[event.node_id] = Decision("grown", event.instance, event.task)
        elif kind == "module_reused":
            self.decisions[event.node_id] = Decision("reused", event.instance, event.from_task)
        elif kind == "candidate_evaluated":
            self.candidates.append(event)
        elif kind == "task_ended":
            self.task_ended(event.task, list(event.accuracies), event.parameters, dict(event.path))
            self.task_params.append(event.task_parameters)
        elif kind == "run_finished":
            self.status, self.message = event.status, event.message
            self.eta_s = None
        self.version += 1

    # ------------------------------------------------------------------ reading

    @property
    def tasks_trained(self) -> int:
        return max(len(self.matrix) - 1, 0)

    def summary(self):
        """ACC, BWT, FWT, forgetting of the rows so far (None before the first task ends)."""
        from modstudio.learn.metrics import summarize  # plain Python, no torch

        if not self.matrix:
            return None
        return summarize(self.matrix)
