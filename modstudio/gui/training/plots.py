"""The live plots (pyqtgraph), drawn from a :class:`LiveRun`'s buffers by ``refresh`` on a timer.

Each plot keeps its items and only calls ``setData`` on them, downsampled and clipped to the view,
so a redraw costs the same whether the run has ten points or ten thousand.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from modstudio.gui import theme
from modstudio.gui.numbers import compact_count
from modstudio.gui.training.state import PATH_READOUTS
from modstudio.project.features import READOUT_TEXT

# Readable on both themes, distinct for ten tasks (Tableau 10, slightly brightened).
TASK_COLORS = ["#4e9af1", "#f28e2b", "#59c36a", "#e15759", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7",
               "#9c755f", "#bab0ac"]
RUN_COLORS = ["#4e9af1", "#f28e2b", "#59c36a", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"]


def task_color(index: int) -> QColor:
    if index < len(TASK_COLORS):
        return QColor(TASK_COLORS[index])
    return pg.intColor(index, hues=max(index + 1, 12)).toRgb()


# A dot per epoch helps read a short run; past this many points per curve the dots merge into the
# line anyway, and drawing them was a third of each live redraw.
DOT_LIMIT = 150
LEFT_AXIS_WIDTH = 52  # px: room for "0.0001" and the axis title


def set_points(curve: pg.PlotDataItem, xs, ys) -> None:
    """New data for ``curve``, with its epoch dots only while they are few enough to tell apart."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    dots = len(xs) <= DOT_LIMIT
    if dots != (curve.opts["symbol"] is not None):
        curve.setSymbol("o" if dots else None)
    curve.setData(xs, ys)


def _chrome() -> dict:
    return theme.CHROME[theme.current()]


def fmt_pct(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value * 100:+.1f}" if signed else f"{value * 100:.1f} %"


def fmt_params(n: int | None) -> str:
    return "—" if n is None else compact_count(n, " ")


PLOT_MIN_HEIGHT = 110  # px: a plot's title, axes and a few ticks
LEGEND_ROW_HEIGHT = 25  # px: one legend entry at 8 pt
LEGEND_MARGIN = 30  # px: the plot's title and its bottom axis, which the legend's column does not use
LEGEND_NAME_CHARS = 14


def elide(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[:chars - 1] + "…"


def style_legend(legend: pg.LegendItem) -> None:
    """A legend in the current theme: a box of the plot's own background (a little translucent,
    so a curve behind it still shows), a quiet border and text in the theme's text colour. The
    existing entries are redrawn: pyqtgraph applies a new text colour only to later ones."""
    c = _chrome()
    box = QColor(c["base"])
    box.setAlpha(215)
    legend.setBrush(pg.mkBrush(box))
    legend.setPen(pg.mkPen(c["border"]))
    legend.setLabelTextColor(c["text"])
    for _sample, label in legend.items:
        label.setText(label.text, color=c["text"])


def side_legend(plot: pg.PlotWidget) -> pg.LegendItem:
    """A legend beside the plot's data, not over it (over it, it hid the first task's curve, the one
    that shows forgetting); the plot item adds every named curve to it and the theme styles it."""
    item = plot.getPlotItem()
    legend = pg.LegendItem(offset=None, labelTextSize="8pt", colCount=1)
    style_legend(legend)
    item.layout.addItem(legend, 2, 3)  # right of the view box (pyqtgraph's layout: axes in 0 and 2)
    # The title over the data and the legend both: in the view box's column alone, its width would
    # hold that column open and push the legend past the plot's edge.
    item.layout.removeItem(item.titleLabel)
    item.layout.addItem(item.titleLabel, 0, 1, 1, 3)
    item.legend = legend
    return legend


def fit_side_legend(legend: pg.LegendItem) -> None:
    """The legend's column as wide as its entries, after they change (pyqtgraph sizes a legend for
    floating over a plot, not for a place in its layout)."""
    layout = legend.layout
    layout.invalidate()
    layout.activate()
    width = layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).width() if legend.items else 0
    legend.setMinimumWidth(width)
    legend.setMaximumWidth(width)


