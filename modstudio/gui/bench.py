"""Canvas speed figures for ``modstudio bench``: how long a big graph takes to open, and how long
one pan or zoom frame takes to paint. Runs offscreen when there is no display."""

from __future__ import annotations

import os
import time


def big_graph(n_nodes: int = 1000):
    """A valid chain of ``n_nodes`` modules with residual adds: ``n_nodes`` nodes, ``n_nodes`` edges."""
    from modstudio.graph import Graph
    from modstudio.graph.layout import LAYER_SPACING, ROW_SPACING

    g = Graph()
    per_row = 25
    kinds = ("linear", "relu", "layernorm", "add")

    def pos(i: int) -> tuple[float, float]:
        return ((i % per_row) * LAYER_SPACING, (i // per_row) * ROW_SPACING)

    prev = g.add_node("input", shape=[64], pos=pos(0))
    ids = [prev]
    edges = 0
    skip_from = prev
    for i in range(1, n_nodes - 1):
        kind = kinds[i % 4]
        params = {"out_features": 64} if kind == "linear" else {}
        node = g.add_node(kind, pos=pos(i), **params)
        g.connect(prev, node)
        edges += 1
        if kind == "add":
            g.connect(skip_from, node)
            edges += 1
            skip_from = node
        prev = node
        ids.append(node)
    head = g.add_node("head", classes=10, pos=pos(n_nodes - 1))
    g.connect(prev, head)
    edges += 1
    # Top up (or trim nothing) so edges == nodes where the structure allows: extra skips into adds.
    adds = [n for n in ids if g.nodes[n].kind == "add"]
    k = 0
    while edges < n_nodes and k < len(adds) - 1:
        a, b = adds[k], adds[k + 1]
        if g.can_connect(a, b):
            g.connect(a, b)
            edges += 1
        k += 1
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


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench_canvas(), indent=2))
