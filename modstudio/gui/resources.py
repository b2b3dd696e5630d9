"""Shipped GUI files (icons, style sheets) through the same resources folder the data layer uses."""

from __future__ import annotations

import os
from pathlib import Path

import modstudio

ENV_VAR = "MODSTUDIO_RESOURCES"


def resource_file(*parts: str) -> Path:
    override = os.environ.get(ENV_VAR)
    root = Path(override).expanduser() if override else Path(modstudio.__file__).resolve().parent.parent / "resources"
    return root.joinpath(*parts)
