"""Small drivers for the real widgets: add nodes through commands, press and drag on the view; and a
trainer that runs in the test's own process."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from modstudio.graph.commands import AddNode, Connect


def add(window, kind: str, pos=(0.0, 0.0), **params) -> str:
    command = AddNode(kind, pos=pos, **params)
    assert window.document.push(command) is None
    return command.node_id


def connect(window, src: str, dst: str) -> None:
    assert window.document.push(Connect(src, dst)) is None


def chain(window, *specs) -> list[str]:
    """Nodes left to right, each fed by the one before: ``chain(w, ("input", {"shape": [4]}), ...)``."""
    ids = []
    for i, (kind, params) in enumerate(specs):
        ids.append(add(window, kind, pos=(i * 240.0, 0.0), **params))
        if i:
            connect(window, ids[-2], ids[-1])
    window.view.fit()
    return ids


def view_pos(window, scene_pos: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_pos)


def port(window, node_id: str, which: str) -> QPoint:
    return view_pos(window, window.scene.nodes[node_id].port_scene_pos(which))


def centre(window, node_id: str) -> QPoint:
    return view_pos(window, window.scene.nodes[node_id].sceneBoundingRect().center())


def drag(window, start: QPoint, end: QPoint, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    viewport = window.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, end)


def click(window, at: QPoint, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, at)


def in_process_trainer(graph, tasks, settings, callbacks, threads):
    """A ``trainer_factory`` for ``window.training``: the run on ``modstudio.learn.trainer.Trainer`` in a
    thread of this process, without a training process (nor its start-up). ``threads`` is left to torch."""
    from modstudio.learn.trainer import Trainer

    trainer = Trainer(graph, tasks, settings, callbacks)
    trainer.kill = lambda: None  # no process to end: stop() is all a run in this process gets
    return trainer
