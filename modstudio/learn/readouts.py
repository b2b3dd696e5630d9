"""Modules that read every task's features at once, for class-incremental prediction.

Heads trained on separate tasks are not calibrated against each other, so "the most confident
head" is a poor guess of the task. These modules are trained across tasks instead:

- :class:`FeatureClassifier` is one linear classifier over the concatenated features of every
  path (DER, Yan et al. 2021): a block per distinct feature source, summed, so a new task adds a
  block without touching the old ones' shapes. Over classes it is the unified classifier; over
  tasks it is the task classifier the ``memory`` task inference trains on the exemplar memory.
- :class:`AutoencoderGate` is Expert Gate's router (Aljundi et al. 2017): one small undercomplete
  autoencoder per task on the input; a sample goes to the task that reconstructs it best.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class FeatureClassifier(nn.Module):
    """``logits = Σ_b W_b · f_b + c``: a linear map of the concatenated features, block by block.

    Only active outputs (the classes, or tasks, trained so far) can win: the others are −inf. The
    mask is a buffer, saved with the weights, so a restored or exported model answers the same."""

    def __init__(self, feature_width: int, outputs: int) -> None:
        super().__init__()
        self.feature_width = feature_width
        self.outputs = outputs
        self.blocks = nn.ModuleList()
        self.bias = nn.Parameter(torch.zeros(outputs))
        self.register_buffer("active", torch.zeros(outputs))

    def activate(self, outputs: torch.Tensor | Sequence[int]) -> None:
        self.active[torch.as_tensor(outputs, dtype=torch.long, device=self.active.device)] = 1.0

    def grow_to(self, sources: int) -> None:
        """One block per feature source: new ones start at zero (after the first), so the
        classifier's answers do not jump when a source is added."""
        while len(self.blocks) < sources:
            block = nn.Linear(self.feature_width, self.outputs, bias=False)
            if len(self.blocks):
                nn.init.zeros_(block.weight)
            self.blocks.append(block.to(self.bias.device))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        logits = self.bias.expand(features[0].shape[0], -1)
        for block, f in zip(self.blocks, features):
            logits = logits + block(f)
        return logits.masked_fill(self.active == 0, float("-inf"))


class Autoencoder(nn.Module):
    """Input → ``hidden`` → input, on the flattened sample."""

    def __init__(self, inputs: int, hidden: int) -> None:
        super().__init__()
        self.encode = nn.Linear(inputs, hidden)
        self.decode = nn.Linear(hidden, inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(torch.relu(self.encode(x.flatten(1))))

    def error(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared reconstruction error per sample."""
        flat = x.flatten(1)
        return (self(flat) - flat).pow(2).mean(1)


class AutoencoderGate(nn.Module):
    """One autoencoder per task; ``route`` sends each sample to the best reconstructing task."""

    def __init__(self, inputs: int, hidden: int) -> None:
        super().__init__()
        self.inputs, self.hidden = inputs, hidden
        self.experts = nn.ModuleList()

    def add_expert(self, device: torch.device) -> Autoencoder:
        expert = Autoencoder(self.inputs, self.hidden).to(device)
        self.experts.append(expert)
        return expert

    def route(self, x: torch.Tensor, known: int) -> torch.Tensor:
        errors = torch.stack([expert.error(x) for expert in self.experts[:known]], dim=1)
        return errors.argmin(1)
