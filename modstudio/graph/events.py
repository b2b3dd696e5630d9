"""Plain model events: the graph tells its views what changed, without knowing any view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

Listener = Callable[["GraphEvent"], None]


@dataclass(frozen=True)
class GraphEvent:
    """One real change. ``name`` is past-tense snake_case (``node_added``, ``edge_removed`` …)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


class EventEmitter:
    """A minimal publish/subscribe list; listeners are called in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; returns a function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event_name: str, /, **data: Any) -> None:
        event = GraphEvent(event_name, data)
        for listener in list(self._listeners):
            listener(event)
