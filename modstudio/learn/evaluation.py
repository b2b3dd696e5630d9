"""How a finished run answers: per task a confusion matrix, per-class accuracy and the test samples
it gets most confidently wrong; for class-incremental runs the whole problem too (every class, no
task id, and which task was inferred); and predictions for samples read from a file.

The run's network is rebuilt by ``restore_network`` and read the way the trainer reads it
(``Trainer._predict``): the task's own head when the task is given; without it, the shared head,
DER's unified classifier, the learned task router (gate or task classifier) or the most confident
head (see docs/architecture.md, "Class-incremental prediction"). So each task's accuracy here is
the run's final-row accuracy for that task, which ``tests/learn/test_evaluation.py`` holds.

Results are plain dataclasses of numbers, names and lists (``to_dict`` gives JSON), so the CLI, the
studio and tests read them without torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from modstudio.data import union_classes
from modstudio.learn.chunks import float_chunks
from modstudio.learn.network import ModularNetwork
from modstudio.learn.readouts import AutoencoderGate, FeatureClassifier
from modstudio.project.features import task_inference

CONFIDENT_WRONG = 8  # the most confidently wrong samples kept per view


class EvaluationError(ValueError):
    """The run cannot be evaluated (no such run or task, no weights, tasks that are not the run's)."""


@dataclass
class WrongSample:
    """A test sample predicted wrong: where it is, what it is, what the run said and how sure it was."""

    task: int  # the task whose test split holds it
    index: int  # its index in that split
    true: int  # row of the view's confusion matrix
    predicted: int  # column of the view's confusion matrix
    confidence: float  # the probability the run gave its (wrong) answer


@dataclass
class Evaluation:
    """One view: a task's test split, or (``task`` None) every trained task's, without the task id.

    ``confusion[i][j]`` counts samples of class ``true_names[i]`` predicted as ``predicted_names[j]``.
    With the task given both are the task's own classes; without it the columns are every class of
    the problem. ``true_columns[i]`` is the column of row i's own class (the diagonal's cells)."""

    title: str
    task: int | None
    task_given: bool
    true_names: list[str]
    predicted_names: list[str]
    true_columns: list[int]
    confusion: list[list[int]]
    confident_wrong: list[WrongSample] = field(default_factory=list)
    # without the task id: samples per (true task, inferred task) and per task how often it was named
    task_confusion: list[list[int]] | None = None
    task_names: list[str] | None = None

    @property
    def samples(self) -> int:
        return int(sum(map(sum, self.confusion)))

    @property
    def correct(self) -> int:
        return int(sum(row[c] for row, c in zip(self.confusion, self.true_columns)))

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.samples, 1)

    @property
    def per_class_accuracy(self) -> list[float | None]:
        """Recall of each true class (None for a class without test samples)."""
        return [row[c] / sum(row) if sum(row) else None for row, c in zip(self.confusion, self.true_columns)]

    @property
    def task_inferred(self) -> list[float | None] | None:
        """Per true task, the share of its samples whose task was inferred right."""
        if self.task_confusion is None:
            return None
        return [row[i] / sum(row) if sum(row) else None for i, row in enumerate(self.task_confusion)]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(samples=self.samples, correct=self.correct, accuracy=self.accuracy,
                    per_class_accuracy=self.per_class_accuracy, task_inferred=self.task_inferred)
        return data


@dataclass
class RunEvaluation:
    """Every trained task's view, and the whole class-incremental problem's (else None)."""

    run_id: str
    strategy: str
    scenario: str
    readout: str | None  # features.task_inference: how the run reads a prediction without the task id
    sample_shape: list[int]
    tasks: list[Evaluation]
    all_classes: Evaluation | None

    def views(self) -> list[Evaluation]:
        return [*self.tasks, *([self.all_classes] if self.all_classes is not None else [])]

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "strategy": self.strategy, "scenario": self.scenario,
                "readout": self.readout, "sample_shape": self.sample_shape,
                "tasks": [v.to_dict() for v in self.tasks],
                "all_classes": self.all_classes.to_dict() if self.all_classes is not None else None}


@dataclass
class HeadPrediction:
    """One task head's answer for one sample (the task given)."""

    task: int
    task_name: str
    class_names: list[str]
    probabilities: list[float]
    predicted: int

    @property
    def predicted_name(self) -> str:
        return self.class_names[self.predicted]


