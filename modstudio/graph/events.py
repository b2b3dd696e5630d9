"""Typed, per-event emitters: a model tells its views what changed, without knowing any view.

In the style of ryvencore's ``Event``: a model owns one :class:`Event` per kind of change, each
declared with the types of its payload, and a view connects one named slot to each event it
shows (``graph.events.node_moved.connect(self._on_graph_node_moved)``). Events are past-tense
snake_case and fire only on a real change. Pure Python: the GUI wraps nothing, it connects.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

Slot = Callable[..., None]


class Event:
    """One kind of change. ``emit(*payload)`` calls every connected slot in connection order;
    the payload is checked against the declared types, so a wrong emit fails where it is made."""

    __slots__ = ("name", "types", "_slots")

    def __init__(self, *types: type | tuple[type, ...], name: str = "") -> None:
        self.name = name
        self.types = types
        self._slots: list[Slot] = []

    def connect(self, slot: Slot) -> Callable[[], None]:
        """Call ``slot(*payload)`` on every emit; returns a function that disconnects it."""
        self._slots.append(slot)
        return lambda: self.disconnect(slot)

    def disconnect(self, slot: Slot) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *payload: Any) -> None:
        if len(payload) != len(self.types) or not all(map(isinstance, payload, self.types)):
            raise TypeError(f"{self.name} carries ({', '.join(map(_type_name, self.types))}), "
                            f"got ({', '.join(type(p).__name__ for p in payload)})")
        for slot in list(self._slots):
            slot(*payload)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._slots)} slot(s))"


class EventGroup:
    """The events of one model, declared once as class attributes holding payload types::

        class GraphEvents(EventGroup):
            node_added = (str,)          # node id
            edge_removed = (Edge,)

    Each instance gets its own :class:`Event` per declaration, so two graphs never share slots.
    """

    def __init__(self) -> None:
        for name, types in self.declared().items():
            setattr(self, name, Event(*types, name=name))

    @classmethod
    def declared(cls) -> dict[str, tuple]:
        out: dict[str, tuple] = {}
        for klass in reversed(cls.__mro__):
            out.update({k: v for k, v in vars(klass).items() if not k.startswith("_") and isinstance(v, tuple)})
        return out

    def __iter__(self) -> Iterator[Event]:
        return (getattr(self, name) for name in self.declared())

    def connect_all(self, slot: Callable[[str, tuple], None]) -> Callable[[], None]:
        """``slot(event_name, payload)`` for every event of the group (logs, tests, autosave marks)."""
        undo = [event.connect(lambda *payload, n=event.name: slot(n, payload)) for event in self]

        def disconnect() -> None:
            for fn in undo:
                fn()

        return disconnect


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return " | ".join(_type_name(x) for x in t)
    return "None" if t is type(None) else t.__name__


OPTIONAL_STR = (str, type(None))
ANY = object
