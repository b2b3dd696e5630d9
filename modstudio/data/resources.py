"""Where shipped files live: ``modstudio/resources/`` inside the package (package data, so a wheel,
an editable install and the PyInstaller bundle all carry it), read through ``importlib.resources``;
or wherever MODSTUDIO_RESOURCES says.

The override exists for bundled builds that keep their files elsewhere and for tests that need a
fake resource tree. Every shipped file is read through :func:`resource` or :func:`resource_path`
(``tests/packaging/test_resources.py`` checks that what they name is package data).
"""

from __future__ import annotations

import atexit
import contextlib
import os
from importlib import resources as _importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; importlib.abc has it before
    from importlib.abc import Traversable

ENV_VAR = "MODSTUDIO_RESOURCES"
PACKAGE = "modstudio"
FOLDER = "resources"  # inside the package: modstudio/resources/

_extracted = contextlib.ExitStack()  # files copied out of a zipped install, removed at exit
atexit.register(_extracted.close)


def resources_root() -> Traversable:
    """The resources folder as a Traversable: the override's folder, else the package's own."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return _importlib_resources.files(PACKAGE) / FOLDER


def resource(*parts: str) -> Traversable:
    """A shipped file as a Traversable (``read_bytes``, ``read_text``, ``is_file``); it may not exist."""
    found = resources_root()
    for part in parts:  # Traversable.joinpath takes one child before Python 3.11
        found = found / part
    return found


def _on_disk(found: Traversable) -> Path:
    if isinstance(found, Path):  # a plain installation, an editable one, the PyInstaller bundle
        return found
    if not (found.is_file() or found.is_dir()):
        return Path(str(found))  # missing: a path that names it, for the caller's message
    return _extracted.enter_context(_importlib_resources.as_file(found))  # a zipped install


def resources_dir() -> Path:
    """The resources folder on disk."""
    return _on_disk(resources_root())


def resource_path(*parts: str) -> Path:
    """A real file path inside the resources folder, for readers that need one (Qt loading an SVG,
    numpy an npz). It may not exist; callers report that themselves."""
    return _on_disk(resource(*parts))
