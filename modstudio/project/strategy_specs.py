"""The continual-learning strategies a project can name: one declarative spec per strategy.

A spec says what a strategy is (name, title, one-line doc, the paper it implements), what kind
(one path per task? lateral connections? a memory of earlier samples?) and which typed
parameters it takes (the catalog's ``ParamSpec``: type, default, range, doc). It imports neither
torch nor Qt, so the CLI's help, the studio's run settings, the project file's checks and the
trainer all read the same declarations; the torch class that does the work registers against
its spec in ``modstudio.learn.strategies`` (``@implements("ewc")``).

A new strategy is one spec and one class, which may sit in one file of its own::

    from modstudio.learn.strategies import Strategy, register_strategy

    @register_strategy(StrategySpec("mine", "My method", "What it does.", reference="Me et al. 2026",
                                    params=(ParamSpec("alpha", "float", 0.5, "how much", min=0, max=1),)))
    class Mine(Strategy):
        ...

It lives here, below the learn layer, because the project file validates a project's strategy
parameters and the project layer may not import the learn layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from modstudio.graph.catalog import ParamSpec, ParamTypeError
from modstudio.project.limits import DEFAULT_LIMITS


class StrategyError(ValueError):
    """Unknown strategy, or a strategy parameter of the wrong type or out of range."""


@dataclass(frozen=True)
class StrategySpec:
    name: str
    title: str
    doc: str
    reference: str = ""  # the published method it implements
    path_based: bool = False  # a path per task: class-incremental runs infer the task
    laterals: bool = False  # adds lateral connections from earlier tasks' columns
    memory: bool = False  # keeps a buffer of earlier tasks' samples (path strategies: class scenario, readouts)
    validation: bool = False  # selects on a validation split: one is carved from training data if a task has none
    # The runs in which it trains on a task's whole training split joined with other samples into one
    # new tensor (joint: every task seen; iCaRL: the exemplars): the scenarios ("task", "class") or
    # class-scenario readouts ("unified", as ``features.task_inference`` names them) where it does. A split
    # streamed from the host (``learn/streaming.py``) would be copied whole, so these runs refuse one.
    joins_train: tuple[str, ...] = ()
    params: tuple[ParamSpec, ...] = ()

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise StrategyError(f"{self.name} has no parameter {name!r} (known: {known})")

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` checked and normalised (types, ranges); StrategyError names the first bad one."""
        if not isinstance(params, dict):
            raise StrategyError(f"{self.name}'s parameters must be an object of name → value, not {params!r}")
        checked = {}
        for name, value in params.items():
            spec = self.param(name)
            if spec.type == "bool" and not isinstance(value, bool) and value in (0, 1):
                value = bool(value)  # files written when flags were 0/1
            try:
                value = spec.coerce(value)
            except ParamTypeError as exc:
                raise StrategyError(f"{self.name}: {exc}") from None
            problem = spec.range_error(value)
            if problem:
                raise StrategyError(f"{self.name}: {problem}")
            checked[name] = value
        return checked

    def resolved(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every parameter's value for a run: the defaults, overridden by the checked ``params``."""
        return {**self.defaults(), **self.check_params(params)}


_SPECS: dict[str, StrategySpec] = {}


def register(spec: StrategySpec) -> StrategySpec:
    """Make ``spec`` known to every reader (a second spec of the same name replaces the first)."""
    if not spec.name or not spec.name.replace("_", "").isalnum() or spec.name != spec.name.lower():
        raise StrategyError(f"a strategy name is lowercase letters, digits and '_', not {spec.name!r}")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


def get(name: str) -> StrategySpec:
    try:
        return _SPECS[name]
    except (KeyError, TypeError):
        raise StrategyError(f"unknown strategy {name!r}; choose one of {', '.join(_SPECS)}") from None


def find(name: str) -> StrategySpec | None:
    return _SPECS.get(name) if isinstance(name, str) else None


def names() -> list[str]:
    return list(_SPECS)


def specs() -> Iterator[StrategySpec]:
    return iter(list(_SPECS.values()))


def _int(name: str, default: int, doc: str, low: int = 0, high: int = 10**9) -> ParamSpec:
    return ParamSpec(name, "int", default, doc, min=low, max=high)


def _float(name: str, default: float, doc: str, low: float = 0.0, high: float = 1e12) -> ParamSpec:
    return ParamSpec(name, "float", default, doc, min=low, max=high)


# Parameters several strategies share, declared once so the same name means the same thing.
# (at most what a project file may store of one run's memory: every item is saved with the run)
MEMORY = ParamSpec("memory", "int", 200, "samples kept from earlier tasks (the same budget for every strategy)",
                   min=0, max=DEFAULT_LIMITS.max_memory_items)
MEMORY_SELECTION = ParamSpec(
    "memory_selection", "choice", "reservoir",
    "which samples the memory keeps: reservoir (uniform over the stream), random or herding (class-balanced)",
    choices=("reservoir", "random", "herding"))
BALANCED_MEMORY = ParamSpec(MEMORY_SELECTION.name, "choice", "random", MEMORY_SELECTION.doc,
                            choices=MEMORY_SELECTION.choices)
REPLAY_BATCH = _int("replay_batch", 0, "samples drawn from the memory per step (der_pp: for each of its two "
                    "terms; agem: for the reference gradient); 0 = the batch size", high=1 << 24)
ROUTERS = ("confidence", "gate", "memory")  # how a path strategy names a sample's task, class scenario
ROUTER_PARAMS = (
    _int("router_epochs", 0, "epochs a task router trains per task; 0 = the task's epochs", high=10**6),
    _int("gate_hidden", 32, "width of each task's autoencoder in the gate", low=1, high=1 << 16),
)


def task_inference(default: str, choices: tuple[str, ...]) -> ParamSpec:
    return ParamSpec(
        "task_inference", "choice", default,
        "class scenario: how the task of a sample is found — unified (one classifier over every path's "
        "features), confidence (the most confident head), gate (the task whose autoencoder reconstructs "
        "the sample best) or memory (a task classifier trained on the exemplar memory)",
        choices=choices)


# The built-in strategies, in the order the studio lists them.
for _spec in (
    StrategySpec(
        "finetune", "Fine-tune",
        "One shared network trained on each task in turn, with no protection: the forgetting baseline.",
        reference="the lower reference of every continual-learning benchmark"),
    StrategySpec(
        "joint", "Joint (upper reference)",
        "Trains on the data of every task seen so far together: what continual methods aim for.",
        reference="multi-task training on all data seen, the upper reference", joins_train=("task", "class")),
    StrategySpec(
        "ewc", "EWC (online)",
        "Elastic weight consolidation: a quadratic penalty keeps weights important to old tasks close.",
        reference="Kirkpatrick et al. 2017; online form of Schwarz et al. 2018",
        params=(_float("lambda", 1000.0, "strength of the penalty"),
                _float("gamma", 1.0, "decay of older tasks' Fisher information (1 = keep all)", high=1.0),
                _int("fisher_samples", 1024, "training samples the Fisher information is estimated on", low=1),
                _int("fisher_batch", 16, "samples per Fisher estimation batch", low=1, high=1 << 20))),
    StrategySpec(
        "si", "Synaptic Intelligence",
        "How much each shared weight did to lower the loss along its training path says how much it matters: "
        "a quadratic penalty keeps the weights that mattered close.",
        reference="Zenke, Poole & Ganguli 2017, Continual Learning Through Synaptic Intelligence (ICML)",
        params=(_float("lambda", 1.0, "strength of the penalty (Zenke et al.'s c)"),
                _float("damping", 1e-3, "ξ: keeps the importance finite for weights that barely moved "
                       "(Zenke et al.: 1e-3)", low=1e-12))),
    StrategySpec(
        "mas", "Memory Aware Synapses",
        "A shared weight matters as much as the network's output moves with it (measured without labels); a "
        "quadratic penalty keeps the weights that mattered close.",
        reference="Aljundi et al. 2018, Memory Aware Synapses (ECCV)",
        params=(_float("lambda", 1.0, "strength of the penalty"),
                _float("alpha", 0.5, "weight of the older tasks' importance in the running average", high=1.0))),
    StrategySpec(
        "agem", "A-GEM",
        "Averaged gradient episodic memory: a step that would raise the loss on remembered samples is "
        "projected so it no longer does.",
        reference="Chaudhry et al. 2019, Efficient Lifelong Learning with A-GEM (ICLR)",
        memory=True, params=(MEMORY, BALANCED_MEMORY, REPLAY_BATCH)),
    StrategySpec(
        "gdumb", "GDumb",
        "Keeps a class-balanced memory and, after every task, trains the network from scratch on the memory "
        "alone: the baseline that asks what a method adds to its memory.",
        reference="Prabhu, Torr & Dokania 2020, GDumb (ECCV)",
        memory=True, params=(MEMORY, BALANCED_MEMORY)),
    StrategySpec(
        "replay", "Experience replay",
        "Keeps a small reservoir of earlier samples and rehearses them alongside every new batch.",
        reference="experience replay with reservoir sampling (Chaudhry et al. 2019, Tiny Episodic Memories)",
        memory=True, params=(MEMORY, MEMORY_SELECTION, REPLAY_BATCH)),
    StrategySpec(
        "der_pp", "DER++ (dark replay)",
        "Replay that also keeps the network's logits for each remembered sample and matches them, besides "
        "rehearsing the sample's label.",
        reference="Buzzega et al. 2020, Dark Experience for General Continual Learning (NeurIPS)",
        memory=True,
        params=(MEMORY, MEMORY_SELECTION,
                _float("alpha", 0.1, "weight of matching the remembered logits (mean squared error)"),
                _float("beta", 0.5, "weight of the cross-entropy on remembered samples' labels"),
                REPLAY_BATCH)),
    StrategySpec(
        "icarl", "iCaRL",
        "Rehearses herded exemplars with a distillation loss, and (class scenario) classifies by the nearest "
        "mean of each class's exemplars.",
        reference="Rebuffi et al. 2017, iCaRL: Incremental Classifier and Representation Learning (CVPR)",
        memory=True, joins_train=("task", "class"),
        params=(MEMORY, ParamSpec(MEMORY_SELECTION.name, "choice", "herding", MEMORY_SELECTION.doc,
                                  choices=MEMORY_SELECTION.choices))),
    StrategySpec(
        "lwf", "Learning without Forgetting",
        "Keeps old tasks' outputs on the new data close to what the network answered before (distillation).",
        reference="Li & Hoiem 2016",
        params=(_float("alpha", 1.0, "weight of the distillation term"),
                _float("temperature", 2.0, "softmax temperature of the distillation", low=1e-3, high=1e3))),
    StrategySpec(
        "progressive", "Progressive networks",
        "A fresh copy of the network per task, with lateral inputs from the frozen older columns.",
        reference="Rusu et al. 2016; class scenario: Expert Gate (Aljundi et al. 2017)", path_based=True,
        laterals=True, memory=True,
        params=(_int("adapter_width", 16, "channels of each lateral adapter's projection (Rusu et al.'s "
                                          "dimensionality reduction)", low=1, high=1 << 16),
                task_inference("gate", ROUTERS), *ROUTER_PARAMS, MEMORY, BALANCED_MEMORY)),
    StrategySpec(
        "expansion", "Modular expansion",
        "For each new task, reuse frozen modules of the most similar task where they help and grow new ones "
        "where needed.",
        reference="after MNTDP (Veniat et al. 2021): reuse the most similar task's modules, grow the rest, "
                  "select on validation; class scenario: DER's unified classifier (Yan et al. 2021)",
        path_based=True, memory=True, validation=True, joins_train=("unified",),
        params=(_int("search_epochs", 0, "epochs each candidate trains; 0 = half the task's epochs", high=10**6),
                _int("probe_epochs", 1, "epochs of the probe that ranks earlier tasks by similarity", high=10**6),
                _int("probe_sources", 3, "earlier tasks probed, the best by a nearest-class-mean ranking first",
                     low=1, high=10**6),
                ParamSpec("suffix_reuse", "bool", True, "also try growing the first modules and reusing the "
                                                       "rest (new inputs, similar concepts)"),
                _float("tolerance", 0.01, "validation accuracy a cheaper candidate may lose and still win",
                       high=1.0),
                ParamSpec("warm_start", "bool", True, "grown modules start as copies of the reused task's, "
                                                      "the head as a copy of its head when the classes are the same"),
                ParamSpec("suffix_fresh", "bool", True, "also try each suffix candidate with its grown modules "
                                                        "fresh (inputs unlike the source's, e.g. permuted pixels)"),
                task_inference("gate", ("unified", *ROUTERS)),
                _float("aux_weight", 1.0, "class scenario, unified: weight of DER's auxiliary new-vs-old loss"),
                _int("balance_epochs", 0, "class scenario, unified: epochs the classifier is re-balanced on the "
                                          "memory after each task; 0 = the task's epochs", high=10**6),
                *ROUTER_PARAMS, MEMORY, BALANCED_MEMORY)),
):
    register(_spec)
del _spec

__all__ = ["StrategySpec", "StrategyError", "ParamSpec", "MEMORY", "MEMORY_SELECTION", "BALANCED_MEMORY",
           "REPLAY_BATCH", "ROUTERS", "ROUTER_PARAMS", "task_inference", "register", "unregister", "get", "find",
           "names", "specs"]
