"""Stored samples → the float features a network reads, on the training device, a batch at a time.

Image data stays bytes (uint8) on the device, a quarter of float32's memory; each batch (and each
evaluation chunk) becomes float32 here with the tasks' ``ValueMap`` (``data/values.py``), in the
same float32 steps as ``ValueMap.apply``, so features are bit for bit those of the numpy side.
"""

from __future__ import annotations

import torch

from modstudio.data.values import ValueMap


class DeviceValues:
    """A ``ValueMap`` with its constants on ``device``: ``self(x)`` maps a uint8 batch to float32."""

    def __init__(self, values: ValueMap, device: torch.device | str) -> None:
        self.values = values
        shape = (1, values.channels) if values.channels > 1 else (1,)
        self._divisor = torch.tensor([values.divisor], dtype=torch.float32, device=device)
        self._shift = torch.tensor(values.shift, dtype=torch.float32, device=device).reshape(shape)
        self._spread = torch.tensor(values.spread, dtype=torch.float32, device=device).reshape(shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        extra = (1,) * (x.dim() - 2) if self.values.channels > 1 else ()
        out = x.to(torch.float32).div_(self._divisor)
        return out.sub_(self._shift.reshape(*self._shift.shape, *extra)).div_(self._spread.reshape(*self._spread.shape, *extra))
