"""How the studio writes parameter counts: 8,970 · 40.6k · 1.25M — one rule for canvas and plots."""

from __future__ import annotations


def compact_count(n: int, space: str = "") -> str:
    """``n`` with thousands separators below 10,000, in k above, in M above a million."""
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}{space}M"
    if n >= 10_000:
        return f"{n / 1e3:.1f}{space}k"
    return f"{n:,}"
