"""Checking importer arguments: every option is untrusted input, checked up front, and each
refusal names the argument (shown cut short, whatever its size).

Also how checked options are recorded in a dataset's ``origin`` (saved as JSON).
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import numpy as np

from modstudio.data.errors import DataError
from modstudio.data.importers.files import MAX_BYTES

MAX_OPTION_CHARS = 1000
"""Longest string option (a dataset name, an array key, a label column's name)."""


def _limit(options: dict) -> int:
    limit = options.pop("max_bytes", MAX_BYTES)
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit <= 0:
        raise DataError(f"max_bytes must be a positive integer, got {_show(limit)}")
    return int(limit)


def _refuse_unknown(options: dict, fmt: str) -> None:
    if options:
        raise DataError(f"unknown option(s) for {fmt} import: {sorted(map(str, options))}")


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 80
_REPR.maxlist = _REPR.maxtuple = 8


def _show(value: Any) -> str:
    """A value in a message, cut short: an argument may be anything, of any size."""
    if not isinstance(value, (str, bytes, int, float, bool, type(None), np.generic, tuple, list)):
        return f"a {type(value).__name__}"
    try:
        return _REPR.repr(value)
    except ValueError:  # repr() of an int with thousands of digits
        return f"a {type(value).__name__} too large to show"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _bool_option(value: Any, name: str, allow_none: bool = False) -> bool | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        choices = "True, False or None" if allow_none else "True or False"
        raise DataError(f"{name} must be {choices}, got {_show(value)}")
    return bool(value)


def _text_option(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise DataError(f"{name} must be a non-empty string, got {_show(value)}")
    if len(value) > MAX_OPTION_CHARS:
        raise DataError(f"{name} is {len(value):,} characters long, over the limit of {MAX_OPTION_CHARS:,}")
    return value


def _user_path(value: Any, what: str) -> Path:
    """A path argument as a Path; a DataError for anything that cannot name a file."""
    if not isinstance(value, (str, Path)):
        raise DataError(f"{what} must be a string or Path, got {type(value).__name__}")
    text = str(value)
    if not text:
        raise DataError(f"{what} is empty")
    if "\x00" in text:
        raise DataError(f"{what} {_show(text)} contains a NUL character")
    try:
        return Path(value).expanduser()
    except RuntimeError as exc:  # '~someone' with no such user, or no home folder
        raise DataError(f"{what} {_show(text)}: cannot expand '~' ({exc})") from None


def _absolute(p: Path) -> str:
    try:
        return str(p.resolve())
    except (OSError, RuntimeError, ValueError):
        return str(p.absolute())


def _jsonable(value: Any) -> Any:
    """Options go into ``origin`` (saved as JSON): tuples become lists, paths become strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return _absolute(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
