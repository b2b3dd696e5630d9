"""How much is evaluated at once: one home for the trainer's evaluation, ``modstudio evaluate``
and the lesion study, so none of them ever holds a float copy of a whole big split."""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np
import torch

EVAL_BATCH = 4096
EVAL_BYTES = 8 * 2**20  # at most this many bytes of float features per evaluated chunk (big images: fewer samples)


def eval_step(x: Any) -> int:
    """Samples per evaluated chunk of ``x`` (anything with a ``shape``, samples first)."""
    return step_for(x.shape[1:])


def step_for(sample_shape) -> int:
    """``EVAL_BATCH`` samples, fewer where their float features would pass ``EVAL_BYTES``."""
    return max(1, min(EVAL_BATCH, EVAL_BYTES // (4 * max(1, math.prod(sample_shape)))))


def float_chunks(source: Any, device: torch.device | str = "cpu") -> Iterator[torch.Tensor]:
    """``source``'s features as float32 tensors on ``device``, a chunk at a time (``eval_step``).
    ``source`` is an array of features or a task's split, whose bytes are mapped chunk by chunk."""
    split = source if hasattr(source, "floats") else None
    shape = source.x.shape if split is not None else np.shape(source)
    step = step_for(shape[1:])
    for start in range(0, shape[0], step):
        rows = slice(start, start + step)
        x = split.floats(rows) if split is not None else source[rows]
        # one float copy at most: mapped bytes are one already; read-only task arrays are copied
        yield torch.from_numpy(np.require(x, np.float32, ["W"])).to(device)
