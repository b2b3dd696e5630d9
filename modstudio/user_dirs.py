"""Per-user folders: config (settings, recent files), data (recovery copies), logs and cache.

One place decides where ModStudio writes on a user's machine, through appdirs, and one
environment variable per folder overrides it (tests, portable installs, a cluster node with a
read-only home):

========  ==========================  =============================================
folder    override                    default on Linux (appdirs picks per platform)
========  ==========================  =============================================
config    ``MODSTUDIO_CONFIG_DIR``    ``~/.config/modstudio``
data      ``MODSTUDIO_DATA_DIR``      ``~/.local/share/ModStudio``
logs      ``MODSTUDIO_LOG_DIR``       ``~/.cache/ModStudio/log``
cache     ``MODSTUDIO_CACHE_DIR``     ``~/.cache/ModStudio``
========  ==========================  =============================================

The config folder is named ``modstudio`` and the others ``ModStudio`` for historical reasons (the
settings shipped first); renaming would orphan users' settings or recovery copies, so it stays.
Headless: imports neither Qt nor torch.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "MODSTUDIO_CONFIG_DIR"
DATA_ENV = "MODSTUDIO_DATA_DIR"
LOG_ENV = "MODSTUDIO_LOG_DIR"
CACHE_ENV = "MODSTUDIO_CACHE_DIR"

APP_NAME = "ModStudio"


def _folder(env: str, default, create: bool) -> Path:
    override = os.environ.get(env)
    path = Path(override).expanduser() if override else Path(default())
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _appdirs():
    import appdirs  # small, but only needed when no override is set

    return appdirs


def config_dir(create: bool = True) -> Path:
    """Settings and recent files (created on demand, as the settings always were)."""
    return _folder(CONFIG_ENV, lambda: _appdirs().user_config_dir("modstudio", appauthor=False), create)


def data_dir(create: bool = False) -> Path:
    """Recovery copies and other files the user would miss if they vanished."""
    return _folder(DATA_ENV, lambda: _appdirs().user_data_dir(APP_NAME), create)


def log_dir(create: bool = True) -> Path:
    """Rotating log files (see ``modstudio.logs``)."""
    return _folder(LOG_ENV, lambda: _appdirs().user_log_dir(APP_NAME), create)


def cache_dir(create: bool = True) -> Path:
    """Files that can be rebuilt at any time (downloads, previews)."""
    return _folder(CACHE_ENV, lambda: _appdirs().user_cache_dir(APP_NAME), create)


def all_dirs() -> dict[str, Path]:
    """Every folder by name, without creating any (for ``--version``-style reports and the crash dialog)."""
    return {"config": config_dir(create=False), "data": data_dir(create=False),
            "logs": log_dir(create=False), "cache": cache_dir(create=False)}