@dataclass
class ProblemPrediction:
    """The answer without the task id (class-incremental runs): a class of the whole problem."""

    class_names: list[str]  # every class of the problem
    probabilities: list[float]  # over them, as the run's readout gives them
    predicted: int
    inferred_task: int
    inferred_task_name: str

    @property
    def predicted_name(self) -> str:
        return self.class_names[self.predicted]


@dataclass
class SamplePrediction:
    heads: list[HeadPrediction]
    problem: ProblemPrediction | None


@dataclass
class Prediction:
    """What a run says about the samples of one file."""

    run_id: str
    file: str
    file_shape: list[int]  # the array as read from the file (an image: as converted)
    sample_shape: list[int]  # the tasks' sample shape the samples were fitted to
    readout: str | None
    samples: list[SamplePrediction]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for sample, raw in zip(self.samples, data["samples"]):
            for head, out in zip(sample.heads, raw["heads"]):
                out["predicted_name"] = head.predicted_name
            if sample.problem is not None:
                raw["problem"]["predicted_name"] = sample.problem.predicted_name
        return data


# ---------------------------------------------------------------------- choosing the run and task


def find_run(project, run: int | str | None):
    """The run asked for (an id, a unique start of one, an index), or the last with weights; it
    must have weights and have trained tasks of this project."""
    from modstudio.learn.export import ExportError
    from modstudio.learn.export import _run as chosen_run  # one rule for "which run", export's

    try:
        found = chosen_run(project, run)
    except ExportError as exc:
        raise EvaluationError(str(exc)) from None
    if not found.weights:
        why = f"failed: {found.message}" if found.status == "failed" else "was saved without weights"
        raise EvaluationError(f"run {found.id[:8]} has no trained weights to evaluate (it {why})")
    if not found.paths:
        raise EvaluationError(f"run {found.id[:8]} trained no task, so there is no model to evaluate")
    if len(found.paths) > len(project.tasks):
        raise EvaluationError(f"run {found.id[:8]} trained {len(found.paths)} tasks but project {project.name!r} "
                              f"has {len(project.tasks)}: the run does not belong to these tasks")
    return found


def find_task(project, run, task: int | str | None) -> int | None:
    """A trained task's index from an index or a name (None stays None)."""
    from modstudio.learn.export import ExportError
    from modstudio.learn.export import _task as chosen_task

    try:
        return chosen_task(project, run, task)
    except ExportError as exc:
        raise EvaluationError(str(exc)) from None


def restored(project, run) -> ModularNetwork:
    """The run's network, its problems as an EvaluationError."""
    from modstudio.graph import GraphError
    from modstudio.learn.network import NetworkError
    from modstudio.learn.restore import RestoreError, restore_network

    try:
        return restore_network(project, run)
    except (RestoreError, NetworkError, GraphError) as exc:
        raise EvaluationError(f"cannot rebuild run {run.id[:8]}: {exc}") from None


# ---------------------------------------------------------------------- reading the network


