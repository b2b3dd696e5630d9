"""The Training dock: run settings on the left; on the right the progress line, the canvas-overlay
choice, and tabs for the live plots, the runs table, the evaluation of a run, the lesion study and
the log.

The pyqtgraph views are built on first use (``ensure_views``), so the window opens without loading
pyqtgraph when the dock starts hidden.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QScrollArea, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from modstudio.gui.heap import settle_heap
from modstudio.gui.training.progress import ProgressHeader
from modstudio.gui.training.run_panel import RunPanel

VIEWS_DELAY_MS = 150  # after the window's first paint

NO_OVERLAY, FOLLOW, READOUT_OVERLAY = "none", "follow", "readout"
# The readout overlay's entry, by how a class-incremental run reads its predictions (``LiveRun.readout``).
READOUT_OVERLAY_TEXT = {"unified": "unified classifier's inputs", "memory": "task classifier's inputs",
                        "gate": "task router (gate)", "confidence": "task by the most confident head"}
MAX_LOG_LINES = 20000
LOG_FLUSH_MS = 100  # lines arrive up to ~100 a second; one append per flush keeps the log cheap


class TrainingPanel(QWidget):
    overlay_changed = Signal(object)  # NO_OVERLAY, FOLLOW, READOUT_OVERLAY or a task index
    save_plots_requested = Signal()
    save_metrics_requested = Signal()

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("training-panel")
        self.document = document
        self.run_panel = RunPanel(document)
        settings_scroll = QScrollArea()
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        settings_scroll.setWidget(self.run_panel)
        settings_scroll.setMinimumWidth(240)
        self.settings_scroll = settings_scroll
        heading = QLabel("Run settings")
        heading.setObjectName("heading")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 4, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(heading)
        left_layout.addWidget(settings_scroll, 1)

        self.header = ProgressHeader()
        self.overlay = QComboBox()
        self.overlay.setObjectName("path-overlay")
        self.overlay.setToolTip("Show on the canvas which modules a task reused, grew or froze")
        self.overlay.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # "path of T5 (digits 8-9)" whole
        self.overlay.activated.connect(lambda i: self.overlay_changed.emit(self.overlay.itemData(i)))
        self.save_plots_button = QPushButton("Save plots…")
        self.save_plots_button.clicked.connect(self.save_plots_requested)
        self.save_metrics_button = QPushButton("Save CSV…")
        self.save_metrics_button.clicked.connect(self.save_metrics_requested)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.header, 1)
        top.addWidget(QLabel("Canvas:"))
        top.addWidget(self.overlay)
        top.addWidget(self.save_plots_button)
        top.addWidget(self.save_metrics_button)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.live_page = QWidget()
        QVBoxLayout(self.live_page).setContentsMargins(0, 0, 0, 0)
        self.runs_page = QWidget()
        QVBoxLayout(self.runs_page).setContentsMargins(0, 0, 0, 0)
        self.lesion_page = QWidget()
        QVBoxLayout(self.lesion_page).setContentsMargins(0, 0, 0, 0)
        self.evaluate_page = QWidget()
        QVBoxLayout(self.evaluate_page).setContentsMargins(0, 0, 0, 0)
        self.log = QPlainTextEdit()
        self.log.setObjectName("training-log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(MAX_LOG_LINES)
        self._log_lines: list[str] = []  # waiting for the next flush
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSizeF(9.0)
        self.log.setFont(mono)
        self.tabs.addTab(self.live_page, "Live")
        self.tabs.addTab(self.runs_page, "Runs")
        self.tabs.addTab(self.evaluate_page, "Evaluate")
        self.tabs.addTab(self.lesion_page, "Lesion")
        self.tabs.addTab(self.log, "Log")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 2, 4, 0)
        right_layout.setSpacing(2)
        right_layout.addLayout(top)
        right_layout.addWidget(self.tabs, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([270, 1200])
        self.split = split
        self._column_sized = False  # the settings column takes its natural width when first shown
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.plots = None  # LivePlots
        self.runs = None  # RunsTable
        self.lesion = None  # LesionPanel
        self.evaluate = None  # EvaluateTab
        self.set_overlay_tasks([], running=False)

    # ------------------------------------------------------------------ lazy views

    def ensure_views(self) -> None:
        if self.plots is not None:
            return
        from modstudio.gui.training.evaluate_tab import EvaluateTab
        from modstudio.gui.training.lesion import LesionPanel
        from modstudio.gui.training.plots import LivePlots
        from modstudio.gui.training.runs_table import RunsTable

        self.plots = LivePlots()
        self.live_page.layout().addWidget(self.plots)
        self.runs = RunsTable()
        self.runs_page.layout().addWidget(self.runs)
        self.lesion = LesionPanel(self.document)
        self.lesion_page.layout().addWidget(self.lesion)
        self.evaluate = EvaluateTab(self.document)
        self.evaluate_page.layout().addWidget(self.evaluate)
        self.views_ready()
        settle_heap()  # pyqtgraph and the views stay: keep full collections from stalling live plots

    def views_ready(self) -> None:
        """Hook for the controller: connect the views' signals once they exist."""

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._column_sized:  # fonts are final once shown (the style sheet's are applied on polish)
            self._column_sized = True
            self.fit_settings_column()
        if self.plots is None:
            # Building the plots imports pyqtgraph (~0.6 s): let the window paint first.
            QTimer.singleShot(VIEWS_DELAY_MS, self.ensure_views)

    def fit_settings_column(self) -> None:
        """Give the run settings the width at which nothing in them is cut; the rest to the tabs."""
        scroll = self.settings_scroll
        bar = scroll.style().pixelMetric(scroll.style().PixelMetric.PM_ScrollBarExtent)
        width = self.run_panel.natural_width() + bar + 8
        total = sum(self.split.sizes()) or self.width()
        self.split.setSizes([width, max(total - width, 1)])

    # ------------------------------------------------------------------ overlay choice and log

    def set_overlay_tasks(self, names: list[str], running: bool, select=None, readout: str | None = None) -> None:
        """The overlay's choices: none, the training task (while running), the class-incremental
        ``readout``'s inputs (see ``READOUT_OVERLAY_TEXT``) and every task's path."""
        current = self.overlay.currentData() if select is None else select
        self.overlay.blockSignals(True)
        self.overlay.clear()
        self.overlay.addItem("no path overlay", NO_OVERLAY)
        if running:
            self.overlay.addItem("follow the training task", FOLLOW)
        if readout in READOUT_OVERLAY_TEXT:
            self.overlay.addItem(READOUT_OVERLAY_TEXT[readout], READOUT_OVERLAY)
        for i, name in enumerate(names):
            self.overlay.addItem(f"path of T{i + 1} ({name})", i)
        index = self.overlay.findData(current)
        self.overlay.setCurrentIndex(index if index >= 0 else 0)
        self.overlay.blockSignals(False)

    def overlay_choice(self):
        return self.overlay.currentData()

    def append_log(self, text: str) -> None:
        """Add a line; lines are written to the log together, at most every ``LOG_FLUSH_MS``."""
        if not self._log_lines:
            QTimer.singleShot(LOG_FLUSH_MS, self.flush_log)
        self._log_lines.append(f"{time.strftime('%H:%M:%S')}  {text}")

    def flush_log(self) -> None:
        if self._log_lines:
            lines, self._log_lines = self._log_lines, []
            self.log.appendPlainText("\n".join(lines))

    def clear_log(self) -> None:
        self._log_lines = []
        self.log.clear()

    def log_text(self) -> str:
        self.flush_log()
        return self.log.toPlainText()