class _ThemedPlotItem(pg.PlotItem):
    """Styles its legend when one is added, wherever ``addLegend`` is called from."""

    def addLegend(self, *args, **kwargs):  # noqa: N802 - pyqtgraph's name
        legend = super().addLegend(*args, **kwargs)
        style_legend(legend)
        return legend


class ThemedPlot(pg.PlotWidget):
    """A PlotWidget that takes the studio's colours and follows theme switches."""

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent, plotItem=_ThemedPlotItem())
        self._title = title
        self.setMinimumSize(150, PLOT_MIN_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        for name in ("left", "bottom"):
            # Kept as a pixmap: a live redraw of the data then blits the axes instead of replaying
            # their text (a third of the plots' paint time); a range or theme change redraws them.
            item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # A fixed width: tick labels that widen as the range changes ("1" → "0.05") would resize the
        # data area and redraw the whole plot.
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.apply_theme()
        theme.notifier().changed.connect(self._on_theme_changed)

    def _on_theme_changed(self, name: str = "") -> None:
        try:
            self.apply_theme()
        except RuntimeError:  # the C++ widget is gone
            pass

    def apply_theme(self) -> None:
        c = _chrome()
        self.setBackground(c["base"])
        item = self.getPlotItem()
        item.setTitle(f"<span style='color:{c['text']};font-size:9pt;font-weight:600'>{self._title}</span>")
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(c["border"]))
            axis.setTextPen(pg.mkPen(c["dim"]))
        if item.legend is not None:
            style_legend(item.legend)
        self.theme_changed()

    def theme_changed(self) -> None:
        """Subclasses recolour their own items here."""

    def label(self, axis: str, text: str) -> None:
        self.getPlotItem().setLabel(axis, f"<span style='color:{_chrome()['dim']}'>{text}</span>")