class Reader:
    """The trained network read as the trainer reads it, for every task it trained."""

    def __init__(self, project, run, net: ModularNetwork) -> None:
        self.net = net
        self.tasks = list(project.tasks)
        self.known = len(run.paths)
        self.scenario = run.settings.get("scenario", "task")
        self.class_incremental = self.scenario == "class"
        strategy = run.settings.get("strategy", run.strategy)
        self.readout = task_inference(strategy, self.scenario, run.settings.get("strategy_params"))
        self.union = union_classes(self.tasks)
        index = {c: i for i, c in enumerate(self.union)}
        self.union_labels = [torch.tensor([index[c] for c in t.classes], dtype=torch.long) for t in self.tasks]
        self.class_task = torch.zeros(len(self.union), dtype=torch.long)
        for t in reversed(range(len(self.tasks))):  # a class in several tasks names the first (as the trainer)
            self.class_task[self.union_labels[t]] = t
        names: dict[int, str] = {}
        for t in self.tasks:
            for c, name in zip(t.classes, t.class_names):
                names.setdefault(c, name)
        self.union_names = [names[c] for c in self.union]
        self.device = next(net.parameters()).device

    def _batches(self, x):
        """Features of ``x`` (an array, or a split mapped from its bytes a chunk at a time) on the device."""
        return float_chunks(x, self.device)

    @torch.no_grad()
    def head(self, x: np.ndarray, task: int) -> np.ndarray:
        """Probabilities over ``task``'s own classes, the task given (a shared head: its classes' logits)."""
        out = []
        for xb in self._batches(x):
            logits = self.net.features_and_logits(xb, task).cpu()
            if self.net.shared_head is not None:
                logits = logits[:, self.union_labels[task]]
            out.append(logits.softmax(1))
        return torch.cat(out).numpy()

    @torch.no_grad()
    def problem(self, x: np.ndarray, path_task: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Without the task id: (probabilities over every class, predicted class, inferred task)
        per sample. ``path_task``: the path a shared head runs on (the trainer's: the evaluated
        task's; for a sample from elsewhere, the last trained)."""
        probs, predicted, inferred = [], [], []
        path = self.known - 1 if path_task is None else min(path_task, self.known - 1)
        for xb in self._batches(x):
            p, c, t = self._problem_batch(xb, path)
            probs.append(p.cpu())
            predicted.append(c.cpu())
            inferred.append(t.cpu())
        return torch.cat(probs).numpy(), torch.cat(predicted).numpy(), torch.cat(inferred).numpy()

    def _problem_batch(self, x: torch.Tensor, path: int):
        net, known = self.net, self.known
        if net.unified is not None:  # DER's classifier over every path's features (iCaRL's class means)
            probs = net.unified_logits(x, known).cpu().softmax(1)
            predicted = probs.argmax(1)
            return probs, predicted, self.class_task[predicted]
        if net.shared_head is not None:  # one path, one head over every class
            probs = net.features_and_logits(x, path).cpu().softmax(1)
            predicted = probs.argmax(1)
            return probs, predicted, self.class_task[predicted]
        chosen = self._route(x)
        heads = [net.features_and_logits(x, t).cpu().softmax(1) for t in range(known)]
        if chosen is None:  # the most confident head names the task (ties: the earlier task)
            best = torch.stack([h.max(1).values for h in heads], dim=1)
            chosen = torch.zeros(len(x), dtype=torch.long)
            top = best[:, 0].clone()
            for t in range(1, known):
                better = best[:, t] > top
                chosen = torch.where(better, torch.full_like(chosen, t), chosen)
                top = torch.where(better, best[:, t], top)
        chosen = chosen.cpu()
        probs = torch.zeros(len(x), len(self.union))
        predicted = torch.zeros(len(x), dtype=torch.long)
        for t in range(known):
            mask = chosen == t
            if bool(mask.any()):
                rows = probs[mask]
                rows[:, self.union_labels[t]] = heads[t][mask]
                probs[mask] = rows
                predicted[mask] = self.union_labels[t][heads[t][mask].argmax(1)]
        return probs, predicted, chosen

    def _route(self, x: torch.Tensor) -> torch.Tensor | None:
        """The task a learned router names for each sample (as ``Trainer._route``), or None."""
        router, known = self.net.router, self.known
        if isinstance(router, AutoencoderGate):
            experts = min(known, len(router.experts))
            return router.route(x, experts) if experts else None
        if isinstance(router, FeatureClassifier):
            sources = self.net.feature_sources(known)[:len(router.blocks)]
            if not sources or not bool(router.active.any()):
                return None
            return router(self.net.head_inputs(x, sources)).argmax(1)
        return None


# ---------------------------------------------------------------------- evaluation


def evaluate_run(project, run, *, k: int = CONFIDENT_WRONG, net: ModularNetwork | None = None) -> RunEvaluation:
    """Every trained task's test split through the run's network, as the run measured it: with the
    task id in the task scenario, without it in the class scenario (plus the whole problem)."""
    reader = Reader(project, run, net if net is not None else restored(project, run))
    tasks = reader.tasks
    views = []
    if not reader.class_incremental:
        for t in range(reader.known):
            task = tasks[t]
            probs = reader.head(task.test, t)  # mapped to features a chunk at a time
            y = np.asarray(task.test.y, dtype=np.int64)
            names = list(task.class_names)
            views.append(_view(f"T{t + 1} {task.name}", t, True, names, names, list(range(len(names))),
                               y, probs.argmax(1), probs.max(1), np.full(len(y), t), np.arange(len(y)), k))
        all_classes = None
    else:
        parts = []
        trained_names = [t.name for t in tasks[:reader.known]]
        for t in range(reader.known):
            task = tasks[t]
            probs, predicted, inferred = reader.problem(task.test, path_task=t)
            local = np.asarray(task.test.y, dtype=np.int64)
            parts.append((t, local, predicted, probs.max(1), inferred))
            columns = reader.union_labels[t].tolist()
            views.append(_view(f"T{t + 1} {task.name}", t, False, list(task.class_names), reader.union_names,
                               columns, local, predicted, probs.max(1), np.full(len(local), t),
                               np.arange(len(local)), k, inferred, trained_names))
        trained = sorted({c for t in range(reader.known) for c in reader.union_labels[t].tolist()})
        row_of = {c: i for i, c in enumerate(trained)}
        true = np.concatenate([np.asarray([row_of[c] for c in reader.union_labels[t].numpy()[local]],
                                          dtype=np.int64) for t, local, *_ in parts])
        all_classes = _view("All classes (no task id)", None, False, [reader.union_names[c] for c in trained],
                            reader.union_names, trained, true, np.concatenate([p[2] for p in parts]),
                            np.concatenate([p[3] for p in parts]),
                            np.concatenate([np.full(len(p[1]), p[0]) for p in parts]),
                            np.concatenate([np.arange(len(p[1])) for p in parts]), k,
                            np.concatenate([p[4] for p in parts]), trained_names)
    return RunEvaluation(run.id, run.strategy, reader.scenario, reader.readout, list(tasks[0].sample_shape),
                         views, all_classes)


def _view(title, task, task_given, true_names, predicted_names, true_columns, true, predicted, confidence,
          sample_task, sample_index, k, inferred=None, task_names=None) -> Evaluation:
    """Count the (row, column) pairs and pick the ``k`` wrong samples with the highest confidence."""
    rows, cols = len(true_names), len(predicted_names)
    confusion = np.zeros((rows, cols), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    right = np.asarray(true_columns, dtype=np.int64)[true] == predicted
    wrong = np.flatnonzero(~right)
    order = wrong[np.argsort(-np.asarray(confidence)[wrong], kind="stable")][:k]
    worst = [WrongSample(int(sample_task[i]), int(sample_index[i]), int(true[i]), int(predicted[i]),
                         float(confidence[i])) for i in order]
    task_confusion = None
    if inferred is not None:
        known = len(task_names)
        counts = np.zeros((known, known), dtype=np.int64)
        np.add.at(counts, (np.asarray(sample_task, dtype=np.int64), np.asarray(inferred, dtype=np.int64)), 1)
        task_confusion = counts.tolist()
    return Evaluation(title, task, task_given, list(true_names), list(predicted_names), list(true_columns),
                      confusion.tolist(), worst, task_confusion, list(task_names) if inferred is not None else None)


# ---------------------------------------------------------------------- prediction


def predict_samples(project, run, x: np.ndarray, *, task: int | None = None, net: ModularNetwork | None = None,
                    file: str = "", file_shape: Sequence[int] | None = None) -> Prediction:
    """Every trained head's answer for each sample of ``x`` (N × sample shape), or only ``task``'s;
    in class-incremental runs the answer without the task id too."""
    reader = Reader(project, run, net if net is not None else restored(project, run))
    heads = range(reader.known) if task is None else [task]
    per_head = {t: reader.head(x, t) for t in heads}
    problem = reader.problem(x) if reader.class_incremental else None
    samples = []
    for i in range(len(x)):
        answers = [HeadPrediction(t, reader.tasks[t].name, list(reader.tasks[t].class_names),
                                  [float(p) for p in per_head[t][i]], int(per_head[t][i].argmax())) for t in heads]
        whole = None
        if problem is not None:
            probs, predicted, inferred = problem
            whole = ProblemPrediction(reader.union_names, [float(p) for p in probs[i]], int(predicted[i]),
                                      int(inferred[i]), reader.tasks[int(inferred[i])].name)
        samples.append(SamplePrediction(answers, whole))
    shape = list(x.shape) if file_shape is None else list(file_shape)
    return Prediction(run.id, file, shape, list(reader.tasks[0].sample_shape), reader.readout, samples)


def predict_file(project, run, path: str | Path, *, task: int | None = None,
                 net: ModularNetwork | None = None) -> Prediction:
    """``predict_samples`` for the samples of a file (an image, a CSV, an NPY or NPZ array), fitted
    to the tasks' sample shape (``data.importers.samples``)."""
    from modstudio.data.errors import DataError
    from modstudio.data.importers.samples import read_samples

    try:
        x, raw_shape = read_samples(path, project.tasks[0].sample_shape, project.tasks[0].values)
    except DataError as exc:
        raise EvaluationError(str(exc)) from None
    return predict_samples(project, run, x, task=task, net=net, file=str(path), file_shape=raw_shape)
