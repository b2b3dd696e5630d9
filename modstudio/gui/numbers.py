"""How the studio writes parameter counts: 8,970 · 40.6k · 1.25M — one rule for canvas and plots."""

from __future__ import annotations


def compact_count(n: int, space: str = "") -> str:
    """``n`` with thousands separators below 10,000, in k above, in M above a million."""
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}{space}M"
    if n >= 10_000:
        return f"{n / 1e3:.1f}{space}k"
    return f"{n:,}"


def compact_rate(per_s: float, space: str = " ") -> str:
    """A rate as people read it at a glance: 8.4 · 830 · 8.3 k · 1.2 M (three figures at most).

    Rates are measured, so their decimals are noise; a count's rule (8,330.78…) would print them."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if round(per_s / scale, 1) >= 1:  # 999.96 is "1.0 k", not "1000"
            return f"{per_s / scale:.1f}{space}{unit}"
    return f"{per_s:.1f}" if per_s < 10 else f"{per_s:.0f}"
