"""Tasks in and out of the archive: embedded as ``data/<index>.npz`` or kept as a rebuild recipe.

Small tasks travel inside the file so a colleague can open it anywhere; big ones keep only
their ``origin`` (the data layer's JSON recipe) and fingerprint, and are rebuilt on load. If a
rebuilt task's fingerprint differs (the source changed), the project still opens with the
rebuilt data and a warning in ``project.warnings`` — or, with ``strict=True``, is refused.
"""

from __future__ import annotations

from typing import Any, Callable

from modstudio.project import npz
from modstudio.project.errors import ProjectFileError
from modstudio.project.limits import MiB, Limits
from modstudio.project.schema import TaskEntry

AUTO_EMBED_BYTES = 50 * MiB


def data_member(index: int) -> str:
    return f"data/{index}.npz"


def should_embed(task: Any, mode: str, limit: int | None = None) -> bool:
    """"always" embeds, "never" only when the task cannot be rebuilt, "auto" also when small."""
    if mode == "always" or task.origin is None:
        return True
    if mode == "never":
        return False
    return sum(a.nbytes for a in task.arrays().values()) <= (AUTO_EMBED_BYTES if limit is None else limit)


def encode_task(task: Any, embed: bool) -> dict[str, Any]:
    """The project.json entry for ``task`` (its arrays go to ``data_member(index)`` when embedded)."""
    return {"meta": task.to_dict(), "embedded": embed, "origin": task.origin, "fingerprint": task.fingerprint}


def decode_task(
    entry: TaskEntry, index: int, read: Callable[[str], bytes], limits: Limits, strict: bool,
    warnings: list[str],
) -> Any:
    """A Task from its entry; ProjectFileError naming the task for any problem."""
    from modstudio.data import DataError, Task

    label = f"tasks[{index}]"
    if entry.embedded:
        member = data_member(index)
        arrays = npz.decode(read(member), member, limits)
        try:
            task = Task.from_dict(entry.meta, arrays)
        except DataError as exc:
            raise ProjectFileError(f"{label} ({member}): {exc}") from None
        if task.fingerprint != entry.fingerprint:
            raise ProjectFileError(f"{label}: embedded data does not match the recorded fingerprint")
        return task
    return _rebuild(entry, label, strict, warnings)


def _rebuild(entry: TaskEntry, label: str, strict: bool, warnings: list[str]) -> Any:
    from modstudio.data import DataError, Task, rebuild_task

    try:
        rebuilt = rebuild_task(entry.origin)
    except Exception as exc:  # the recipe is untrusted and its source may be gone
        raise ProjectFileError(f"{label}: cannot rebuild the task from its source {entry.origin!r:.200}: "
                               f"{exc}") from None
    name = entry.meta.get("name", rebuilt.name)
    if rebuilt.fingerprint != entry.fingerprint:
        message = (f"task {name!r:.80}: its source data changed since the project was saved "
                   f"(fingerprint {entry.fingerprint[:12]} → {rebuilt.fingerprint[:12]}); "
                   "earlier runs' results may not be comparable")
        if strict:
            raise ProjectFileError(message)
        warnings.append(message)
        return rebuilt
    try:  # restore what the recipe does not hold (the user's name for the task)
        return Task.from_dict({**entry.meta, "fingerprint": rebuilt.fingerprint}, rebuilt.arrays())
    except DataError as exc:
        raise ProjectFileError(f"{label}: {exc}") from None
