"""The same configuration over several seeds: what researchers report, mean ± sd of every figure.

A seed list is written ``0-4`` or ``0,2,7`` (or both, ``0-2,9``). The aggregate uses the sample
standard deviation (n − 1), as papers' "± sd over seeds" does, and says what one test sample is
worth in points per task, so a difference below that resolution reads as what it is.
"""

from __future__ import annotations

import json
import statistics
from typing import Any, Sequence

from modstudio.project.run import RunMetrics

MAX_SEEDS = 1000
SEED_FIGURES = (*RunMetrics.FIGURES, "total_parameters")  # what is aggregated: the headline figures


class SeedListError(ValueError):
    """A seed list that is not whole numbers and ranges."""


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` → [0, 1, 2, 3, 4]; ``"0,2,7"`` → [0, 2, 7]; each seed once, in the order given."""
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        low, dash, high = part.partition("-")
        try:
            values = range(int(low), int(high) + 1) if dash else [int(low)]
        except ValueError:
            raise SeedListError(f"seeds are whole numbers and ranges such as 0-4 or 0,2,7; got {part!r}") from None
        if dash and int(high) < int(low):
            raise SeedListError(f"the range {part!r} runs backwards")
        if any(v < 0 for v in values):
            raise SeedListError(f"seeds are 0 or more; got {part!r}")
        seeds.extend(v for v in values if v not in seeds)
        if len(seeds) > MAX_SEEDS:
            raise SeedListError(f"at most {MAX_SEEDS} seeds")
    if not seeds:
        raise SeedListError("no seed given")
    return seeds


def mean_sd(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "sd", "n", "values"}``; sd is None for one value (no spread to measure)."""
    values = [float(v) for v in values]
    return {"mean": statistics.mean(values), "sd": statistics.stdev(values) if len(values) > 1 else None,
            "n": len(values), "values": values}


def aggregate(runs: Sequence[Any]) -> dict[str, Any]:
    """Mean ± sd over ``runs`` (finished ones) of every headline figure, per-task test sizes and
    the points one test sample is worth in each task (100 / n)."""
    finished = [r for r in runs if r.status == "finished"]
    figures = {}
    for name in SEED_FIGURES:
        values = [getattr(r.metrics, name) for r in finished]
        if values and all(v is not None for v in values):
            figures[name] = mean_sd(values)
    sizes = finished[0].metrics.test_sizes if finished else []
    return {
        "runs": len(runs), "finished": len(finished), "figures": figures,
        "test_sizes": list(sizes), "points_per_sample": [100.0 / n if n else None for n in sizes],
    }


def format_figure(name: str, stats: dict[str, Any]) -> str:
    """``acc 90.4 ± 1.7`` (accuracy-like figures in %, parameters as counts)."""
    if name == "total_parameters":
        sd = f" ± {stats['sd']:,.0f}" if stats["sd"] is not None else ""
        return f"parameters {stats['mean']:,.0f}{sd}"
    sd = f" ± {stats['sd'] * 100:.1f}" if stats["sd"] is not None else ""
    return f"{name} {stats['mean'] * 100:.1f}{sd}"


def seed_groups(runs: Sequence[Any]) -> list[dict[str, Any]]:
    """Runs whose settings differ only in the seed, two seeds or more: one configuration over seeds,
    with its aggregate, in the order each configuration first appears."""
    groups: dict[str, list[Any]] = {}
    for run in runs:
        settings = dict(run.settings) if isinstance(run.settings, dict) else {}
        settings.pop("seed", None)
        groups.setdefault(json.dumps(settings, sort_keys=True, default=str), []).append(run)
    out = []
    for members in groups.values():
        seeds = sorted({r.settings.get("seed") for r in members if isinstance(r.settings.get("seed"), int)})
        if len(seeds) > 1:
            first = members[0]
            out.append({"strategy": first.strategy, "scenario": first.settings.get("scenario"), "seeds": seeds,
                        "run_ids": [r.id for r in members], "aggregate": aggregate(members)})
    return out
