"""The training settings: what the next run will use, each setting declared once.

``SETTING_SPECS`` is the one declaration of every setting (type, default, range or choices, a
title and a doc line, with the catalog's ``ParamSpec``): the file format validates against it,
``ms.train`` checks its keyword arguments with it, and the studio's settings form and the CLI's
options are built from it. The strategy's own parameters are declared by the strategy specs
(``modstudio.learn.strategy_specs``); here they are a plain JSON object.

Settings are an immutable value: a change is a new ``TrainingSettings`` given to the project
(``project.settings = …`` or ``project.configure(...)``), which tells its views.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from modstudio.graph.catalog import ParamSpec, ParamTypeError

EMBED_MODES = ("auto", "always", "never")
OPTIMIZER_NAMES = ("adam", "adamw", "sgd")  # the learn layer maps each to its torch optimiser
SCENARIOS = ("task", "class")
EVALUATE_WHEN = ("epoch", "task")
LR_SCHEDULES = ("constant", "step", "cosine")  # the learn layer maps each to a torch.optim.lr_scheduler
SEED_MAX = 2**63 - 1  # what torch.manual_seed takes


class SettingsError(ValueError):
    """A training setting of the wrong type or out of range; the message names the setting."""


SETTING_SPECS: dict[str, ParamSpec] = {s.name: s for s in (
    ParamSpec("strategy", "str", "expansion", "how the network learns task after task (see the strategies)",
              title="Strategy"),
    ParamSpec("epochs", "int", 5, "passes over each task's training data", min=1, max=1_000_000,
              title="Epochs per task"),
    ParamSpec("batch_size", "int", 64, "samples per optimiser step", min=1, max=1 << 24, title="Batch size"),
    ParamSpec("lr", "float", 1e-3, "the optimiser's learning rate", min=1e-12, max=1e6, title="Learning rate"),
    ParamSpec("optimizer", "choice", "adam", "the optimiser", choices=OPTIMIZER_NAMES, title="Optimizer"),
    ParamSpec("weight_decay", "float", 0.0, "L2 penalty (decoupled for AdamW)", min=0.0, max=1e6,
              title="Weight decay"),
    ParamSpec("seed", "int", 0, "seeds weights, shuffling and strategies: the same seed repeats a run exactly",
              min=0, max=SEED_MAX, title="Seed"),
    ParamSpec("device", "str", "auto", "auto (a GPU if present), cpu, cuda, cuda:N or mps", title="Device"),
    ParamSpec("scenario", "choice", "task", "task-incremental (the task id is given at test time) or "
              "class-incremental (it is inferred)", choices=SCENARIOS, title="Scenario"),
    ParamSpec("lr_schedule", "choice", "constant", "the learning rate over each task's training, restarting with "
              "every task: constant; step (times lr_step_factor every lr_step_epochs epochs); cosine (annealed "
              "to 0 over the task's epochs)", choices=LR_SCHEDULES, title="LR schedule"),
    ParamSpec("lr_step_epochs", "int", 2, "the step schedule: epochs between two decays of the learning rate",
              min=1, max=1_000_000, title="LR step every"),
    ParamSpec("lr_step_factor", "float", 0.1, "the step schedule: what each decay multiplies the learning rate by",
              min=1e-3, max=1.0, title="LR step factor"),
    ParamSpec("early_stopping_patience", "int", 0, "stop a task's training after this many epochs without a better "
              "validation accuracy, keeping its best epoch's weights (0: off; a task without validation "
              "data trains every epoch, and the run says so)", min=0, max=1_000_000, title="Early stopping"),
    ParamSpec("reset_optimizer", "bool", True, "a fresh optimiser for every task (on), or one whose state "
              "(Adam's moments, step counts) carries over for the parameters trained again (off)",
              title="Reset optimiser"),
    ParamSpec("evaluate", "choice", "epoch", "when every task's test split is scored: after every epoch (live "
              "curves) or only after each task (faster; the accuracy matrix is the same)",
              choices=EVALUATE_WHEN, title="Evaluate after"),
    ParamSpec("embed_data", "choice", "auto", "keep task data inside the project file: auto (when small), "
              "always, or never (when it can be rebuilt)", choices=EMBED_MODES, title="Embed data"),
)}


@dataclass(frozen=True)
class TrainingSettings:
    """What the next training run will use; the learn layer interprets the strategy's strings."""

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
    lr_schedule: str = "constant"  # per task: "constant", "step", "cosine"
    lr_step_epochs: int = 2
    lr_step_factor: float = 0.1
    early_stopping_patience: int = 0  # epochs without a better validation accuracy; 0: off
    reset_optimizer: bool = True  # False: optimiser state carries across tasks (Avalanche's default)
    evaluate: str = "epoch"  # "epoch" (live curves) or "task" (the accuracy matrix only)
    embed_data: str = "auto"  # "auto" (when small), "always", "never" (when rebuildable)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "TrainingSettings":
        """A copy with ``changes``, each checked and normalised (``np.float32`` → float, …)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise SettingsError(f"unknown training setting {unknown[0]!r}; known: "
                                f"{', '.join(f.name for f in dataclasses.fields(self))}")
        return dataclasses.replace(self, **{k: check_setting(k, v) for k, v in changes.items()})


assert set(SETTING_SPECS) | {"strategy_params"} == {f.name for f in dataclasses.fields(TrainingSettings)}
assert all(getattr(TrainingSettings(), k) == s.default for k, s in SETTING_SPECS.items())


def check_setting(name: str, value: Any) -> Any:
    """``value`` in the setting's canonical type, or SettingsError naming the setting and why."""
    if name == "strategy_params":
        return _strategy_params(value)
    spec = SETTING_SPECS[name]
    value = _plain(value)
    try:
        value = spec.coerce(value)
    except ParamTypeError as exc:
        raise SettingsError(str(exc)) from None
    problem = spec.range_error(value)
    if problem:
        raise SettingsError(problem)
    if spec.type == "str" and not value.strip():
        raise SettingsError(f"{name} cannot be empty")
    return value


def _strategy_params(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SettingsError(f"strategy_params must be an object of name → value, not {value!r}")
    return {k: _plain(v) for k, v in value.items()}


def _plain(value: Any) -> Any:
    """numpy scalars (``np.float32(3e-3)``, ``np.int64(1)``) as the Python numbers they stand for."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return item()
    return value
