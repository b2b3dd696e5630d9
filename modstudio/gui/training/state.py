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

from modstudio.data.errors import human_bytes
from modstudio.project import features
from modstudio.project.run import RunMetrics


# How a run reads predictions without the task id (``LiveRun.readout``), as a view names it briefly.
READOUT_LABEL = {"shared": "one shared head", "unified": "unified classifier", "confidence": "task by confidence",
                 "gate": "task by gate", "memory": "task by memory classifier"}
PATH_READOUTS = ("unified", "confidence", "gate", "memory")  # a path per task: the task is inferred


def memory_text(samples: int, nbytes: int) -> str:
    """An exemplar memory as the studio writes it: "200 samples (51.6 KiB)"."""
    return f"{samples:,} sample{'s' * (samples != 1)} ({human_bytes(nbytes)})"


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
    scenario: str = ""
    strategy_params: dict[str, Any] = field(default_factory=dict)  # as the settings store them (no defaults)
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
    test_sizes: list[int] = field(default_factory=list)  # samples in each task's test split (AIA's weights)
    task_inference: list[float] | None = None  # class scenario, path strategies: right-task rate per task
    memory: dict[str, Any] | None = None  # the exemplar memory's samples and bytes, for strategies with one
    metrics: RunMetrics = field(default_factory=RunMetrics)  # the run's, once it ended
    version: int = 0
    _last_acc: list[float] = field(default_factory=list)

    # ------------------------------------------------------------------ building

    @classmethod
    def for_tasks(cls, task_names: list[str], strategy: str = "", settings: dict[str, Any] | None = None) -> "LiveRun":
        """Empty buffers for a run of ``strategy`` over these tasks; ``settings`` as ``TrainingSettings.to_dict``."""
        settings = settings or {}
        state = cls(n_tasks=len(task_names), task_names=list(task_names), strategy=strategy,
                    scenario=str(settings.get("scenario", "")),
                    strategy_params=dict(settings.get("strategy_params") or {}))
        state.retention = [([], []) for _ in task_names]
        return state

    @classmethod
    def from_run(cls, run, task_names: list[str]) -> "LiveRun":
        """Replay a saved run's curves and matrix into fresh buffers."""
        n = len(run.acc_matrix[0]) if run.acc_matrix else len(task_names)
        names = list(task_names[:n]) + [f"Task {i + 1}" for i in range(len(task_names), n)]
        state = cls.for_tasks(names, run.strategy, run.settings)
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
        """``accuracies`` empty: the epoch was not evaluated (``evaluate = "task"``); retention then
        gets its points where tasks end, and the loss its point here."""
        x = self.x_of(fraction)
        for j in range(min(task + 1, len(self.retention)) if accuracies else 0):
            xs, ys = self.retention[j]
            xs.append(x)
            ys.append(accuracies[j])
        if loss is not None:
            self.epoch_loss_x.append(x)
            self.epoch_loss_y.append(float(loss))
        if accuracies:
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
        self.test_sizes = list(run.metrics.test_sizes)
        self.task_inference = list(run.metrics.task_inference) if run.metrics.task_inference is not None else None
        self.memory = {k: run.memory[k] for k in ("samples", "bytes")} if run.memory else None
        self.task_params = list(run.metrics.task_parameters)
        self.current_task = -1
        self.eta_s = None
        self.version += 1

    def apply(self, event) -> None:
        """One trainer event (``modstudio.learn.events``), by its kind."""
        kind = event.kind
        if kind == "run_started":
            self.run_id, self.strategy, self.device = event.run_id, event.strategy, event.device
            self.test_sizes = list(event.test_sizes)
            if event.settings:
                self.scenario = str(event.settings.get("scenario", self.scenario))
                self.strategy_params = dict(event.settings.get("strategy_params") or {})
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
            if event.task_inference is not None:
                self.task_inference = list(event.task_inference)
        elif kind == "memory_updated":
            self.memory = {"samples": event.samples, "bytes": event.nbytes}
        elif kind == "run_finished":
            self.status, self.message = event.status, event.message
            self.eta_s = None
        self.version += 1

    # ------------------------------------------------------------------ reading

    @property
    def tasks_trained(self) -> int:
        return max(len(self.matrix) - 1, 0)

    @property
    def readout(self) -> str | None:
        """How the run reads a prediction without the task id (``features.task_inference``): None
        when the task is given, "shared", "unified", "confidence", "gate" or "memory"."""
        return features.task_inference(self.strategy, self.scenario, self.strategy_params)

    def summary(self):
        """ACC, BWT, FWT, forgetting and AIA of the rows so far (None before the first row); AIA
        weighted by the tasks' test sizes, as the run's record is."""
        from modstudio.learn.metrics import summarize  # plain Python, no torch

        if not self.matrix:
            return None
        return summarize(self.matrix, self.test_sizes)
