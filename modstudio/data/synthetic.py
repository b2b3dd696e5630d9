"""Seeded synthetic datasets: small, instant, and offline, for trying a network before real data.

Each generator returns plain arrays (x, y, class_names); ``builtin.py`` wraps them as Datasets.
The same options and seed always give the same bytes, so tasks built on them can be rebuilt.

The arithmetic is float64 as it always was (so the bytes never change), but done a block of
rows at a time into the float32 result: a generator needs about twice its output in memory
(the result and its shuffled copy), not eight times.
"""

from __future__ import annotations

import numpy as np


def _per_class(n_samples: int, n_classes: int) -> np.ndarray:
    """Class sizes as equal as possible (the first classes take the remainder)."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


_BLOCK_VALUES = 1 << 20  # float64 values per block of rows: temporaries stay a few MB


def _blocks(n_rows: int, row_values: int):
    step = max(1, _BLOCK_VALUES // max(1, row_values))
    for start in range(0, n_rows, step):
        yield start, min(n_rows, start + step)


def _shuffled(x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    order = rng.permutation(len(y))
    return x[order], y[order]


def blobs(n_samples: int = 600, n_features: int = 2, n_classes: int = 3, spread: float = 1.0,
          seed: int = 0):
    """Gaussian clusters, one per class, with centres drawn in a box of side 10."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5.0, 5.0, size=(n_classes, n_features))
    sizes = _per_class(n_samples, n_classes)
    y = np.repeat(np.arange(n_classes), sizes)
    x = np.empty((n_samples, n_features), np.float32)
    for start, end in _blocks(n_samples, n_features):  # the noise stream is drawn in the same order
        x[start:end] = centres[y[start:end]] + rng.normal(0.0, spread, size=(end - start, n_features))
    x, y = _shuffled(x, y, rng)
    return x, y.astype(np.int64), [f"blob {i}" for i in range(n_classes)]


def spirals(n_samples: int = 400, noise: float = 0.2, turns: float = 1.5, seed: int = 0):
    """Two interleaved spirals: the classic problem a linear model cannot solve."""
    rng = np.random.default_rng(seed)
    sizes = _per_class(n_samples, 2)
    xs, ys = [], []
    for label, size in enumerate(sizes):
        t = np.sqrt(rng.uniform(0.05, 1.0, size)) * turns * 2 * np.pi
        sign = 1.0 if label == 0 else -1.0
        pts = sign * np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (turns * 2 * np.pi)
        xs.append(pts + rng.normal(0.0, noise / 4, size=pts.shape))
        ys.append(np.full(size, label))
    x, y = _shuffled(np.concatenate(xs), np.concatenate(ys), rng)
    return x.astype(np.float32), y.astype(np.int64), ["spiral A", "spiral B"]


def _template(kind: str, t: np.ndarray) -> np.ndarray:
    """One period-ish shape on t in [0, 1) per sample row; rows carry their own random shift."""
    phase = (t * 3.0) % 1.0
    if kind == "sine":
        return np.sin(2 * np.pi * 3.0 * t)
    if kind == "square":
        return np.where(phase < 0.5, 1.0, -1.0)
    if kind == "sawtooth":
        return 2.0 * phase - 1.0
    if kind == "triangle":
        return 1.0 - 4.0 * np.abs(phase - 0.5)
    if kind == "chirp":
        return np.sin(2 * np.pi * (1.0 * t + 4.0 * t * t))
    if kind == "gaussian bump":
        return 2.0 * np.exp(-0.5 * ((t - 0.5) / 0.08) ** 2) - 1.0
    if kind == "damped sine":
        return np.exp(-3.0 * t) * np.sin(2 * np.pi * 5.0 * t) * 1.5
    if kind == "step":
        return np.where(t < 0.5, -1.0, 1.0)
    raise AssertionError(kind)


SIGNAL_TEMPLATES = (
    "sine", "square", "sawtooth", "triangle", "chirp", "gaussian bump", "damped sine", "step",
)


def signals(n_samples: int = 800, n_classes: int = 4, length: int = 64, noise: float = 0.1,
            seed: int = 0):
    """1-D signals, one template per class, each sample randomly shifted, scaled and noised.

    The shift is a time offset of up to a quarter of the window, the scale an amplitude in
    [0.6, 1.4]; shapes (not positions or sizes) decide the class, as in real sensor data.
    """
    rng = np.random.default_rng(seed)
    sizes = _per_class(n_samples, n_classes)
    y = np.repeat(np.arange(n_classes), sizes)
    t = np.arange(length) / length
    shift = rng.uniform(-0.25, 0.25, size=(n_samples, 1))
    scale = rng.uniform(0.6, 1.4, size=(n_samples, 1))
    x = np.empty((n_samples, length), np.float32)
    for start, end in _blocks(n_samples, length):  # rows are sorted by class; noise drawn in row order
        block = np.empty((end - start, length))
        for c in np.unique(y[start:end]):
            rows = slice(int(np.searchsorted(y, c, "left")) - start, int(np.searchsorted(y, c, "right")) - start)
            rows = slice(max(rows.start, 0), min(rows.stop, end - start))
            block[rows] = _template(SIGNAL_TEMPLATES[c], (t[None, :] - shift[start:end][rows]) % 1.0)
        block *= scale[start:end]
        block += rng.normal(0.0, noise, size=block.shape)
        x[start:end] = block
    x, y = _shuffled(x[:, None, :], y, rng)
    return x, y.astype(np.int64), list(SIGNAL_TEMPLATES[:n_classes])
