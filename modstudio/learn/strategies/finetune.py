"""Fine-tuning: one shared network trained on each task in turn, with no protection."""

from __future__ import annotations

from modstudio.learn.strategies import implements
from modstudio.learn.strategies.base import Strategy


@implements("finetune")
class Finetune(Strategy):
    """The forgetting baseline: the shared-path defaults of ``Strategy``, unchanged."""
