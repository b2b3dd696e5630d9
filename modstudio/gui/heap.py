"""Keep the cyclic garbage collector off the objects the studio keeps for its whole life.

A full collection walks every tracked object: about 94,000 once the window and its plots exist,
100 ms on the 2-core CI machine, and 235,000 (210 ms) once torch is loaded for a lesion study or an
export; the event loop stands still meanwhile. ``gc.freeze()`` moves what exists now out of the
collector's walks. Garbage made later is collected as before, and frozen objects are still freed
by reference counting when released; only a reference cycle among them would stay.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Call after building something that stays (the window's views, a loaded library)."""
    gc.freeze()
