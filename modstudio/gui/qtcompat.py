"""Work-arounds for defects of the Qt binding, applied once before the first Qt call.

PySide6/shiboken6 6.12.0 on Python < 3.12 returns ``None`` from every void method (``setPos``,
``setText``, ``update`` …) without taking a reference, so each such call lowers None's reference
count by one. None starts near 5,000 references; a few thousand Qt calls later CPython aborts with
"none_dealloc: deallocating None". Python 3.12+ makes None immortal (PEP 683), which hides the
defect there. Until the binding is fixed (or Python ≥ 3.12 is required) we give None the same
immortality by hand: a very large reference count. None is never deallocated in CPython anyway,
so the only effect is that the binding's missing increfs can no longer reach zero.
"""

from __future__ import annotations

import ctypes
import sys

_IMMORTAL_BOOST = 1 << 40  # ~10^12 leaked calls before it could matter
_applied = False


def none_leaks_per_void_call() -> int:
    """How many references one void Qt call takes from None (0 when the binding is sound)."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(100):
        point.setX(1.0)
    return round((before - sys.getrefcount(None)) / 100)


def apply() -> None:
    global _applied
    if _applied or sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        _applied = True
        return
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field of PyObject
    before = sys.getrefcount(None)
    refcount.value += _IMMORTAL_BOOST
    if abs(sys.getrefcount(None) - before - _IMMORTAL_BOOST) > 1000:  # unexpected layout: undo, stay safe
        refcount.value -= _IMMORTAL_BOOST
    _applied = True
