"""Log files: ``modstudio.log`` in the per-user log folder, rotated by size so it never grows
without bound. The studio calls :func:`setup_logging` once at start; the headless commands leave
logging to the caller (a library must not configure the root logger).

Everything ModStudio logs goes through the ``modstudio`` logger (``logging.getLogger(__name__)``
in each module); Qt's own warnings are routed here too by the GUI.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
from pathlib import Path

from modstudio import __version__, user_dirs

LOGGER_NAME = "modstudio"
LOG_FILE = "modstudio.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LEVEL_ENV = "MODSTUDIO_LOG_LEVEL"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_HANDLER_FLAG = "_modstudio_file_handler"


def log_file(folder: str | Path | None = None) -> Path:
    """Where the current log is written (the rotated ones are ``modstudio.log.1`` … ``.5``)."""
    return Path(folder) / LOG_FILE if folder is not None else user_dirs.log_dir(create=False) / LOG_FILE


def _level(level: int | str | None) -> int:
    level = level if level is not None else os.environ.get(LEVEL_ENV, "INFO")
    if isinstance(level, str):
        level = logging.getLevelName(level.strip().upper())
    return level if isinstance(level, int) else logging.INFO


def setup_logging(folder: str | Path | None = None, level: int | str | None = None,
                  max_bytes: int = MAX_BYTES, backup_count: int = BACKUP_COUNT) -> Path | None:
    """Attach one rotating file handler to the ``modstudio`` logger; returns the log file's path.

    Calling it again replaces the handler (a new folder or size takes effect). When the folder
    cannot be created (read-only home), logging stays off rather than stopping the studio, and
    None is returned.
    """
    stop_logging()
    logger = logging.getLogger(LOGGER_NAME)
    try:
        directory = Path(folder) if folder is not None else user_dirs.log_dir(create=True)
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(directory / LOG_FILE, maxBytes=max_bytes,
                                                       backupCount=backup_count, encoding="utf-8", delay=True)
    except OSError as exc:
        print(f"modstudio: logging disabled, the log folder is not writable: {exc}", file=sys.stderr)
        return None
    setattr(handler, _HANDLER_FLAG, True)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(_level(level))
    logger.info("ModStudio %s, Python %s, %s", __version__, platform.python_version(), platform.platform())
    return Path(handler.baseFilename)


def stop_logging() -> None:
    """Detach and close the file handler (tests, and before the log folder is removed)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if getattr(h, _HANDLER_FLAG, False)]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)


def recent_lines(n: int = 200, folder: str | Path | None = None) -> list[str]:
    """The last ``n`` lines of the current log (for a crash report); empty when there is none."""
    try:
        with open(log_file(folder), encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return []
