"""How stored bytes become the features a network sees: one home for the value mapping.

Image data stays 8-bit (``uint8``, N × C × H × W) in memory, in the project file and on the
training device, a quarter of the bytes of float32. A ``ValueMap`` says what each byte stands
for: ``(byte / divisor − shift[c]) / spread[c]`` in float32, step by step, per channel ``c``
(one ``shift``/``spread`` for every channel, or one per channel along axis 1). The steps are
the ones the importers used to apply to whole arrays (``x / 255``, ``x / 127.5 − 1``,
``(x / 255 − mean) / sd``), so the mapped features are bit for bit the floats of before, and a
dataset's fingerprint (a hash of those floats) did not change when it started to be stored as
bytes. Consumers that need floats call ``floats()`` (numpy, here) or the trainer's device
conversion (``learn/inputs.py``), never the bytes as numbers.

Normalisation by the data's mean and sd (``Normalization``) is one more ``ValueMap``: the
statistics composed into the imported map's shift and spread, so it costs nothing in memory or
on the device, and the imported map is kept to turn it off again exactly.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modstudio.data.errors import DataError

CHUNK = 8192
"""Samples mapped at a time where a whole float copy is not needed (hashing)."""


def _f32(value: Any, what: str) -> float:
    """A finite number, rounded to float32 (the precision it is applied at, exact in JSON)."""
    if not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)):
        with np.errstate(all="ignore"):
            try:
                rounded = float(np.float32(value))
            except OverflowError:  # an int beyond any float
                rounded = math.inf
        if math.isfinite(rounded):
            return rounded
    raise DataError(f"value mapping: {what} must be a finite float32 number, got {value!r:.80}")


@dataclass(frozen=True)
class ValueMap:
    """``(byte / divisor − shift) / spread`` in float32; ``shift``, ``spread`` per channel or one."""

    divisor: float = 255.0
    shift: tuple[float, ...] = (0.0,)
    spread: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        divisor = _f32(self.divisor, "divisor")
        shift = tuple(_f32(v, "shift") for v in self.shift)
        spread = tuple(_f32(v, "spread") for v in self.spread)
        if divisor <= 0 or any(s <= 0 for s in spread):
            raise DataError(f"value mapping: divisor and spread must be positive, got {divisor} and {list(spread)}")
        if not shift or len(shift) != len(spread):
            raise DataError(f"value mapping: one shift per spread, got {len(shift)} and {len(spread)}")
        with np.errstate(all="ignore"):  # every byte must map to a finite float32
            ends = (np.float32([[0.0], [255.0]]) / np.float32(divisor) - np.float32(shift)) / np.float32(spread)
        if not np.isfinite(ends).all():
            raise DataError("value mapping: bytes would map to infinite values (spread too small)")
        object.__setattr__(self, "divisor", divisor)
        object.__setattr__(self, "shift", shift)
        object.__setattr__(self, "spread", spread)

    @property
    def channels(self) -> int:
        """1 when one shift and spread serve every channel."""
        return len(self.shift)

    def check(self, shape: tuple[int, ...], what: str = "x") -> None:
        """Refuses a per-channel mapping whose channel count is not the samples' (axis 1)."""
        if self.channels > 1 and (len(shape) < 3 or shape[1] != self.channels):
            raise DataError(f"{what}: {self.channels} channel mappings for samples of shape {tuple(shape[1:])}")

    def broadcast(self, ndim: int) -> tuple[np.ndarray, np.ndarray]:
        """``shift``, ``spread`` as float32 arrays that broadcast over (N, C, ...) of ``ndim`` axes."""
        shape = (1, self.channels, *[1] * (ndim - 2)) if self.channels > 1 else (1,)
        return (np.asarray(self.shift, np.float32).reshape(shape),
                np.asarray(self.spread, np.float32).reshape(shape))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """float32 features of bytes ``x`` (a new array)."""
        shift, spread = self.broadcast(x.ndim)
        out = x.astype(np.float32)
        out /= np.float32(self.divisor)
        out -= shift
        out /= spread
        return out

    def to_dict(self) -> dict:
        return {"divisor": self.divisor, "shift": list(self.shift), "spread": list(self.spread)}

    @classmethod
    def from_dict(cls, value: Any) -> ValueMap:
        """A mapping from ``to_dict`` (untrusted: any defect is a DataError)."""
        if not isinstance(value, Mapping) or set(value) != {"divisor", "shift", "spread"}:
            raise DataError(f"value mapping must be an object with divisor, shift and spread, got {value!r:.200}")
        for key in ("shift", "spread"):
            if not isinstance(value[key], list) or not 1 <= len(value[key]) <= 4096:
                raise DataError(f"value mapping: {key} must be a list of 1 to 4096 numbers")
        return cls(value["divisor"], tuple(value["shift"]), tuple(value["spread"]))


