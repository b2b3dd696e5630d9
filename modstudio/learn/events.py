"""Plain event objects the trainer emits; the GUI bridges them to Qt signals, the CLI to a progress bar.

Events are cheap and few: progress is rate-limited by the trainer, not one per batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


def snake_case(name: str) -> str:
    """``EpochEnded`` → ``epoch_ended``."""
    return "".join(f"_{ch.lower()}" if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))


@dataclass(frozen=True)
class Event:
    @property
    def kind(self) -> str:
        """snake_case of the class name (``EpochEnded`` → ``epoch_ended``), for logs and JSON."""
        return snake_case(type(self).__name__)

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (``kind`` plus its fields), to cross a process boundary."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class RunStarted(Event):
    run_id: str
    strategy: str
    n_tasks: int
    device: str
    settings: dict[str, Any] = field(default_factory=dict)
    started: str = ""  # ISO time, as the run record keeps it
    test_sizes: list[int] = field(default_factory=list)  # samples in each task's test split


@dataclass(frozen=True)
class Evaluated(Event):
    """Test accuracy of every task at one point of the run (``task`` = -1: before training)."""

    task: int
    epoch: int
    accuracies: list[float]


@dataclass(frozen=True)
class TaskStarted(Event):
    task: int
    name: str
    n_train: int


@dataclass(frozen=True)
class Progress(Event):
    task: int
    epoch: int
    epochs: int
    fraction: float  # of the whole run, 0..1
    samples_per_s: float
    eta_s: float | None
    loss: float | None
    phase: str = "train"  # "train", "search" (expansion candidates)


@dataclass(frozen=True)
class EpochEnded(Event):
    """One epoch of a task's training: its mean loss, the learning rate it trained at, and every
    task's test accuracy after it — empty when the run evaluates only after each task
    (``evaluate = "task"``)."""

    task: int
    epoch: int
    train_loss: float
    accuracies: list[float]
    fraction: float
    lr: float | None = None

    def curve_point(self) -> dict[str, Any]:
        """This epoch as a point of ``Run.curves`` (the trainer's record, and one rebuilt from events)."""
        return {"task": self.task, "epoch": self.epoch, "fraction": self.fraction, "loss": self.train_loss,
                "acc": list(self.accuracies), "lr": self.lr}


@dataclass(frozen=True)
class EarlyStopping(Event):
    """The end of a task's training phase under early stopping: ``epochs`` trained of ``planned``
    (fewer when ``patience`` epochs went by without a better validation accuracy); the task keeps
    the weights of ``best_epoch`` (0-based), whose validation accuracy was ``val_accuracy``."""

    task: int
    epochs: int
    planned: int
    best_epoch: int
    val_accuracy: float
    patience: int

    @property
    def stopped(self) -> bool:
        return self.epochs < self.planned

    def describe(self) -> str:
        """One line for the run's log (the CLI and the studio say the same)."""
        kept = f"keeps epoch {self.best_epoch + 1}'s weights (validation accuracy {self.val_accuracy * 100:.1f} %)"
        if self.stopped:
            return (f"task {self.task + 1}: early stopping after {self.epochs} of {self.planned} epochs "
                    f"(no better validation accuracy for {self.patience}); {kept}")
        return f"task {self.task + 1}: trained all {self.epochs} epochs; {kept}"


@dataclass(frozen=True)
class EarlyStoppingSkipped(Event):
    """Early stopping was asked for but cannot judge ``task`` (``reason``): it trains every epoch."""

    task: int
    reason: str

    def describe(self) -> str:
        return f"task {self.task + 1}: no early stopping, {self.reason}; it trains every epoch"


@dataclass(frozen=True)
class ModuleAdded(Event):
    task: int
    node_id: str
    instance: int


@dataclass(frozen=True)
class ModuleReused(Event):
    task: int
    node_id: str
    instance: int
    from_task: int


@dataclass(frozen=True)
class CandidateEvaluated(Event):
    """Expansion: one reuse-or-grow candidate after its short training."""

    task: int
    reused: int  # number of trainable nodes reused (the first ones for prefix, the last for suffix)
    val_accuracy: float
    new_parameters: int
    source_task: int
    reuse: str = "prefix"  # "prefix": reuse the first nodes, grow the rest; "suffix": grow the first
    init: str = "copy"  # how the grown modules started: "copy" of the source's, or "fresh" (initialised anew)


@dataclass(frozen=True)
class TaskEnded(Event):
    task: int
    accuracies: list[float]
    parameters: int  # the whole network's, after this task
    seconds: float
    path: dict[str, int] = field(default_factory=dict)
    task_parameters: int = 0  # what this task's inference uses
    task_inference: list[float] | None = None  # class-incremental path runs: right-path rate per task so far


@dataclass(frozen=True)
class ValidationCarved(Event):
    """A task without a validation split got one, carved from its training data, because the
    strategy selects on validation (a choice on a score of nothing would be no choice)."""

    task: int
    n_val: int
    n_train: int  # training samples left

    def describe(self) -> str:
        return (f"task {self.task + 1} has no validation split: {self.n_val} of its training samples "
                f"(stratified, seeded) validate, {self.n_train} train")


@dataclass(frozen=True)
class MemoryUpdated(Event):
    """A strategy's exemplar memory after ``task``'s update (``modstudio.learn.memory``): its
    items ([task, index into that task's training split]), and its size in samples and bytes."""

    task: int
    items: list[list[int]]
    samples: int
    nbytes: int


@dataclass(frozen=True)
class RunFinished(Event):
    """The run's end and what only the trainer knows of it; the figures follow from the events
    before (``modstudio.learn.recorder``)."""

    status: str  # "finished", "stopped", "failed"
    message: str = ""
    details: str = ""  # a failed run's traceback
    bank_sizes: dict[str, int] = field(default_factory=dict)
    total_parameters: int | None = None
    ended: str = ""


def event_from_json(data: dict[str, Any]) -> Event:
    """The event ``Event.to_json`` wrote; ValueError for an unknown kind or missing fields."""
    kinds = {snake_case(cls.__name__): cls for cls in Event.__subclasses__()}
    cls = kinds.get(data.get("kind"))
    if cls is None:
        raise ValueError(f"unknown event kind {data.get('kind')!r}")
    try:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})
    except TypeError as exc:
        raise ValueError(f"malformed {cls.__name__} event: {exc}") from None
