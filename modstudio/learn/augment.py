"""Augmentation on the device: each training batch's random crops and flips (``data/augment.py``
says which, per task), in one gather, with no Python loop over samples.

The random numbers come from the run's own generator on the device (seeded from the run's seed),
never from the trainer's batch-order generator, so a run without augmentation draws exactly what
it drew before and a run with it repeats exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from modstudio.data.augment import Augmentation

SEED_OFFSET = 0x5EED_A06
"""Mixed into the run's seed, so the augmentation stream is not the batch-order stream."""


def augment_batch(batch: torch.Tensor, padding: torch.Tensor, flip: torch.Tensor,
                  generator: torch.Generator, most: int) -> torch.Tensor:
    """``batch`` (N × C × H × W, any dtype) with sample i shifted by a random offset of up to
    ± ``padding[i]`` pixels each way (zeros shifted in) and mirrored left-right with probability ½
    where ``flip[i]``; ``padding`` (long) and ``flip`` (bool) are per-sample tensors on the batch's
    device, ``most`` at least the largest padding (given, so nothing is read back from the device)."""
    n, _, h, w = batch.shape
    device = batch.device
    draws = torch.rand((3, n), generator=generator, device=device)
    # offsets into the padded image: most − p … most + p, uniform over the 2p + 1 choices
    dy = most - padding + (draws[0] * (2 * padding + 1)).long().clamp_max(2 * padding)
    dx = most - padding + (draws[1] * (2 * padding + 1)).long().clamp_max(2 * padding)
    mirrored = flip & (draws[2] < 0.5)
    columns = torch.arange(w, device=device)
    columns = torch.where(mirrored[:, None], w - 1 - columns, columns)
    rows = dy[:, None] + torch.arange(h, device=device)                      # N × H
    cols = dx[:, None] + columns                                             # N × W
    padded = F.pad(batch, (most, most, most, most)) if most else batch       # zeros: black bytes, 0.0 floats
    flat = padded.flatten(2)                                                 # N × C × (H+2m)(W+2m)
    index = (rows[:, :, None] * (w + 2 * most) + cols[:, None, :]).flatten(1)  # N × HW
    out = flat.gather(2, index[:, None, :].expand(-1, batch.shape[1], -1))
    return out.view_as(batch)


class Augmenter:
    """The tasks' augmentations as device tensors, and the run's generator for them."""

    def __init__(self, augmentations: Sequence[Augmentation], device: torch.device, seed: int, rank: int = 0) -> None:
        self.active = [a.active for a in augmentations]
        self.paddings = [a.crop_padding for a in augmentations]
        self.padding = torch.tensor([a.crop_padding for a in augmentations], dtype=torch.long, device=device)
        self.flip = torch.tensor([a.flip for a in augmentations], dtype=torch.bool, device=device)
        self.generator = torch.Generator(device=device)
        # each process of a distributed run draws its own stream for its own share of the batch
        self.generator.manual_seed((seed * 1_000_003 + SEED_OFFSET + rank) % 2**63)

    def __call__(self, task: int, batch: torch.Tensor, ids: torch.Tensor | None) -> torch.Tensor:
        """The batch as ``task`` (or, with ``ids``, each sample's own task) trains on it."""
        if ids is None:
            if not self.active[task]:
                return batch
            n = len(batch)
            padding, flip = self.padding[task].expand(n), self.flip[task].expand(n)
            most = self.paddings[task]
        else:
            if not any(self.active):
                return batch
            padding, flip, most = self.padding[ids], self.flip[ids], max(self.paddings)
        return augment_batch(batch, padding, flip, self.generator, most)
