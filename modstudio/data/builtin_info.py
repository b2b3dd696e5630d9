"""What a built-in dataset offers: its name, title, description and typed options.

Its own module so that the shipped datasets (``builtin``) and the downloaded benchmarks
(``benchmarks``) declare their options the same way, and ``load_builtin`` checks them the same
way, without either importing the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modstudio.data.errors import DataError


@dataclass(frozen=True)
class OptionInfo:
    """One option of a built-in dataset, as a GUI form field."""

    name: str
    default: Any
    kind: str  # "int" | "float" | "bool"
    doc: str
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class BuiltinInfo:
    """What the dataset picker shows: name to pass to ``load_builtin``, title, description, options."""

    name: str
    title: str
    description: str
    options: tuple[OptionInfo, ...] = field(default_factory=tuple)

    @property
    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}


def coerce_options(info: BuiltinInfo, options: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in, unknown names refused, each value checked against its type and range."""
    known = {o.name: o for o in info.options}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DataError(
            f"unknown option(s) {unknown} for built-in dataset {info.name!r}; "
            f"valid options: {sorted(known)}"
        )
    out = info.defaults
    for key, value in options.items():
        opt = known[key]
        if opt.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise DataError(f"option {key!r} of {info.name!r} must be true or false, got {value!r}")
            value = bool(value)
        else:
            ok = isinstance(value, (int, np.integer)) if opt.kind == "int" else isinstance(
                value, (int, float, np.integer, np.floating))
            if not ok or isinstance(value, (bool, np.bool_)):
                raise DataError(f"option {key!r} of {info.name!r} must be {opt.kind}, got {value!r}")
            value = int(value) if opt.kind == "int" else float(value)
            if isinstance(value, float) and not math.isfinite(value):
                raise DataError(f"option {key!r} of {info.name!r} must be finite, got {value!r}")
            if opt.minimum is not None and value < opt.minimum:
                raise DataError(f"option {key!r} of {info.name!r} must be at least {opt.minimum}, got {value}")
            if opt.maximum is not None and value > opt.maximum:
                raise DataError(f"option {key!r} of {info.name!r} must be at most {opt.maximum}, got {value}")
        out[key] = value
    return out
