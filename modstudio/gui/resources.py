"""Shipped GUI files (icons, style sheets, help pages): the data layer's resources folder
(``modstudio.data.resources``, where MODSTUDIO_RESOURCES wins), under the name the GUI uses."""

from __future__ import annotations

from pathlib import Path


def resource_file(*parts: str) -> Path:
    from modstudio.data.resources import resource_path  # not at import time: modstudio.data loads numpy

    return resource_path(*parts)
