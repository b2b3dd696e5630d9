"""The strategies' torch classes, each registered against its spec (one file per strategy).

Specs (name, kind, typed parameters) live torch-free in ``modstudio.project.strategy_specs``;
the class that trains is bound to its spec here, by name, with ``@implements("ewc")``. A new
strategy brings its spec along: ``@register_strategy(StrategySpec(...))`` registers both at once.
"""

from __future__ import annotations

from typing import Callable

from modstudio.project import strategy_specs
from modstudio.project.strategy_specs import StrategyError, StrategySpec
from modstudio.learn.strategies.base import Strategy

STRATEGIES: dict[str, type[Strategy]] = {}  # name → class, for every spec with an implementation


def implements(name: str) -> Callable[[type[Strategy]], type[Strategy]]:
    """Bind a Strategy subclass to the registered spec ``name``."""

    def bind(cls: type[Strategy]) -> type[Strategy]:
        cls.spec = strategy_specs.get(name)
        STRATEGIES[name] = cls
        return cls

    return bind


def register_strategy(spec: StrategySpec) -> Callable[[type[Strategy]], type[Strategy]]:
    """Register a new spec and the class implementing it (a strategy in one file)."""
    strategy_specs.register(spec)
    return implements(spec.name)


def unregister_strategy(name: str) -> None:
    STRATEGIES.pop(name, None)
    strategy_specs.unregister(name)


def make_strategy(name: str, **params) -> Strategy:
    spec = strategy_specs.get(name)  # StrategyError naming the known ones
    cls = STRATEGIES.get(spec.name)
    if cls is None:
        raise StrategyError(f"strategy {name!r} is declared but its implementation is not loaded")
    return cls(**params)


# The built-in implementations register themselves on import.
from modstudio.learn.strategies import (  # noqa: E402,F401  (imported for their registration)
    agem, der_pp, ewc, expansion, finetune, gdumb, icarl, joint, lwf, mas, progressive, replay, si,
)

__all__ = ["STRATEGIES", "Strategy", "StrategyError", "StrategySpec", "implements", "register_strategy",
           "unregister_strategy", "make_strategy"]
