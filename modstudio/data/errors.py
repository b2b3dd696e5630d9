"""The one exception the data layer raises for bad input, so callers catch a single type."""

from __future__ import annotations


class DataError(ValueError):
    """Data that cannot be used, with a message that names the file, row, column or key at fault."""


def human_bytes(n: int) -> str:
    """Sizes in messages read better as '2.0 GiB' than as a ten-digit number."""
    if n >= 1024**5 * 10**6:  # float() of a huge declared size would overflow
        return f"about 2**{int(n).bit_length() - 1} bytes"
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
