"""The continual-learning strategies, by name; each is one small class over the trainer's hooks."""

from __future__ import annotations

from modstudio.learn.strategies.base import Strategy, StrategyError
from modstudio.learn.strategies.paths import Expansion, Progressive
from modstudio.learn.strategies.shared import EWC, Joint, LwF, Finetune, Replay

STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Finetune, Joint, EWC, Replay, LwF, Progressive, Expansion)
}


def make_strategy(name: str, **params) -> Strategy:
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise StrategyError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}") from None
    return cls(**params)


__all__ = ["STRATEGIES", "Strategy", "StrategyError", "make_strategy"]
