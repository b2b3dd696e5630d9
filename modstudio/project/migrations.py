"""Format versions and the ordered migrations that bring an old project.json up to date.

``MIGRATIONS[v]`` turns a format-``v`` document into format ``v + 1``; loading applies them in
order from the file's version to :data:`FORMAT_VERSION`, then validates the result with the
current schema. A file from a newer ModStudio is refused, naming both versions, rather than
half-read. To change the format: bump FORMAT_VERSION, add ``MIGRATIONS[old]``, add a fixture
file of the old format to the tests.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from modstudio import __version__
from modstudio.project.errors import ProjectFileError

FORMAT_VERSION = 2
OLDEST_FORMAT = 1  # the oldest format a migration chain starts from

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Format 2: replay's ``buffer_size`` is the ``memory`` every memory strategy shares, and a run
    records its exemplar memory (``memory``: null for runs from before)."""
    _rename_buffer_size(doc.get("settings"))
    runs = doc.get("runs")
    for run in runs if isinstance(runs, list) else []:
        if isinstance(run, dict):
            run.setdefault("memory", None)
            _rename_buffer_size(run.get("settings"))
    return doc


def _rename_buffer_size(settings: Any) -> None:
    if not isinstance(settings, dict) or settings.get("strategy") != "replay":
        return
    params = settings.get("strategy_params")
    if isinstance(params, dict) and "buffer_size" in params and "memory" not in params:
        params["memory"] = params.pop("buffer_size")  # both named: left for the schema to refuse


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}


def file_version(data: Any) -> int:
    """The file's integer format_version, read before anything else is trusted."""
    if not isinstance(data, dict):
        raise ProjectFileError("project.json: top level: expected an object")
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectFileError(f"project.json: format_version: expected an integer, found {version!r}")
    return version


def migrate(
    data: dict[str, Any],
    migrations: dict[int, Migration] | None = None,
    current: int | None = None,
    oldest: int | None = None,
) -> dict[str, Any]:
    """Bring ``data`` to the ``current`` format, one migration at a time, in version order."""
    migrations = MIGRATIONS if migrations is None else migrations
    current = FORMAT_VERSION if current is None else current
    oldest = min([OLDEST_FORMAT, *migrations]) if oldest is None else oldest
    version = file_version(data)
    if version > current:
        written_by = data.get("app_version")
        by = f" (ModStudio {written_by})" if isinstance(written_by, str) and len(written_by) < 40 else ""
        raise ProjectFileError(
            f"this file was written by format {version}{by}; this ModStudio ({__version__}) reads up to "
            f"format {current} — update ModStudio to open it"
        )
    if version < oldest:
        raise ProjectFileError(f"format {version} is older than any this ModStudio can read (oldest: {oldest})")
    if version < current:  # steps may edit in place; the caller's document stays as it was
        data = copy.deepcopy(data)  # (bounded: read_json refused deep or huge documents already)
    while version < current:
        step = migrations.get(version)
        if step is None:
            raise ProjectFileError(f"no migration from format {version} to {version + 1}")
        try:
            data = step(data)
        except ProjectFileError:
            raise
        except Exception as exc:  # a migration meets untrusted data: any failure is a bad file
            raise ProjectFileError(f"cannot migrate from format {version}: {type(exc).__name__}: {exc}") from None
        version += 1
        data["format_version"] = version
    return data
