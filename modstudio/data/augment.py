"""A task's training-time augmentation: what random changes each training batch of images gets.

Part of the task definition (``Task.augmentation``), torch-free so the studio and the project file
can hold it; the trainer applies it on the device (``learn/augment.py``), per batch, seeded by the
run's seed. Evaluation never augments. Only image-shaped samples (C × H × W) can be augmented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modstudio.data.errors import DataError

MAX_CROP_PADDING = 64
"""Zero padding around an image, in pixels, before the random crop back to its size."""


@dataclass(frozen=True)
class Augmentation:
    """Random crop (``crop_padding`` zero pixels on each side, then a crop back to the image's size at
    a random offset, so content shifts by up to ± that many pixels) and a horizontal flip with
    probability ½, each drawn per sample. The default does nothing."""

    crop_padding: int = 0
    flip: bool = False

    def __post_init__(self) -> None:
        p = self.crop_padding
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= MAX_CROP_PADDING:
            raise DataError(f"augmentation: crop padding must be a whole number of pixels from 0 to "
                            f"{MAX_CROP_PADDING}, got {p!r:.80}")
        if not isinstance(self.flip, bool):
            raise DataError(f"augmentation: flip must be true or false, got {self.flip!r:.80}")

    @property
    def active(self) -> bool:
        return self.crop_padding > 0 or self.flip

    def check(self, sample_shape: tuple[int, ...], what: str = "task") -> None:
        """Refuses an active augmentation for samples that are not images (C × H × W)."""
        if self.active and len(sample_shape) != 3:
            raise DataError(f"{what}: augmentation (crop, flip) needs image samples of shape channels × height × "
                            f"width, these have shape {tuple(sample_shape)}")

    def describe(self) -> str:
        """In words, as the Tasks panel and ``modstudio info`` show it: "crop ±4 px, flip", or "none"."""
        parts = ([f"crop ±{self.crop_padding} px"] if self.crop_padding else []) + (["flip"] if self.flip else [])
        return ", ".join(parts) or "none"

    def to_dict(self) -> dict:
        return {"crop_padding": self.crop_padding, "flip": self.flip}

    @classmethod
    def from_dict(cls, value: Any) -> Augmentation:
        """From ``to_dict`` (untrusted: any defect is a DataError)."""
        if not isinstance(value, Mapping) or not set(value) <= {"crop_padding", "flip"}:
            raise DataError(f"augmentation must be an object with crop_padding and flip, got {value!r:.200}")
        return cls(value.get("crop_padding", 0), value.get("flip", False))


NONE = Augmentation()
