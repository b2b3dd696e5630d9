"""Where shipped files live: ``resources/`` beside the package, or wherever MODSTUDIO_RESOURCES says.

The override exists for bundled builds (PyInstaller) and for tests that need a fake resource tree.
"""

from __future__ import annotations

import os
from pathlib import Path

import modstudio

ENV_VAR = "MODSTUDIO_RESOURCES"


def resources_dir() -> Path:
    """The resources folder; the environment variable wins over the editable-install layout."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path(modstudio.__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """A path inside the resources folder (it may not exist; callers report that themselves)."""
    return resources_dir().joinpath(*parts)
