"""Built-in datasets that work offline: the shipped UCI digits, the seeded synthetic generators, and
the standard benchmarks once their files are here (``modstudio data get``, see ``benchmarks``).

Each entry declares its options (type, default, range, a doc line) so the GUI can draw a form
and ``load_builtin`` can refuse a bad value with the option's name before generating anything.
A benchmark is named like any other (``load_builtin("mnist")``), so a task's recipe rebuilds it
from the user's verified copy; one whose files are missing is refused saying how to get them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from modstudio.data import benchmarks, synthetic
from modstudio.data.builtin_info import BuiltinInfo, OptionInfo, coerce_options
from modstudio.data.dataset import Dataset
from modstudio.data.errors import DataError
from modstudio.data.resources import ENV_VAR, resource_path

DIGITS_FILE = ("datasets", "digits.npz")


def _digits(flat: bool) -> Dataset:
    path = resource_path(*DIGITS_FILE)
    if not path.is_file():
        raise DataError(
            f"the digits data file is missing: {path} (reinstall ModStudio, or point {ENV_VAR} "
            "at a resources folder that has datasets/digits.npz)"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            x, y = f["x"], f["y"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"the digits data file {path} is damaged: {exc}") from None
    if x.shape != (1797, 64) or y.shape != (1797,) or x.max() > 16:
        raise DataError(f"the digits data file {path} has unexpected contents")
    x = x.astype(np.float32) / np.float32(16.0)
    if not flat:
        x = x.reshape(-1, 1, 8, 8)
    return Dataset(
        x, y, [str(i) for i in range(10)], name="digits",
        source="UCI optical recognition of handwritten digits, 8×8 (Alpaydin & Kaynak 1998; CC BY 4.0)",
    )


def _synthetic(make: Callable, name: str, describe: Callable[[dict], str]) -> Callable[..., Dataset]:
    def load(**opts: Any) -> Dataset:
        x, y, names = make(**opts)
        return Dataset(x, y, names, name=name, source=describe(opts))
    return load


_SEED = OptionInfo("seed", 0, "int", "Random seed: the same seed gives the same data.", 0, 2**32 - 1)

_REGISTRY: dict[str, tuple[BuiltinInfo, Callable[..., Dataset]]] = {
    "digits": (
        BuiltinInfo(
            "digits", "Handwritten digits (8×8)",
            "1,797 handwritten digits 0–9 as 8×8 grey images (UCI, Alpaydin & Kaynak 1998, "
            "CC BY 4.0). Pixels scaled to [0, 1].",
            (OptionInfo("flat", False, "bool", "Give 64 features instead of 1×8×8 images."),),
        ),
        _digits,
    ),
    "blobs": (
        BuiltinInfo(
            "blobs", "Gaussian blobs",
            "One Gaussian cluster per class in any number of dimensions.",
            (
                OptionInfo("n_samples", 600, "int", "Number of samples in all.", 4, 10_000_000),
                OptionInfo("n_features", 2, "int", "Dimensions of each sample.", 1, 100_000),
                OptionInfo("n_classes", 3, "int", "Number of clusters (classes).", 2, 1000),
                OptionInfo("spread", 1.0, "float", "Standard deviation of each cluster.", 0.0, 1e6),
                _SEED,
            ),
        ),
        _synthetic(synthetic.blobs, "blobs",
                   lambda o: f"Gaussian blobs: {o['n_classes']} classes in {o['n_features']} dimensions, "
                             f"spread {o['spread']}, seed {o['seed']}"),
    ),
    "spirals": (
        BuiltinInfo(
            "spirals", "Two spirals",
            "Two interleaved 2-D spirals: a small problem no linear model solves.",
            (
                OptionInfo("n_samples", 400, "int", "Number of samples in all.", 4, 10_000_000),
                OptionInfo("noise", 0.2, "float", "Jitter of the points.", 0.0, 100.0),
                OptionInfo("turns", 1.5, "float", "How many times each spiral winds.", 0.25, 20.0),
                _SEED,
            ),
        ),
        _synthetic(synthetic.spirals, "spirals",
                   lambda o: f"two spirals, {o['turns']} turns, noise {o['noise']}, seed {o['seed']}"),
    ),
    "signals": (
        BuiltinInfo(
            "signals", "1-D signal shapes",
            "Time series of shape 1×length, one waveform per class (sine, square, sawtooth, "
            "triangle, chirp, bump, …) with random shift, scale and noise.",
            (
                OptionInfo("n_samples", 800, "int", "Number of samples in all.", 4, 10_000_000),
                OptionInfo("n_classes", 4, "int", "Number of waveforms (classes).",
                           2, len(synthetic.SIGNAL_TEMPLATES)),
                OptionInfo("length", 64, "int", "Samples per signal.", 8, 100_000),
                OptionInfo("noise", 0.1, "float", "Standard deviation of added noise.", 0.0, 100.0),
                _SEED,
            ),
        ),
        _synthetic(synthetic.signals, "signals",
                   lambda o: f"1-D signals: {o['n_classes']} waveforms of length {o['length']}, "
                             f"noise {o['noise']}, seed {o['seed']}"),
    ),
}

# Generated arrays are held in memory; refuse sizes that would not fit before allocating them.
MAX_GENERATED_VALUES = 250_000_000


def list_builtin(include_missing: bool = False) -> list[BuiltinInfo]:
    """Every built-in dataset with its options and defaults, in display order: the shipped ones,
    then the benchmarks whose files are here (all of them with ``include_missing``)."""
    shipped = [info for info, _ in _REGISTRY.values()]
    return shipped + [b.info for name, b in benchmarks.benchmarks().items()
                      if include_missing or benchmarks.is_present(name)]


def _benchmark_loader(name: str) -> Callable[..., Dataset]:
    return lambda **opts: benchmarks.load_benchmark(name, **opts)


def _checked(name: Any, options: dict[str, Any]) -> tuple[BuiltinInfo, Callable[..., Dataset], dict[str, Any], int, int]:
    """Entry, checked options, samples and values per sample: everything known before generating.

    A benchmark generates nothing (its data is read from verified files of a fixed size): 0 × 0."""
    known = benchmarks.benchmarks()
    if isinstance(name, str) and name in known:
        info = known[name].info
        return info, _benchmark_loader(name), coerce_options(info, options), 0, 0
    if not isinstance(name, str) or name not in _REGISTRY:
        raise DataError(f"no built-in dataset named {name!r:.100}; choose one of {sorted([*_REGISTRY, *known])}")
    info, load = _REGISTRY[name]
    opts = coerce_options(info, options)
    if name == "digits":
        return info, load, opts, 1797, 64
    n = opts.get("n_samples", 0)
    width = opts.get("n_features", opts.get("length", 2))
    if n * width > MAX_GENERATED_VALUES:
        raise DataError(
            f"{name}: n_samples × features = {n * width:,} values is over the limit of "
            f"{MAX_GENERATED_VALUES:,}"
        )
    if n and n < 2 * opts.get("n_classes", 2):
        raise DataError(f"{name}: n_samples ({n}) must be at least twice the number of classes")
    return info, load, opts, n, width


def generated_bytes(name: str, **options: Any) -> int:
    """The bytes ``load_builtin(name, **options)`` would make (float32 features, int64 labels),
    computed from the checked options without generating anything; DataError for bad options.

    Generating (and checking) the data needs about 2–3× this in memory at its peak."""
    _, _, _, n, width = _checked(name, options)
    return n * width * 4 + n * 8


def load_builtin(name: str, **options: Any) -> Dataset:
    """A built-in dataset by name; ``origin`` records name and options so tasks can be rebuilt."""
    _, load, opts, _, _ = _checked(name, options)
    dataset = load(**opts)
    dataset.origin = {"builtin": name, "options": opts}
    return dataset
