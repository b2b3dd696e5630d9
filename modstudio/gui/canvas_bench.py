"""Canvas speed figures for ``modstudio bench``: how long a big graph takes to open, how long one
pan or zoom frame takes to paint, and, in the studio's window, how long a select-all and one frame
of dragging every node take. Runs offscreen when there is no display."""

from __future__ import annotations

import os
import time


def big_graph(n_nodes: int = 1000):
    """A valid network of ``n_nodes`` modules and as many edges: a long chain of dense layers with
    one residual connection, laid out in rows so the canvas has a wide, realistic spread."""
    from modstudio.graph import Graph
    from modstudio.graph.layout import LAYER_SPACING, ROW_SPACING

    g = Graph()
    per_row = 25
    cycle = ("linear", "relu", "layernorm", "dropout")

    def pos(i: int) -> tuple[float, float]:
        return ((i % per_row) * LAYER_SPACING, (i // per_row) * ROW_SPACING)

    ids = [g.add_node("input", shape=[64], pos=pos(0))]
    for i in range(1, n_nodes - 1):
        kind = "add" if i == n_nodes // 2 else cycle[i % 4]
        params = {"out_features": 64} if kind == "linear" else {}
        ids.append(g.add_node(kind, pos=pos(i), **params))
        g.connect(ids[-2], ids[-1])
        if kind == "add":
            g.connect(ids[-4], ids[-1])  # the residual: n - 1 chain edges + 1 = n edges
    ids.append(g.add_node("head", classes=10, pos=pos(n_nodes - 1)))
    g.connect(ids[-2], ids[-1])
    return g


def bench_canvas(n_nodes: int = 1000, frames: int = 20) -> dict:
    """Seconds to build and first-paint the scene for an ``n_nodes`` graph, and the mean frame time
    of panning and of zooming (each frame repaints the viewport synchronously)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from modstudio.gui.canvas.scene import GraphScene
    from modstudio.gui.canvas.view import CanvasView
    from modstudio.gui.document import Document
    from modstudio.project import Project

    app = QApplication.instance() or QApplication([])
    graph = big_graph(n_nodes)
    project = Project.new("bench")
    project.graph = graph

    t0 = time.perf_counter()
    document = Document(project)
    scene = GraphScene(document)
    view = CanvasView(scene)
    view.resize(1400, 900)
    view.show()
    view.set_zoom(1.0)
    view.centerOn(scene.nodes_rect().center())
    view.viewport().repaint()
    app.processEvents()
    open_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in range(frames):
        bar = view.horizontalScrollBar()
        bar.setValue(bar.value() + (25 if i % 2 == 0 else -20))
        view.viewport().repaint()
    pan_s = (time.perf_counter() - t0) / frames

    t0 = time.perf_counter()
    for i in range(frames):
        view.zoom_by(1.1 if i % 2 == 0 else 1 / 1.1)
        view.viewport().repaint()
    zoom_s = (time.perf_counter() - t0) / frames

    view.fit()
    t0 = time.perf_counter()
    view.viewport().repaint()
    overview_s = time.perf_counter() - t0

    result = {
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "open_s": round(open_s, 4),
        "check_s": None,
        "pan_frame_ms": round(pan_s * 1000, 2),
        "zoom_frame_ms": round(zoom_s * 1000, 2),
        "overview_frame_ms": round(overview_s * 1000, 2),
    }
    t0 = time.perf_counter()
    document.recheck()
    result["check_s"] = round(time.perf_counter() - t0, 4)
    view.close()
    view.deleteLater()
    scene.deleteLater()
    app.processEvents()
    return result


def bench_canvas_editing(n_nodes: int = 200, frames: int = 30) -> dict:
    """In the studio's window (inspector, menus and every other listener of the selection attached):
    seconds for Select All over an ``n_nodes`` graph, painted, and the median time of one frame of
    dragging all of them with the mouse (a move event, its handling, and a synchronous repaint),
    at 100 % zoom and fitted. The drag must end as one undo step."""
    import math
    import statistics

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from modstudio.gui.canvas.scene import GRID
    from modstudio.gui.main_window import MainWindow
    from modstudio.gui.training.devices import DeviceCombo
    from modstudio.project import Project

    app = QApplication.instance() or QApplication([])
    project = Project.new("bench")
    project.graph = big_graph(n_nodes)
    window = MainWindow(project)
    window.files.autosave_timer.stop()  # a bench writes no recovery copy
    for combo in window.findChildren(DeviceCombo):
        combo.listed = True  # nor starts a training process to list the GPUs
    window.resize(1440, 900)
    window.show()
    view, scene, stack = window.view, window.scene, window.document.undo_stack
    viewport = view.viewport()
    for _ in range(5):
        app.processEvents()
    left, no = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def select_all() -> float:
        scene.clearSelection()
        app.processEvents()
        t0 = time.perf_counter()
        window.select_all_action.trigger()
        app.processEvents()
        viewport.repaint()
        return time.perf_counter() - t0

    def drag() -> float:
        centre = view.centre_scene_pos()
        item = min(scene.nodes.values(), key=lambda i: (i.sceneBoundingRect().center() - centre).manhattanLength())
        start = view.mapFromScene(item.sceneBoundingRect().center())
        index = stack.index()
        step = math.ceil(GRID * view.zoom * 1.05)  # one grid step a frame: every frame moves the nodes
        QTest.mousePress(viewport, left, no, start)
        times = []
        for i in range(1, frames + 1):
            t0 = time.perf_counter()
            QTest.mouseMove(viewport, start + QPoint(step * i, step * i // 2))
            app.processEvents()
            viewport.repaint()
            times.append(time.perf_counter() - t0)
        QTest.mouseRelease(viewport, left, no, start + QPoint(step * frames, step * frames // 2))
        app.processEvents()
        if stack.index() != index + 1 or len(scene.selected_node_ids()) != n_nodes:
            raise RuntimeError("the drag did not move every node as one undo step")
        return statistics.median(times)

    result = {"editing_nodes": len(project.graph.nodes)}
    for label, place in (("100", lambda: (view.set_zoom(1.0), view.centerOn(scene.nodes_rect().center()))),
                         ("fit", view.fit)):
        place()
        app.processEvents()
        result[f"select_all_ms_{label}"] = round(min(select_all() for _ in range(3)) * 1000, 2)
        result[f"drag_frame_ms_{label}"] = round(drag() * 1000, 2)
    result["editing_goal"] = "select_all_ms < 100, drag_frame_ms < 16"
    window.hide()
    window.deleteLater()
    app.processEvents()
    return result


def bench_startup(runs: int = 5, timeout: float = 120.0) -> dict:
    """Seconds from spawning ``python -m modstudio`` to its window shown, offscreen, on a first run
    (no settings, so the welcome page shows): the median of ``runs`` launches after one warm-up.

    The warm-up may write the bytecode cache (as ``pip install`` does at install time), so the
    median is what a user sees on an installed studio; it is reported separately too. Each child
    prints when its window is exposed (``MODSTUDIO_SMOKE_TEST``, see ``modstudio.gui.app``).
    """
    import statistics
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from modstudio.gui.app import SMOKE_ENV, SMOKE_PREFIX

    with tempfile.TemporaryDirectory(prefix="modstudio-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update({SMOKE_ENV: "1", "QT_QPA_PLATFORM": "offscreen"})
        for name in ("CONFIG", "DATA", "LOG", "CACHE"):
            env[f"MODSTUDIO_{name}_DIR"] = str(Path(tmp) / name.lower())

        def launch() -> tuple[float, dict]:
            start = time.time()
            done = subprocess.run([sys.executable, "-m", "modstudio"], env=env, capture_output=True, text=True,
                                  timeout=timeout)
            line = next((ln for ln in done.stdout.splitlines() if ln.startswith(SMOKE_PREFIX)), None)
            if done.returncode != 0 or line is None:
                raise RuntimeError(f"the studio did not start (exit {done.returncode}): {done.stderr[-500:]}")
            fields = dict(part.split("=", 1) for part in line.split()[1:])
            return float(fields["window_shown"]) - start, fields

        first, _ = launch()
        times, fields = [], {}
        for _ in range(max(1, runs)):
            seconds, fields = launch()
            times.append(seconds)
    median = statistics.median(times)
    return {
        "runs": len(times),
        "window_shown_median_s": round(median, 3),
        "window_shown_min_s": round(min(times), 3),
        "first_launch_s": round(first, 3),
        "torch_imported_at_start": fields.get("torch_loaded") == "1",
        "goal": "window_shown_median_s < 1.5",
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps({**bench_canvas(), **bench_canvas_editing()}, indent=2))
