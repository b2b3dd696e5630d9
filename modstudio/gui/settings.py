"""Per-user settings (window layout, recent files, the folders file dialogs start in) in the
per-user config folder.

QSettings is pointed at an INI file inside the appdirs config folder, so the layout survives
launches on every platform and tests can redirect everything with ``MODSTUDIO_CONFIG_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from modstudio import user_dirs

CONFIG_ENV = user_dirs.CONFIG_ENV
MAX_RECENT = 10


def config_dir() -> Path:
    """The per-user config folder (created on demand); the environment variable wins."""
    return user_dirs.config_dir(create=True)


def studio_settings() -> QSettings:
    return QSettings(str(config_dir() / "studio.ini"), QSettings.Format.IniFormat)


def recent_files() -> list[str]:
    """Most recent first; files that no longer exist are dropped when read."""
    value = studio_settings().value("files/recent", [])
    if isinstance(value, str):  # QSettings returns a bare string for a one-item list
        value = [value]
    return [p for p in (value or []) if isinstance(p, str) and Path(p).exists()]


def add_recent_file(path: str | os.PathLike) -> list[str]:
    path = str(Path(path).resolve())
    files = [path] + [p for p in recent_files() if p != path]
    files = files[:MAX_RECENT]
    settings = studio_settings()
    settings.setValue("files/recent", files)
    settings.sync()
    return files


def clear_recent_files() -> None:
    settings = studio_settings()
    settings.setValue("files/recent", [])
    settings.sync()


def last_folder(kind: str) -> str:
    """Where a file dialog for ``kind`` ("projects", "data", "exports") starts: the folder last
    used for that kind, else the one last used by any dialog, else the home folder; only folders
    that still exist."""
    store = studio_settings()
    for key in (f"folders/{kind}", "folders/last"):
        value = store.value(key, "")
        if isinstance(value, str) and value and Path(value).is_dir():
            return value
    return str(Path.home())


def remember_folder(kind: str, chosen: str | os.PathLike) -> None:
    """A dialog returned ``chosen`` (a file, or a folder picked as a whole): next time, dialogs
    start in the folder that holds it."""
    folder = str(Path(chosen).absolute().parent)
    store = studio_settings()
    store.setValue(f"folders/{kind}", folder)
    store.setValue("folders/last", folder)
    store.sync()
