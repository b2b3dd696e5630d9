"""The lesion study view: pick a module (and one instance, or all), zero it or add noise, and see
every task's accuracy before and after as bars. The study runs on a copy of the trained network,
in a background thread (``modstudio.learn.lesion``); the run's weights never change."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QWidget)

from modstudio.gui.jobs import Job
from modstudio.gui.training.plots import ThemedPlot, task_color


class LesionPanel(QWidget):
    finished = Signal(object)  # LesionResult

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.run = None
        self._net_cache: tuple[str, object] | None = None
        self.job: Job | None = None
        self.result = None
        controls = QFormLayout()
        controls.setVerticalSpacing(4)
        self.node = QComboBox()
        self.node.setObjectName("lesion-node")
        self.node.currentIndexChanged.connect(self._on_node_current_index_changed)
        self.instance = QComboBox()
        self.mode = QComboBox()
        self.mode.addItem("Zero its weights", "zero")
        self.mode.addItem("Add Gaussian noise", "noise")
        self.mode.currentIndexChanged.connect(lambda i: self.scale.setEnabled(self.mode.itemData(i) == "noise"))
        self.scale = QDoubleSpinBox()
        self.scale.setRange(0.0, 100.0)
        self.scale.setDecimals(2)
        self.scale.setSingleStep(0.25)
        self.scale.setValue(1.0)
        self.scale.setSuffix(" × weight std")
        self.scale.setEnabled(False)
        self.button = QPushButton("Run lesion")
        self.button.setObjectName("lesion-run")
        self.button.clicked.connect(self.start)
        self.status = QLabel("Train a run, then pick a module (or right-click one on the canvas).")
        self.status.setObjectName("dim")
        self.status.setWordWrap(True)
        controls.addRow("Module", self.node)
        controls.addRow("Instance", self.instance)
        controls.addRow("Lesion", self.mode)
        controls.addRow("Noise scale", self.scale)
        controls.addRow(self.button)
        controls.addRow(self.status)
        left = QWidget()
        left.setLayout(controls)
        left.setMaximumWidth(330)
        self.plot = ThemedPlot("Test accuracy per task: intact (grey) and lesioned")
        self.plot.setYRange(0, 1.02, padding=0)
        self.plot.getPlotItem().showGrid(x=False, y=True, alpha=0.15)
        self.plot.setMouseEnabled(x=False, y=False)
        self.bars: list = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(left)
        layout.addWidget(self.plot, 1)
        self.set_run(None)

    # ------------------------------------------------------------------ run and node choice

    def set_run(self, run) -> None:
        """The run to lesion (one with weights and at least one trained task), or None."""
        usable = run is not None and bool(run.weights) and bool(run.paths)
        self.run = run if usable else None
        current = self.node.currentData()
        self.node.blockSignals(True)
        self.node.clear()
        if self.run is not None:
            from modstudio.graph import Graph

            graph = Graph.from_dict(run.graph) if run.graph else self.document.graph
            sizes = {}
            for path in run.paths:
                for node, index in path.items():
                    sizes[node] = max(sizes.get(node, 0), index + 1)
            for node_id in graph.topological_order():
                node = graph.nodes[node_id]
                if node_id in sizes and node.kind not in ("input",) and _has_weights(run, node_id):
                    self.node.addItem(f"{node.name}  ({sizes[node_id]} instance{'s' * (sizes[node_id] != 1)})",
                                      node_id)
        index = self.node.findData(current)
        self.node.setCurrentIndex(index if index >= 0 else 0)
        self.node.blockSignals(False)
        self._on_node_current_index_changed()
        self.button.setEnabled(self.run is not None and self.node.count() > 0)
        if self.run is None:
            self.status.setText("Train a run (it keeps its weights), then pick a module to lesion.")

    def select_node(self, node_id: str) -> bool:
        index = self.node.findData(node_id)
        if index >= 0:
            self.node.setCurrentIndex(index)
        return index >= 0

    def _on_node_current_index_changed(self, *args) -> None:
        self.instance.clear()
        node_id = self.node.currentData()
        if self.run is None or node_id is None:
            return
        users: dict[int, list[int]] = {}
        for task, path in enumerate(self.run.paths):
            if node_id in path:
                users.setdefault(path[node_id], []).append(task + 1)
        self.instance.addItem("every instance", None)
        if len(users) > 1 or any(len(v) != len(self.run.paths) for v in users.values()):
            for index in sorted(users):
                tasks = ", ".join(f"T{t}" for t in users[index])
                self.instance.addItem(f"instance {index} (used by {tasks})", index)

    # ------------------------------------------------------------------ the study

    def start(self) -> bool:
        if self.run is None or self.node.currentData() is None or (self.job and self.job.isRunning()):
            return False
        project, run = self.document.project, self.run
        node_id, instance = self.node.currentData(), self.instance.currentData()
        mode, scale = self.mode.currentData(), self.scale.value()
        cached = self._net_cache[1] if self._net_cache and self._net_cache[0] == run.id else None

        def study():
            from modstudio.learn.lesion import lesion_study
            from modstudio.learn.restore import restore_network

            net = cached if cached is not None else restore_network(project, run)
            return net, lesion_study(project, run, node_id, instance, mode, scale, seed=0, net=net)

        self.button.setEnabled(False)
        self.status.setText("Lesioning a copy of the trained network …")
        self.job = Job(study, self)
        self.job.done.connect(self._on_job_done)
        self.job.failed.connect(self._on_job_failed)
        self.job.start()
        return True

    def wait(self, ms: int = 30000) -> None:
        if self.job is not None:
            self.job.wait(ms)

    def _on_job_done(self, payload) -> None:
        net, result = payload
        if self.run is not None:
            self._net_cache = (self.run.id, net)
        self.result = result
        self.button.setEnabled(self.run is not None)
        drops = [d for d, hit in zip(result.drops, result.affected) if hit]
        what = "zeroed" if result.mode == "zero" else f"noise ×{result.scale:g}"
        self.status.setText(
            f"{self.node.currentText().split('  (')[0]} {what}: mean drop {np.mean(drops) * 100 if drops else 0:.1f} "
            f"points over {len(drops)} task{'s' * (len(drops) != 1)} that use it; the trained weights are unchanged.")
        self._draw(result)
        self.finished.emit(result)

    def _on_job_failed(self, message: str) -> None:
        self.button.setEnabled(self.run is not None)
        self.status.setText(f"<span style='color:#ff7b7f'>Lesion failed: {message}</span>")

    def _draw(self, result) -> None:
        for item in self.bars:
            self.plot.removeItem(item)
        self.bars = []
        n = len(result.before)
        xs = np.arange(n, dtype=float)
        before = pg.BarGraphItem(x=xs - 0.18, height=result.before, width=0.34, brush=QColor("#7b8698"),
                                 pen=pg.mkPen(None))
        brushes = [task_color(i) if hit else QColor(task_color(i).lighter(60)) for i, hit in enumerate(result.affected)]
        after = pg.BarGraphItem(x=xs + 0.18, height=result.after, width=0.34, brushes=brushes, pen=pg.mkPen(None))
        self.bars = [before, after]
        for i, (b, a) in enumerate(zip(result.before, result.after)):
            label = pg.TextItem(f"{(a - b) * 100:+.0f}", color="#e5707a" if a < b - 1e-9 else "#9aa4b1",
                                anchor=(0.5, 1.0))
            label.setPos(i + 0.18, a + 0.01)
            self.bars.append(label)
        for item in self.bars:
            self.plot.addItem(item)
        self.plot.getPlotItem().getAxis("bottom").setTicks([[(i, f"T{i + 1}") for i in range(n)]])
        self.plot.setXRange(-0.6, n - 0.4, padding=0)
        self.plot.setYRange(0, 1.08, padding=0)


def _has_weights(run, node_id: str) -> bool:
    prefix = f"bank/{node_id}/"
    return any(key.startswith(prefix) for key in (run.weights or {}))