class RetentionPlot(ThemedPlot):
    """Test accuracy of every task over the run: forgetting shows as a curve falling after its task."""

    def __init__(self, parent=None) -> None:
        self.boundaries: list[pg.InfiniteLine] = []  # before the base's __init__: it calls theme_changed
        self._names: list[str] = []  # the legend's entries in full ("T1 digits 0-1")
        self._legend_columns = 0
        super().__init__("Accuracy retention", parent)
        item = self.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.label("left", "test accuracy")
        self.label("bottom", "tasks trained")
        self.setYRange(0.0, 1.02, padding=0)
        self.setMouseEnabled(x=False, y=False)
        self.legend = side_legend(self)
        self.curves: list[pg.PlotDataItem] = []
        self.current = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(120, 160, 230, 28),
                                           pen=pg.mkPen(None))
        self.current.setZValue(-10)
        self.current.hide()
        self.addItem(self.current)
        self._n = -1
        self._version = -1

    def reset(self, names: list[str]) -> None:
        for curve in self.curves:
            self.removeItem(curve)
        for line in self.boundaries:
            self.removeItem(line)
        self.legend.clear()
        self.curves, self.boundaries = [], []
        self._n, self._version = len(names), -1
        self._names = [f"T{i + 1} {elide(name, LEGEND_NAME_CHARS)}" for i, name in enumerate(names)]
        self._legend_columns = 0
        for i, label in enumerate(self._names):
            color = task_color(i)
            curve = self.plot([], [], pen=pg.mkPen(color, width=2), name=label,
                              symbol="o", symbolSize=4, symbolBrush=color, symbolPen=None)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves.append(curve)
        self._arrange_legend()
        for k in range(1, len(names)):
            line = pg.InfiniteLine(pos=k, angle=90, pen=pg.mkPen(_chrome()["border"], width=1,
                                                                  style=Qt.PenStyle.DashLine))
            self.addItem(line)
            self.boundaries.append(line)
        self.setXRange(0, max(len(names), 1), padding=0.05)  # room for the first and last tick labels
        self.getPlotItem().getAxis("bottom").setTicks([[(k, str(k)) for k in range(len(names) + 1)]])

    def _arrange_legend(self) -> None:
        """As many legend rows as the plot's height holds; more tasks than that get columns of
        their numbers alone (the matrix and the tooltips name them)."""
        n = len(self.legend.items)
        rows = max(1, int((self.height() - LEGEND_MARGIN) // LEGEND_ROW_HEIGHT))
        columns = max(1, -(-n // rows))
        if columns == self._legend_columns:
            return
        self._legend_columns = columns
        for i, (_sample, label) in enumerate(self.legend.items):
            label.setText(self._names[i] if columns == 1 else f"T{i + 1}")
        self.legend.setColumnCount(columns)
        fit_side_legend(self.legend)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        legend = self.__dict__.get("legend")  # not yet while the base class is being built
        if legend is not None and legend.items:
            self._arrange_legend()

    def theme_changed(self) -> None:
        for line in self.boundaries:
            line.setPen(pg.mkPen(_chrome()["border"], width=1, style=Qt.PenStyle.DashLine))

    def refresh(self, state) -> None:
        if state.n_tasks != self._n:
            self.reset(state.task_names)
        if state.version == self._version:
            return
        self._version = state.version
        for curve, (xs, ys) in zip(self.curves, state.retention):
            set_points(curve, xs, ys)
        if state.status == "running" and state.current_task >= 0:
            self.current.setRegion((state.current_task, state.current_task + 1))
            self.current.show()
        else:
            self.current.hide()

    def curve_count(self) -> int:
        return sum(1 for c in self.curves if c.xData is not None and len(c.xData))


class LossPlot(ThemedPlot):
    def __init__(self, parent=None) -> None:
        super().__init__("Training loss", parent)
        item = self.getPlotItem()
        item.showGrid(x=False, y=True, alpha=0.15)
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.label("bottom", "tasks trained")
        self.setMouseEnabled(x=False, y=False)
        self.fine = self.plot([], [], pen=pg.mkPen(QColor(150, 170, 200, 110), width=1))
        self.fine.setDownsampling(auto=True, method="peak")
        self.fine.setClipToView(True)
        self.epochs = self.plot([], [], pen=pg.mkPen("#f28e2b", width=2), symbol="o", symbolSize=4,
                                symbolBrush="#f28e2b", symbolPen=None)
        self._version = -1
        self._n = -1

    def refresh(self, state) -> None:
        if state.version == self._version:
            return
        self._version = state.version
        if state.n_tasks != self._n:
            self._n = state.n_tasks
            self.setXRange(0, max(state.n_tasks, 1), padding=0.02)
        self.fine.setData(np.asarray(state.loss_x, dtype=float), np.asarray(state.loss_y, dtype=float))
        set_points(self.epochs, state.epoch_loss_x, state.epoch_loss_y)


INFERENCE_GAP = 0.25  # rows of space between the matrix and its task-inference row


def matrix_tooltip(readout: str | None) -> str:
    tip = "R[i][j]: test accuracy on task j (columns) after training task i (rows); init = before training."
    if readout is None:
        return tip + "\nTask-incremental: the task id is given at test time."
    tip += f"\nClass-incremental: {READOUT_TEXT[readout]}."
    if readout in PATH_READOUTS:
        tip += ("\nBottom row, inferred: how often a task's test samples were read through their own "
                "task's path (its head, or its features' block of the unified classifier), after the latest "
                "task trained.")
    return tip


class MatrixPlot(ThemedPlot):
    """R[i][j] as a heatmap with its values written in: rows = after task i, columns = task j; in a
    class-incremental path-per-task run, a last row with how often each task was inferred right."""

    def __init__(self, parent=None) -> None:
        super().__init__("Accuracy matrix", parent)
        self.getPlotItem().getAxis("left").setWidth(None)  # its labels ("after T3") change only per task
        for name in ("left", "bottom"):  # tick marks drawn into the first cells read as minus signs ("-99")
            self.getPlotItem().getAxis(name).setStyle(tickLength=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.colormap = pg.colormap.get("viridis")
        self.addItem(self.image)
        self.inference_image = pg.ImageItem(axisOrder="row-major")  # its own colours: a rate, not an accuracy
        self.inference_map = pg.ColorMap([0.0, 1.0], [QColor("#3a2f4a"), QColor("#f2a541")])
        self.addItem(self.inference_image)
        self.getPlotItem().invertY(True)
        self.setMouseEnabled(x=False, y=False)
        self.getPlotItem().setAspectLocked(False)
        self.texts: list[pg.TextItem] = []
        self.inference_texts: list[pg.TextItem] = []
        self._key = None
        self.font = QFont()
        self.font.setPointSizeF(8.0)
        self.setToolTip(matrix_tooltip(None))

    def _text(self, value: float, x: float, y: float, light_above: float = 0.62) -> pg.TextItem:
        color = "#111111" if value > light_above else "#f0f0f0"
        text = pg.TextItem(f"{value * 100:.0f}", color=color, anchor=(0.5, 0.5))
        text.setFont(self.font)
        text.setPos(x, y)
        self.addItem(text)
        return text

    def refresh(self, state) -> None:
        readout = state.readout
        inference = state.task_inference if readout in PATH_READOUTS else None
        key = (state.n_tasks, tuple(tuple(r) for r in state.matrix), readout,
               tuple(inference) if inference is not None else None)
        if key == self._key:
            return
        self._key = key
        for text in self.texts + self.inference_texts:
            self.removeItem(text)
        self.texts, self.inference_texts = [], []
        self.setToolTip(matrix_tooltip(readout))
        n = state.n_tasks
        rows = n + 1
        data = np.full((rows, max(n, 1)), np.nan)
        for i, row in enumerate(state.matrix[:rows]):
            data[i, :len(row)] = [np.nan if v is None else v for v in row]
        rgba = self.colormap.map(np.clip(np.nan_to_num(data), 0.0, 1.0).ravel(), mode="byte").reshape(rows, -1, 4)
        rgba[..., 3] = np.where(np.isnan(data), 0, 255)  # rows not trained yet stay empty
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(QRectF(0, 0, max(n, 1), rows))
        for i in range(len(state.matrix[:rows])):
            for j in range(n):
                if not np.isnan(data[i, j]):
                    self.texts.append(self._text(data[i, j], j + 0.5, i + 0.5))
        left = [(0.5, "init")] + [(i + 0.5, f"after T{i}") for i in range(1, rows)]
        shown = readout in PATH_READOUTS
        if shown:  # the row exists from the start, so the matrix does not jump when the first rate comes
            rates = np.full((1, max(n, 1)), np.nan)
            values = list(inference or [])[:n]
            rates[0, :len(values)] = [np.nan if v is None else v for v in values]
            colors = self.inference_map.map(np.clip(np.nan_to_num(rates), 0.0, 1.0).ravel(), mode="byte")
            colors = colors.reshape(1, -1, 4)
            colors[..., 3] = np.where(np.isnan(rates), 0, 255)
            self.inference_image.setImage(colors, autoLevels=False)
            top = rows + INFERENCE_GAP
            self.inference_image.setRect(QRectF(0, top, max(n, 1), 1))
            for j, value in enumerate(values):
                if value is not None:
                    self.inference_texts.append(self._text(value, j + 0.5, top + 0.5, light_above=0.7))
            left.append((top + 0.5, "inferred"))
        self.inference_image.setVisible(shown)
        item = self.getPlotItem()
        item.getAxis("bottom").setTicks([[(j + 0.5, f"T{j + 1}") for j in range(n)]])
        item.getAxis("left").setTicks([left])
        self.setXRange(0, max(n, 1), padding=0)
        self.setYRange(0, rows + (1 + INFERENCE_GAP if shown else 0), padding=0)

    def filled_rows(self) -> int:
        return len(self._key[1]) if self._key else 0

    def inference_values(self) -> list[str]:
        """The task-inference row as written (percentages), empty without one."""
        return [t.textItem.toPlainText() for t in self.inference_texts]


class GrowthPlot(ThemedPlot):
    """Parameters the network holds after each task: flat for shared strategies, steps for growth."""

    def __init__(self, parent=None) -> None:
        super().__init__("Parameters", parent)
        self.setToolTip("Parameters after each task: the whole network (green) and the task's own path (blue)")
        self.setMouseEnabled(x=False, y=False)
        self.getPlotItem().showGrid(x=False, y=True, alpha=0.15)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6, brush="#59c36a", pen=pg.mkPen(None))
        self.task_bars = pg.BarGraphItem(x=[], height=[], width=0.3, brush="#4e9af1", pen=pg.mkPen(None))
        self.addItem(self.bars)
        self.addItem(self.task_bars)
        self._key = None

    def refresh(self, state) -> None:
        key = (state.n_tasks, tuple(state.params), tuple(state.task_params))
        if key == self._key:
            return
        self._key = key
        n = max(state.n_tasks, 1)
        xs = np.arange(1, len(state.params) + 1, dtype=float)
        self.bars.setOpts(x=xs, height=np.asarray(state.params, dtype=float), width=0.6)
        txs = np.arange(1, len(state.task_params) + 1, dtype=float) + 0.0
        self.task_bars.setOpts(x=txs, height=np.asarray(state.task_params, dtype=float), width=0.3)
        self.getPlotItem().getAxis("bottom").setTicks([[(k, f"T{k}") for k in range(1, n + 1)]])
        self.setXRange(0.4, n + 0.6, padding=0)
        top = max([*state.params, *state.task_params, 1])
        self.setYRange(0, top * 1.1, padding=0)


class SummaryCards(QWidget):
    """The summary figures as large numbers: ACC, AIA, BWT, FWT, forgetting, parameters; and, in a
    class-incremental path-per-task run, how often the task was inferred right, named by its readout."""

    FIGURES = (("acc", "Avg accuracy", "mean final test accuracy over the tasks trained"),
               ("aia", "AIA", "average incremental accuracy (Rebuffi et al. 2017): the mean over the steps of the "
                              "accuracy on every class seen so far, right after each task (tasks weighted by "
                              "their test samples)"),
               ("bwt", "BWT", "backward transfer: how later tasks changed earlier ones' accuracy (negative = forgetting)"),
               ("fwt", "FWT", "forward transfer: accuracy on a task before training it, against the untrained network"),
               ("forgetting", "Forgetting", "mean drop from each task's best accuracy to its final one (Chaudhry et al.)"),
               ("params", "Parameters", "parameters the network holds now (every module instance and head)"),
               ("inferred", "Task inferred", "how often a test sample was read through its own task's path, "
                                             "averaged over the tasks trained"))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(0)
        self.values: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}
        for column, (key, title, tip) in enumerate(self.FIGURES):
            name = QLabel(title)
            name.setObjectName("dim")
            value = QLabel("—")
            value.setObjectName(f"figure-{key}")
            font = value.font()
            font.setPointSizeF(15.0)
            font.setBold(True)
            value.setFont(font)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("−100.0 %"))  # no re-layout per figure
            for label in (name, value):
                label.setToolTip(tip)
            grid.addWidget(name, 0, column)
            grid.addWidget(value, 1, column)
            self.values[key] = value
            self.names[key] = name
        self._show_inferred(None)
        self._key = None

    def _show_inferred(self, readout: str | None) -> None:
        """The task-inference card (its tooltip names the readout; the progress line does too), only
        where the task is inferred over paths."""
        shown = readout in PATH_READOUTS
        for label in (self.names["inferred"], self.values["inferred"]):
            label.setVisible(shown)
        if shown:
            tip = (f"{self.FIGURES[-1][2]}.\nClass-incremental: {READOUT_TEXT[readout]}. Per task: the matrix's "
                   "last row.")
            for label in (self.names["inferred"], self.values["inferred"]):
                label.setToolTip(tip)

    def refresh(self, state) -> None:
        readout = state.readout
        rates = state.task_inference if readout in PATH_READOUTS else None
        key = (tuple(tuple(r) for r in state.matrix), tuple(state.params), tuple(state.test_sizes), readout,
               tuple(rates or ()))
        if key == self._key:
            return
        self._key = key
        self._show_inferred(readout)
        self.values["inferred"].setText(fmt_pct(sum(rates) / len(rates) if rates else None))
        s = state.summary()
        self.values["acc"].setText(fmt_pct(s.acc if s else None))
        self.values["aia"].setText(fmt_pct(s.aia if s else None))
        self.values["bwt"].setText(fmt_pct(s.bwt if s else None, signed=True))
        self.values["fwt"].setText(fmt_pct(s.fwt if s else None, signed=True))
        self.values["forgetting"].setText(fmt_pct(s.forgetting if s else None))
        self.values["params"].setText(fmt_params(state.params[-1] if state.params else None))
        bwt = s.bwt if s else None
        self.values["bwt"].setStyleSheet("" if bwt is None else ("color:#e5707a" if bwt < -0.005 else "color:#4cc38a"))

    def text(self, key: str) -> str:
        return self.values[key].text()


class LivePlots(QWidget):
    """The four live plots and the summary cards, refreshed together. The plots stand in one row
    where the space is wide and low (a Training dock under a wide window), else the retention
    curves and the matrix beside the loss above the growth."""

    WIDE = 2.4  # width over height from which the plots stand in one row

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.retention = RetentionPlot()
        self.loss = LossPlot()
        self.matrix = MatrixPlot()
        self.growth = GrowthPlot()
        self.cards = SummaryCards()
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.one_row: bool | None = None
        self._arrange(one_row=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.cards)
        layout.addLayout(self.grid, 1)

    def _arrange(self, one_row: bool) -> None:
        if one_row == self.one_row:
            return
        self.one_row = one_row
        for plot in (self.retention, self.matrix, self.loss, self.growth):
            self.grid.removeWidget(plot)
            # Two rows may be squeezed below the height at which they give way to one row, so a
            # dock shrunk by hand is never held at the two rows' minimum.
            plot.setMinimumHeight(PLOT_MIN_HEIGHT if one_row else PLOT_MIN_HEIGHT * 3 // 4)
        if one_row:
            for column, (plot, stretch) in enumerate(((self.retention, 5), (self.matrix, 3), (self.loss, 3),
                                                      (self.growth, 3))):
                self.grid.addWidget(plot, 0, column)
                self.grid.setColumnStretch(column, stretch)
        else:
            self.grid.addWidget(self.retention, 0, 0, 2, 1)
            self.grid.addWidget(self.matrix, 0, 1, 2, 1)
            self.grid.addWidget(self.loss, 0, 2)
            self.grid.addWidget(self.growth, 1, 2)
            for column, stretch in enumerate((5, 3, 3, 0)):
                self.grid.setColumnStretch(column, stretch)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        height = max(event.size().height() - self.cards.sizeHint().height(), 1)
        self._arrange(one_row=event.size().width() >= self.WIDE * height
                      or height < 2 * PLOT_MIN_HEIGHT + self.grid.spacing())

    def refresh(self, state) -> None:
        self.retention.refresh(state)
        self.loss.refresh(state)
        self.matrix.refresh(state)
        self.growth.refresh(state)
        self.cards.refresh(state)

    def plots(self) -> dict[str, pg.PlotWidget]:
        return {"retention": self.retention, "loss": self.loss, "matrix": self.matrix, "growth": self.growth}
