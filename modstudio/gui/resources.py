"""Shipped GUI files (icons, style sheets, help pages): the package data in ``modstudio/resources``
read through the data layer's helper (``modstudio.data.resources``, ``importlib.resources``; where
MODSTUDIO_RESOURCES wins), under the name the GUI uses."""

from __future__ import annotations

from pathlib import Path


def resource_file(*parts: str) -> Path:
    """A real file path (Qt's loaders need one); it may not exist."""
    from modstudio.data.resources import resource_path  # not at import time: modstudio.data loads numpy

    return resource_path(*parts)
