"""Every run the project keeps, in a table; select several to overlay their retention and figures
(e.g. finetune against ewc against expansion on the same tasks), or export them to an experiment
tracker (the buttons above the table; the controller does the writing).

The table never scrolls sideways where it can be helped: beside the plots while the tab is wide
enough for every column and the plots, above them otherwise (``_arrange``)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from modstudio.gui.training.plots import (RUN_COLORS, SummaryCards, ThemedPlot, fit_side_legend, fmt_params, fmt_pct,
                                          side_legend)
from modstudio.gui.training.state import READOUT_LABEL, memory_text
from modstudio.project.features import READOUT_TEXT, task_inference
from modstudio.project.seeds import format_figure, seed_groups

COLUMNS = ("#", "Strategy", "Scenario", "Epochs", "Seed", "Status", "Avg acc", "AIA", "BWT", "Forgetting", "Params",
           "Memory", "Started")
STATUS = COLUMNS.index("Status")
FIGURES = (("acc", "Avg acc"), ("aia", "AIA"), ("bwt", "BWT"), ("fwt", "FWT"), ("forgetting", "Forgetting"))
RUNS_PLOT_MIN_HEIGHT = 80  # px
PLOTS_MIN_WIDTH = 460  # px: the overlay and the figures side by side, still readable
FIRST_NUMBER = COLUMNS.index("Avg acc")  # this column and those after it are numbers, aligned right
_FIGURE_TIPS = {key: tip for key, _, tip in SummaryCards.FIGURES}  # the summary cards' definitions
HEADER_TIPS = {"Avg acc": _FIGURE_TIPS["acc"], "AIA": _FIGURE_TIPS["aia"], "BWT": _FIGURE_TIPS["bwt"],
               "Forgetting": _FIGURE_TIPS["forgetting"], "Params": _FIGURE_TIPS["params"],
               "Scenario": "task: the task id is given at test time; class: it is inferred (how: the cell's tooltip)",
               "Memory": "samples the run's exemplar memory kept from earlier tasks (their bytes in the tooltip)"}


def seed_group_text(group: dict) -> str:
    """One configuration over seeds in a line: its seeds and the mean ± sd of every figure."""
    summary = group["aggregate"]
    figures = " · ".join(format_figure(name, stats) for name, stats in summary["figures"].items())
    seeds = ", ".join(map(str, group["seeds"]))
    scenario = f" {group['scenario']}" if group["scenario"] else ""
    return (f"<b>{group['strategy']}</b>{scenario} over seeds {seeds} ({summary['finished']} of {summary['runs']} "
            f"finished): {figures or 'no finished run'}")


def mean_seen_accuracy(run) -> tuple[np.ndarray, np.ndarray]:
    """x = tasks trained, y = mean test accuracy over the tasks met so far (the run's overall retention)."""
    n = len(run.acc_matrix[0]) if run.acc_matrix else 0
    xs, ys = [], []
    for point in run.curves:
        if not point["acc"]:  # an epoch not evaluated (evaluate = "task")
            continue
        t = int(point["task"])
        xs.append(float(point["fraction"]) * n)
        ys.append(float(np.mean(point["acc"][:t + 1])))
    if not xs:  # runs without per-epoch curves: the matrix rows at the task boundaries
        for i, row in enumerate(run.acc_matrix[1:]):
            xs.append(float(i + 1))
            ys.append(float(np.mean(row[:i + 1])))
    return np.asarray(xs), np.asarray(ys)


class RunsTable(QWidget):
    selection_changed = Signal(list)  # the selected runs (Run objects), in table order
    export_requested = Signal(str, list)  # "tensorboard" or "mlflow", the selected runs (none: every run)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runs-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for column, title in enumerate(COLUMNS):
            if title in HEADER_TIPS:
                self.table.horizontalHeaderItem(column).setToolTip(HEADER_TIPS[title])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self.overlay = ThemedPlot("Mean accuracy over the tasks seen so far")
        self.overlay.getPlotItem().showGrid(x=False, y=True, alpha=0.15)
        self.overlay.setYRange(0, 1.02, padding=0)
        self.overlay.label("bottom", "tasks trained")
        self.overlay_legend = side_legend(self.overlay)
        self.figures = ThemedPlot("Summary figures")
        self.figures.getPlotItem().showGrid(x=False, y=True, alpha=0.15)
        self.figures.getPlotItem().getAxis("bottom").setTicks([[(i, name) for i, (_, name) in enumerate(FIGURES)]])
        self.figures.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen("#7b8698", width=1)))
        self._figure_items: list = []
        for plot in (self.overlay, self.figures):  # under the table in a low dock: a short plot, not a taller dock
            plot.setMinimumHeight(RUNS_PLOT_MIN_HEIGHT)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.overlay)
        plots.addWidget(self.figures)
        plots.setSizes([600, 400])
        self.export_buttons = {
            kind: self._export_button(kind, text, tip) for kind, text, tip in (
                ("tensorboard", "Export to TensorBoard…", "as TensorBoard event files, one folder per run"),
                ("mlflow", "Export to MLflow…", "to MLflow (a folder or a tracking server), one MLflow run each"))}
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in self.export_buttons.values():
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.table, 1)
        self.seed_summary = QLabel()  # one configuration over several seeds: mean ± sd (project/seeds.py)
        self.seed_summary.setObjectName("seed-summary")
        self.seed_summary.setWordWrap(True)
        self.seed_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.seed_summary.hide()
        left_layout.addWidget(self.seed_summary)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(left)
        self.split.addWidget(plots)
        self.split.setSizes([560, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)
        self.runs: list = []
        self._arranged: tuple | None = None  # (orientation, table width) the split was last set for
        self._update_export_buttons()

    # ------------------------------------------------------------------ layout

    def table_width(self) -> int:
        """The width that shows every column whole: the columns' contents and titles, the frame and
        room for the vertical scroll bar."""
        table, header = self.table, self.table.horizontalHeader()
        columns = sum(max(table.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(table.columnCount()))
        return columns + 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width() + 2

    def _arrange(self) -> None:
        """The table beside the plots when both fit, else above them; the table's share made to fit."""
        needed = self.table_width()
        wide = self.width() >= needed + PLOTS_MIN_WIDTH + self.split.handleWidth()
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        key = (orientation, needed if wide else 0)
        if key == self._arranged:
            return
        self._arranged = key
        self.split.setOrientation(orientation)
        if wide:
            self.split.setSizes([needed, max(self.width() - needed, 1)])
        else:
            self.split.setSizes([self.height() * 9 // 20, self.height() * 11 // 20])

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._arrange()

    def _export_button(self, kind: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(f"export-{kind}")
        button.setToolTip(f"Write the selected runs (every run when none is selected) {tip}")
        button.clicked.connect(lambda checked=False: self.export_requested.emit(kind, self.selected_runs()))
        return button

    def _update_export_buttons(self) -> None:
        for button in self.export_buttons.values():
            button.setEnabled(bool(self.runs))

    def set_runs(self, runs) -> None:
        selected = {r.id for r in self.selected_runs()}
        self.runs = list(runs)
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            m, s = run.metrics, run.settings
            params = m.total_parameters or (run.params_per_task[-1] if run.params_per_task else None)
            memory = run.memory
            cells = (str(row + 1), run.strategy, s.get("scenario", ""), str(s.get("epochs", "")), str(s.get("seed", "")),
                     run.status,
                     fmt_pct(m.acc), fmt_pct(m.aia), fmt_pct(m.bwt, signed=True), fmt_pct(m.forgetting),
                     fmt_params(params), f"{memory['samples']:,}" if memory else "—",
                     (run.started or "").replace("T", " ")[:16])
            tips = {COLUMNS.index("Scenario"): self._readout_tip(run),
                    COLUMNS.index("Memory"): memory_text(memory["samples"], memory["bytes"]) if memory else ""}
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if tips.get(column):
                    item.setToolTip(tips[column])
                if column >= FIRST_NUMBER:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == STATUS and run.status != "finished":
                    item.setForeground(QColor("#e5707a" if run.status == "failed" else "#d9a514"))
                if column == STATUS and run.message:
                    item.setToolTip(run.message)
                self.table.setItem(row, column, item)
        self.table.clearSelection()
        for row, run in enumerate(self.runs):
            if run.id in selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        groups = seed_groups(self.runs)
        self.seed_summary.setText("<br>".join(seed_group_text(g) for g in groups))
        self.seed_summary.setVisible(bool(groups))
        self._update_export_buttons()
        self._arrange()
        self._draw()

    @staticmethod
    def _readout_tip(run) -> str:
        """How a class-incremental run read its predictions, and how often it found the task."""
        mode = task_inference(run.strategy, run.settings.get("scenario", ""), run.settings.get("strategy_params"))
        if mode is None:
            return "task-incremental: the task id is given at test time"
        tip = f"class-incremental, {READOUT_LABEL[mode]}: {READOUT_TEXT[mode]}"
        rates = run.metrics.task_inference
        if rates:
            tip += "\ntask inferred right: " + ", ".join(f"T{i + 1} {r * 100:.0f} %" for i, r in enumerate(rates))
        return tip

    def select_rows(self, rows) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in rows:
            self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def selected_runs(self) -> list:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def _on_table_item_selection_changed(self) -> None:
        self._draw()
        self.selection_changed.emit(self.selected_runs())

    def _draw(self) -> None:
        plot = self.overlay
        for item in list(plot.getPlotItem().listDataItems()):
            plot.removeItem(item)
        self.overlay_legend.clear()
        for item in self._figure_items:
            self.figures.removeItem(item)
        self._figure_items = []
        runs = self.selected_runs() or self.runs[-1:]
        n_max = 1
        width = 0.8 / max(len(runs), 1)
        for k, run in enumerate(runs):
            color = QColor(RUN_COLORS[k % len(RUN_COLORS)])
            index = self.runs.index(run) + 1 if run in self.runs else k + 1
            xs, ys = mean_seen_accuracy(run)
            if run.acc_matrix:
                n_max = max(n_max, len(run.acc_matrix[0]))
            plot.plot(xs, ys, pen=pg.mkPen(color, width=2), name=f"#{index} {run.strategy}")
            values = [getattr(run.metrics, key) for key, _ in FIGURES]
            xs_bar = [i - 0.4 + width * (k + 0.5) for i, v in enumerate(values) if v is not None]
            heights = [v for v in values if v is not None]
            if heights:
                bars = pg.BarGraphItem(x=xs_bar, height=heights, width=width * 0.9, brush=color, pen=pg.mkPen(None))
                self.figures.addItem(bars)
                self._figure_items.append(bars)
        fit_side_legend(self.overlay_legend)
        plot.setXRange(0, n_max, padding=0.05)
        plot.setYRange(0, 1.02, padding=0)
        self.figures.setXRange(-0.6, len(FIGURES) - 0.4, padding=0)

    def overlay_count(self) -> int:
        return len(self.overlay.getPlotItem().listDataItems())
