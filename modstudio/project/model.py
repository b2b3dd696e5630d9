"""The Project of the public API: graph, tasks, training settings and run history, evented.

Every real change tells the project's views through a typed event in ``project.events`` (and
the graph's own in ``project.graph.events``): the task list and the run history are lists that
announce insertions, removals and replacements; name and settings announce a new value. No file
logic here (see ``saving``/``loading``); equality is defined so a saved and reloaded project
compares equal, weights included bit for bit.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from pathlib import Path
from typing import Any, Iterable

from modstudio.graph import Graph
from modstudio.graph.events import ANY, Event, EventGroup
from modstudio.project.run import Run, new_id
from modstudio.project.settings import TrainingSettings


class ProjectEvents(EventGroup):
    """What a project tells its views (the graph's changes are in ``project.graph.events``)."""

    name_changed = (str,)
    settings_changed = (TrainingSettings, TrainingSettings)  # new, old
    task_added = (int, ANY)  # index, task
    task_removed = (int, ANY)
    task_replaced = (int, ANY, ANY)  # index, new task, old task
    run_added = (int, Run)
    run_removed = (int, Run)
    run_replaced = (int, Run, Run)


class EventedList(MutableSequence):
    """A list that tells ``added(index, item)``, ``removed(index, item)`` and
    ``replaced(index, new, old)`` after each change; compares equal to a list of the same items."""

    def __init__(self, items: Iterable[Any], added: Event, removed: Event, replaced: Event) -> None:
        self._items = list(items)
        self._added, self._removed, self._replaced = added, removed, replaced

    def __getitem__(self, index):
        return self._items[index]  # a slice gives a plain list

    def __setitem__(self, index, value) -> None:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._items))
            if step != 1:
                raise ValueError("extended slice assignment is not supported")
            for _ in range(start, max(start, stop)):
                del self[start]
            for offset, item in enumerate(list(value)):
                self.insert(start + offset, item)
            return
        index = self._index(index)
        old = self._items[index]
        if old is not value:
            self._items[index] = value
            self._replaced.emit(index, value, old)

    def __delitem__(self, index) -> None:
        if isinstance(index, slice):
            for i in sorted(range(*index.indices(len(self._items))), reverse=True):
                del self[i]
            return
        index = self._index(index)
        item = self._items.pop(index)
        self._removed.emit(index, item)

    def insert(self, index: int, value: Any) -> None:
        index = max(0, min(len(self._items), index if index >= 0 else len(self._items) + index))
        self._items.insert(index, value)
        self._added.emit(index, value)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventedList):
            return self._items == other._items
        if isinstance(other, list):
            return self._items == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"EventedList({self._items!r})"

    def _index(self, index: int) -> int:
        n = len(self._items)
        if not -n <= index < n:
            raise IndexError("list index out of range")
        return index % n

    def reset(self, items: Iterable[Any]) -> None:
        """Replace the whole content (each removal and insertion is told)."""
        self[:] = list(items)


class Project:
    """Everything a user saves: graph, tasks, training settings and run history."""

    def __init__(self, name: str, graph: Graph | None = None, tasks: Iterable[Any] = (),
                 settings: TrainingSettings | None = None, runs: Iterable[Run] = (), id: str | None = None,
                 warnings: Iterable[str] = ()) -> None:
        self.events = ProjectEvents()
        self._name = _name(name)
        self._graph = graph if graph is not None else Graph()
        e = self.events
        self._tasks = EventedList(tasks, e.task_added, e.task_removed, e.task_replaced)  # modstudio.data.Task
        self._settings = _settings(settings if settings is not None else TrainingSettings())
        self._runs = EventedList(runs, e.run_added, e.run_removed, e.run_replaced)
        self.id = id or new_id()  # names the recovery copy; stays across saves
        self.warnings = list(warnings)  # from the last load; not saved

    @classmethod
    def new(cls, name: str) -> "Project":
        return cls(name=name)

    # ------------------------------------------------------------------ evented parts

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        value = _name(value)
        if value != self._name:
            self._name = value
            self.events.name_changed.emit(value)

    @property
    def graph(self) -> Graph:
        """The network the user draws; replaced only while nothing listens (building a project)."""
        return self._graph

    @graph.setter
    def graph(self, graph: Graph) -> None:
        if not isinstance(graph, Graph):
            raise TypeError(f"a project's graph must be a Graph, not {type(graph).__name__}")
        self._graph = graph

    @property
    def tasks(self) -> EventedList:
        return self._tasks

    @tasks.setter
    def tasks(self, tasks: Iterable[Any]) -> None:
        self._tasks.reset(tasks)

    @property
    def runs(self) -> EventedList:
        return self._runs

    @runs.setter
    def runs(self, runs: Iterable[Run]) -> None:
        self._runs.reset(runs)

    @property
    def settings(self) -> TrainingSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: TrainingSettings) -> None:
        settings = _settings(settings)
        if settings != self._settings:
            old, self._settings = self._settings, settings
            self.events.settings_changed.emit(settings, old)

    def configure(self, **changes: Any) -> TrainingSettings:
        """Change training settings by name (each checked: SettingsError names a bad one)."""
        self.settings = self._settings.replace(**changes)
        return self._settings

    # ------------------------------------------------------------------ files

    def save(self, path: str | Path, *, backup: bool = True) -> Path:
        """Write atomically to ``path`` (keeping the previous file as ``path~``); returns the path."""
        from modstudio.project.saving import save_project

        return save_project(self, path, backup=backup)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Project):
            return NotImplemented
        return (
            self.name == other.name
            and self.id == other.id
            and self.graph.to_dict() == other.graph.to_dict()
            and [_task_key(t) for t in self.tasks] == [_task_key(t) for t in other.tasks]
            and self.settings == other.settings
            and list(self.runs) == list(other.runs)
        )

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"Project({self.name!r}, {len(self.graph.nodes)} nodes, {len(self.tasks)} tasks, {len(self.runs)} runs)"


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a project's name must be text, not {type(value).__name__}")
    return value


def _settings(value: Any) -> TrainingSettings:
    if not isinstance(value, TrainingSettings):
        raise TypeError(f"a project's settings must be TrainingSettings, not {type(value).__name__}")
    return value


def _task_key(task: Any) -> tuple:
    return (task.fingerprint, task.to_dict())