UNIT = ValueMap(255.0)
"""Bytes as 0 … 1 (pixel ÷ 255): the MNIST family's, CIFAR's and image folders' default."""


@dataclass(frozen=True)
class Encoded:
    """8-bit samples and the ``ValueMap`` that makes them features: what a reader of bytes
    returns, and what ``Dataset`` and ``Split`` accept in place of a float array."""

    data: np.ndarray
    values: ValueMap


def stored(x: Any, what: str = "x") -> tuple[Any, ValueMap | None]:
    """(the array to store, its mapping): an ``Encoded``'s bytes and mapping, else (x, None)."""
    if not isinstance(x, Encoded):
        return x, None
    if not isinstance(x.values, ValueMap):
        raise DataError(f"{what}: the value mapping must be a ValueMap")
    data = np.asarray(x.data)
    if data.dtype != np.uint8:
        raise DataError(f"{what}: mapped samples must be bytes (uint8), got {data.dtype}")
    x.values.check(data.shape, what)
    return data, x.values


def floats(x: np.ndarray, values: ValueMap | None) -> np.ndarray:
    """The float32 features ``x`` stands for: mapped bytes, or ``x`` itself when it is float."""
    return x if values is None else values.apply(x)


def hash_update(h: "hashlib._Hash", x: np.ndarray, values: ValueMap | None) -> None:
    """Feed ``h`` the dtype, shape and bytes of the features ``x`` stands for, as ``hash_arrays``
    does for an array: bytes are mapped a chunk at a time (no float copy of the whole array), so
    a mapped array hashes as its floats do."""
    x = np.ascontiguousarray(x)
    if values is None:
        h.update(f"{x.dtype.str}{x.shape}".encode())
        h.update(memoryview(x).cast("B") if x.size else b"")
        return
    h.update(f"{np.dtype(np.float32).str}{x.shape}".encode())
    for start in range(0, len(x), CHUNK):
        part = values.apply(x[start:start + CHUNK])
        h.update(memoryview(part).cast("B") if part.size else b"")


def channels_of(shape: tuple[int, ...], values: ValueMap) -> int:
    """How many channels normalisation standardises separately in samples of ``shape`` (N first)
    mapped by ``values``: an image's (N × C × H × W) or the map's own, else one for all features."""
    return values.channels if values.channels > 1 else int(shape[1]) if len(shape) == 4 else 1


