"""Tasks in and out of the archive: embedded as ``data/<index>.npz`` or kept as a rebuild recipe.

Small tasks travel inside the file so a colleague can open it anywhere; big ones keep only
their ``origin`` (the data layer's JSON recipe) and fingerprint, and are rebuilt on load. If a
rebuilt task's fingerprint differs (the source changed), the project still opens with the
rebuilt data and a warning in ``project.warnings`` — or, with ``strict=True``, is refused.

A recipe is untrusted: one that names a file (``{"dataset": {"path": …}}``) is followed only
with the user's consent (:func:`external_files`, ``load_project(allow_external_data=…)``),
since otherwise opening a project sent by someone else would read, and the next save embed,
any file the sender chose. Rebuilding stays within the default import limit
(``modstudio.data.MAX_BYTES``; a recipe's own ``max_bytes`` cannot raise it) and within
``Limits.max_generated_bytes`` for built-in generators.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

import numpy as np

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


_CHECKED: "weakref.WeakKeyDictionary[Any, tuple[list, dict, str]]" = weakref.WeakKeyDictionary()


def check_task(task: Any, entry: TaskEntry, label: str) -> None:
    """Save side: the loader's checks on ``task`` as ``entry`` (the parsed project.json) describes it.

    The arrays must make a valid task with this metadata (no NaN or infinity, labels in range,
    shapes that match) whose fingerprint is the recorded one, so a task whose arrays were changed
    behind its back is never written into a file that load would refuse. Arrays that are all
    read-only, as the data layer makes them, still hold the values it checked and computed the
    fingerprint from: only the metadata is checked then (against one sample of each split), with
    no pass over the data. A writable array (unlocked, or a writable one swapped in) gets the full
    check, the fingerprint computed afresh. A task passes once for its arrays: while they are the
    same read-only arrays and its metadata the same, later saves (autosave) skip the work.
    """
    from modstudio.data import DataError, Task
    from modstudio.project.mapping import check_mapped

    arrays = task.arrays()
    check_mapped(arrays.values())  # data mapped from a file: the file unchanged, its CRC-32 right
    try:
        known = _CHECKED.get(task)
    except TypeError:  # not weak-referenceable: check every time
        known = None
    if known is not None and known[1] == entry.meta and known[2] == entry.fingerprint and len(known[0]) == len(arrays) \
            and all(ref() is a and not a.flags.writeable for ref, a in zip(known[0], arrays.values())):
        return
    trusted = all(isinstance(a, np.ndarray) and not a.flags.writeable for a in arrays.values())
    meta = entry.meta
    if trusted:  # the metadata against one sample per split; the fingerprint is the task's own
        arrays = {key: a[:1] for key, a in arrays.items()}
        meta = {k: v for k, v in meta.items() if k != "fingerprint"}
    try:  # the full check recomputes the fingerprint from the arrays and compares it with the metadata's
        again = Task.from_dict(meta, arrays)
    except DataError as exc:
        raise ProjectFileError(f"{label}: {exc}") from None
    if not trusted and again.fingerprint != entry.fingerprint:
        raise ProjectFileError(f"{label}: its data does not match its recorded fingerprint")
    try:
        _CHECKED[task] = ([weakref.ref(a) for a in task.arrays().values()], entry.meta, entry.fingerprint)
    except TypeError:
        pass


def external_files(entries: Sequence[TaskEntry]) -> list[tuple[int, str]]:
    """(task index, file) for every file outside the archive that rebuilding the tasks would read."""
    from modstudio.data.rebuild import source_files

    return [(i, f) for i, entry in enumerate(entries) if not entry.embedded for f in source_files(entry.origin)]


def decode_task(
    entry: TaskEntry, index: int, read: Callable[[str], Any], limits: Limits, strict: bool,
    warnings: list[str],
) -> Any:
    """A Task from its entry; ProjectFileError naming the task for any problem.

    ``read(member)`` gives an embedded member's bytes (``ArchiveReader.read_buffer``: checked
    against its CRC-32). A recipe that names files must have been allowed by the caller (see
    ``external_files``)."""
    from modstudio.data import DataError, Task

    label = f"tasks[{index}]"
    if entry.embedded:
        member = data_member(index)
        if entry.meta.get("fingerprint", entry.fingerprint) != entry.fingerprint:
            raise ProjectFileError(f"{label}: its entry records two different fingerprints")
        arrays = npz.decode(read(member), member, limits)
        try:  # every check but the fingerprint's: the member's CRC-32 vouched for these bytes
            task = Task.from_dict({k: v for k, v in entry.meta.items() if k != "fingerprint"}, arrays)
        except DataError as exc:
            raise ProjectFileError(f"{label} ({member}): {exc}") from None
        _known_fingerprint(task, entry.fingerprint)
        return task
    return _rebuild(entry, label, strict, warnings, limits)


def _known_fingerprint(task: Any, fingerprint: str) -> None:
    """Give a loaded task the fingerprint its file records instead of hashing its data again.

    The writer computed it from these very bytes, and the member's CRC-32 (checked as it was read)
    says they arrived unchanged; a file that lies about it misleads only itself (its tasks compare
    unequal to a rebuild). Seeds the data layer's cache: if that ever changes, the fingerprint is
    simply computed when first asked for.
    """
    if getattr(task, "_fingerprint", "") is None:
        task._fingerprint = fingerprint


def _rebuild(entry: TaskEntry, label: str, strict: bool, warnings: list[str], limits: Limits) -> Any:
    from modstudio.data import MAX_BYTES, DataError, Task, rebuild_task

    try:
        rebuilt = rebuild_task(entry.origin, max_bytes=MAX_BYTES, max_generated_bytes=limits.max_generated_bytes,
                               normalize=entry.meta.get("normalize"))  # the saved mean/sd, applied again
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