def standardization(parts: Iterable[tuple[np.ndarray, ValueMap]]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, sd) per channel (``channels_of``) of the features that the bytes of all ``parts``
    (bytes, their map) stand for together, in float64. Bytes take 256 values, so each part is
    counted per channel a chunk at a time (at most ``CHUNK`` samples, about a million values; no
    float copy) and the figures are those of the exact float32 features; an sd of 0 (a constant
    channel) is 1."""
    counts: dict[ValueMap, np.ndarray] = {}
    channels = None
    for x, values in parts:
        c = channels_of(x.shape, values)
        if channels is not None and c != channels:
            raise DataError(f"normalisation: samples with {channels} and with {c} channels cannot share statistics")
        channels = c
        total = counts.setdefault(values, np.zeros((c, 256), np.int64))
        per_sample = max(1, int(np.prod(x.shape[1:])) // c)
        rows = max(1, min(CHUNK, (1 << 20) // per_sample))  # bincount counts in int64: ~8 MB a chunk
        for start in range(0, len(x), rows):
            part = np.asarray(x[start:start + rows])
            for ch in range(c):
                total[ch] += np.bincount((part[:, ch] if c > 1 else part).reshape(-1), minlength=256)
    if channels is None or not sum(int(n.sum()) for n in counts.values()):
        raise DataError("normalisation: no samples to take the mean and sd of")
    # the float32 feature of every byte in every channel, as the map gives it to the network
    levels = {v: v.apply(np.repeat(np.arange(256, dtype=np.uint8)[:, None], channels, axis=1)
                         .reshape(256, channels, *(1, 1) * (channels > 1))).reshape(256, channels).T.astype(np.float64)
              for v in counts}
    n = sum(c.sum(axis=1) for c in counts.values()).astype(np.float64)
    mean = sum((counts[v] * levels[v]).sum(axis=1) for v in counts) / n
    var = sum((counts[v] * (levels[v] - mean[:, None]) ** 2).sum(axis=1) for v in counts) / n
    sd = np.sqrt(var)
    return tuple(mean.tolist()), tuple(np.where(sd > 0, sd, 1.0).tolist())


def _finite_list(value: Any, what: str) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 4096 or not all(
            not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) for v in value):
        raise DataError(f"normalisation: {what} must be a list of 1 to 4096 finite numbers, got {value!r:.200}")
    return tuple(float(v) for v in value)


@dataclass(frozen=True)
class Normalization:
    """Features standardised per channel: ``(f − mean) / sd`` of the features ``f`` of the map as
    imported. ``values`` is that as one ``ValueMap`` — for ``f = (b/d − s)/p``,
    ``(b/d − (s + mean·p)) / (p·sd)`` — and ``imported`` is what turning it off gives back."""

    imported: ValueMap
    mean: tuple[float, ...]
    sd: tuple[float, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.imported, ValueMap):
            raise DataError("normalisation: the imported value mapping must be a ValueMap")
        mean, sd = _finite_list(self.mean, "mean"), _finite_list(self.sd, "sd")
        if len(mean) != len(sd) or any(s <= 0 for s in sd):
            raise DataError(f"normalisation: one positive sd per mean, got {len(mean)} means and sd {list(sd)}")
        if len(mean) > 1 and self.imported.channels > 1 and len(mean) != self.imported.channels:
            raise DataError(f"normalisation: {len(mean)} channels' statistics for a mapping of "
                            f"{self.imported.channels} channels")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "sd", sd)
        object.__setattr__(self, "_values", self._compose())

    def _compose(self) -> ValueMap:
        n = max(len(self.mean), self.imported.channels)

        def wide(v: tuple[float, ...]) -> tuple[float, ...]:
            return v * n if len(v) == 1 else v

        s, p, m, sd = wide(self.imported.shift), wide(self.imported.spread), wide(self.mean), wide(self.sd)
        return ValueMap(self.imported.divisor, tuple(s[c] + m[c] * p[c] for c in range(n)),
                        tuple(p[c] * sd[c] for c in range(n)))  # DataError: a spread too small for float32

    @property
    def values(self) -> ValueMap:
        """The imported map with the statistics composed in (what the task's bytes are read with)."""
        return self._values  # type: ignore[attr-defined]

    @staticmethod
    def describe() -> str:
        """In words, as the Tasks panel and ``modstudio info`` show it."""
        return "mean/sd"

    def to_dict(self) -> dict:
        return {"imported": self.imported.to_dict(), "mean": list(self.mean), "sd": list(self.sd)}

    @classmethod
    def from_dict(cls, value: Any) -> Normalization:
        """From ``to_dict`` (untrusted: any defect is a DataError)."""
        if not isinstance(value, Mapping) or set(value) != {"imported", "mean", "sd"}:
            raise DataError(f"normalisation must be an object with imported, mean and sd, got {value!r:.200}")
        return cls(ValueMap.from_dict(value["imported"]), value["mean"], value["sd"])
