"""The Evaluate tab: how the run selected in the Runs tab answers, per task and (class-incremental
runs) for every class at once: the confusion matrix as a heat map with its counts and each class's
recall, the test samples it gets most confidently wrong (thumbnails for image tasks, values for
others), and Predict…, a file's samples through every task head.

The numbers are ``modstudio.learn.evaluation``'s; the network is restored and read in a background
Job (the lesion study's idiom), so the GUI thread never imports torch. An evaluation is kept per
run, so going back to a run shows it at once.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QListView,
                               QListWidget, QListWidgetItem, QPushButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QTextBrowser, QVBoxLayout, QWidget)

from modstudio.gui import dialogs, theme
from modstudio.gui.jobs import Job

THUMB = 44  # px: a wrong sample's thumbnail
RIGHT = QColor("#3d8bfd")  # a cell of the diagonal, as full as the row's share
WRONG = QColor("#e5707a")  # a cell off it
CACHED_RUNS = 8  # evaluations kept (a run's is a few kilobytes)
MATRIX_WIDTH = 720  # px: the widest the matrix's pane grows to show every column
PREDICT_HINT = ("<p style='color:gray'>Predict… reads an image, a CSV (a sample a row) or an NPY/NPZ array and "
                "shows each task head's answer.</p>")


class EvaluateTab(QWidget):
    evaluated = Signal(object)  # RunEvaluation
    predicted = Signal(object)  # Prediction

    def __init__(self, document, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluate-tab")
        self.document = document
        self.run = None
        self.result = None  # the RunEvaluation shown
        self.prediction = None  # the last Prediction
        self._cache: dict[str, tuple[object, object]] = {}  # run id → (run, RunEvaluation)
        self._net: tuple[object, object] | None = None  # (run, its restored network) for Predict
        self.job: Job | None = None
        self.predict_job: Job | None = None

        self.button = QPushButton("Evaluate")
        self.button.setObjectName("evaluate-run")
        self.button.setToolTip("Evaluate the run selected in the Runs tab on every task's test split")
        self.button.clicked.connect(self.start)
        self.view = QComboBox()
        self.view.setObjectName("evaluate-view")
        self.view.setMinimumContentsLength(18)
        self.view.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.view.currentIndexChanged.connect(self._on_view_current_index_changed)
        self.predict_button = QPushButton("Predict…")
        self.predict_button.setObjectName("evaluate-predict")
        self.predict_button.setToolTip("Predict the samples of an image, a CSV, an NPY or an NPZ file with this run")
        self.predict_button.clicked.connect(self.predict)
        self.status = QLabel()
        self.status.setObjectName("dim")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.button)
        top.addWidget(self.view)
        top.addWidget(self.predict_button)
        top.addWidget(self.status, 1)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.matrix = QTableWidget()
        self.matrix.setObjectName("evaluate-matrix")
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.matrix.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.matrix.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.matrix.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # ten rows fit a short dock
        self.matrix.setToolTip("Rows: the true class; columns: the class predicted; the last column is the "
                               "share of the row predicted right (recall)")
        left = self.matrix_pane = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(self.caption)
        left_layout.addWidget(self.matrix, 1)

        self.wrong_title = QLabel("<b>Most confidently wrong</b>")
        self.wrong = QListWidget()
        self.wrong.setObjectName("evaluate-wrong")
        self.wrong.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.wrong.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.wrong.setWordWrap(True)
        wrong_box = _boxed(self.wrong_title, self.wrong)
        self.prediction_title = QLabel("<b>Prediction</b>")
        self.prediction_text = QTextBrowser()
        self.prediction_text.setObjectName("evaluate-prediction")
        self.prediction_text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.prediction_text.setHtml(PREDICT_HINT)
        prediction_box = _boxed(self.prediction_title, self.prediction_text)
        split = QSplitter(Qt.Orientation.Horizontal)
        for index, (pane, stretch) in enumerate(((left, 3), (wrong_box, 2), (prediction_box, 2))):
            split.addWidget(pane)
            split.setStretchFactor(index, stretch)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.set_run(None)

    # ------------------------------------------------------------------ the run

    @staticmethod
    def usable(run) -> bool:
        return run is not None and bool(run.weights) and bool(run.paths) and run.status != "running"

    def set_run(self, run) -> None:
        """The run to evaluate (the Runs tab's selection); evaluated at once when the tab shows."""
        if run is self.run and run is not None:
            return
        self.run = run if self.usable(run) else None
        cached = self._cache.get(self.run.id) if self.run is not None else None
        self.result = cached[1] if cached and cached[0] is self.run else None
        self.prediction = None
        self.prediction_text.setHtml(PREDICT_HINT)
        self.button.setEnabled(self.run is not None)
        self.predict_button.setEnabled(self.run is not None)
        if self.run is None:
            why = "has no trained weights" if run is not None else "is not chosen"
            self.status.setText(f"The run {why}: train one (it keeps its weights) and select it in the Runs tab.")
        elif self.result is None:
            self.status.setText(f"Run {self.run.id[:8]} ({self.run.strategy}): Evaluate measures every task's test "
                                "split.")
        self._show_result()
        if self.run is not None and self.result is None and self.isVisible():
            self.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.run is not None and self.result is None:
            self.start()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.result is not None:
            self._show_view()  # the heat map's colours follow the theme

    # ------------------------------------------------------------------ evaluating in the background

    def start(self) -> bool:
        if self.run is None or (self.job is not None and self.job.isRunning()):
            return False
        project, run = self.document.project, self.run
        net = self._net[1] if self._net and self._net[0] is run else None

        def evaluate():
            from modstudio.learn.evaluation import evaluate_run, restored

            restored_net = net if net is not None else restored(project, run)
            return run, restored_net, evaluate_run(project, run, net=restored_net)

        self.button.setEnabled(False)
        self.status.setText(f"Evaluating run {run.id[:8]} on every task's test split …")
        self.job = Job(evaluate, self)
        self.job.done.connect(self._on_job_done)
        self.job.failed.connect(self._on_job_failed)
        self.job.start()
        return True

    def wait(self, ms: int = 30000) -> None:
        for job in (self.job, self.predict_job):
            if job is not None:
                job.wait(ms)

    def _on_job_done(self, payload) -> None:
        run, net, result = payload
        self._net = (run, net)
        self._cache[run.id] = (run, result)
        while len(self._cache) > CACHED_RUNS:
            self._cache.pop(next(iter(self._cache)))
        self.button.setEnabled(self.run is not None)
        if run is not self.run:  # the selection moved on while this one was measured
            if self.run is not None and self.result is None and self.isVisible():
                self.start()
            return
        self.result = result
        self._show_result()
        self.evaluated.emit(result)

    def _on_job_failed(self, message: str) -> None:
        self.button.setEnabled(self.run is not None)
        self.status.setText(f"<span style='color:#ff7b7f'>Evaluation failed: {html.escape(message)}</span>")

    # ------------------------------------------------------------------ showing it

    def _show_result(self) -> None:
        result = self.result
        self.view.blockSignals(True)
        previous = self.view.currentIndex()
        self.view.clear()
        if result is not None:
            for view in result.tasks:
                self.view.addItem(view.title)
            if result.all_classes is not None:
                self.view.addItem("All classes (no task id)")
            self.view.setCurrentIndex(min(max(previous, 0), self.view.count() - 1))
        self.view.blockSignals(False)
        self.view.setEnabled(result is not None)
        if result is not None:
            mean = np.mean([v.accuracy for v in result.tasks]) * 100
            how = ("the task id given" if result.scenario != "class"
                   else f"without the task id ({result.readout})")
            self.status.setText(f"Run {result.run_id[:8]} ({result.strategy}), {how}: mean test accuracy "
                                f"{mean:.1f} % over {len(result.tasks)} task{'s' * (len(result.tasks) != 1)}.")
        self._show_view()

    def current_view(self):
        if self.result is None or self.view.currentIndex() < 0:
            return None
        return self.result.views()[self.view.currentIndex()]

    def _on_view_current_index_changed(self, index: int) -> None:
        self._show_view()

    def _show_view(self) -> None:
        view = self.current_view()
        self.matrix.clear()
        self.wrong.clear()
        if view is None:
            self.matrix.setRowCount(0)
            self.matrix.setColumnCount(0)
            self.caption.setText("")
            return
        inferred = ""
        if view.task_inferred is not None:
            inferred = " · task inferred right: " + ", ".join(
                f"T{i + 1} {r * 100:.0f} %" for i, r in enumerate(view.task_inferred) if r is not None)
        self.caption.setText(f"<b>{html.escape(view.title)}</b>: {view.accuracy * 100:.1f} % of "
                             f"{view.samples:,} test samples<br><span style='color:gray'>rows: the true class, "
                             f"columns: the class predicted{inferred}</span>")
        self._fill_matrix(view)
        self._fill_wrong(view)

    def matrix_columns(self, view) -> list[int]:
        """The predicted classes shown: those some sample reached, and the rows' own."""
        return [j for j in range(len(view.predicted_names))
                if j in view.true_columns or any(row[j] for row in view.confusion)]

    def _fill_matrix(self, view) -> None:
        columns = self.matrix_columns(view)
        table = self.matrix
        table.setRowCount(len(view.true_names))
        table.setColumnCount(len(columns) + 1)
        table.setHorizontalHeaderLabels([view.predicted_names[j] for j in columns] + ["recall"])
        table.setVerticalHeaderLabels(list(view.true_names))
        base = self.palette().color(QPalette.ColorRole.Base)
        for i, row in enumerate(view.confusion):
            total = sum(row)
            for col, j in enumerate(columns):
                share = row[j] / total if total else 0.0
                color = _mix(base, RIGHT if j == view.true_columns[i] else WRONG, share)
                item = QTableWidgetItem(f"{row[j]:,}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(color)
                item.setForeground(QColor("#101418") if theme.relative_luminance(color) > 0.35 else QColor("#f4f6f8"))
                item.setToolTip(f"true {view.true_names[i]}, predicted {view.predicted_names[j]}: {row[j]:,} of "
                                f"{total:,}")
                table.setItem(i, col, item)
            recall = view.per_class_accuracy[i]
            item = QTableWidgetItem(f"{recall * 100:.1f} %" if recall is not None else "–")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(i, len(columns), item)
        # The pane takes the matrix's width (a vertical scroll bar's too), so it never scrolls sideways
        # up to MATRIX_WIDTH: past that (tens of classes) it scrolls.
        table.resizeColumnsToContents()
        bar = table.style().pixelMetric(table.style().PixelMetric.PM_ScrollBarExtent)
        needed = (table.verticalHeader().sizeHint().width() + table.horizontalHeader().length()
                  + 2 * table.frameWidth() + bar + 4)
        self.matrix_pane.setMinimumWidth(min(needed, MATRIX_WIDTH))

    def _fill_wrong(self, view) -> None:
        tasks = self.document.project.tasks
        shape = tuple(self.result.sample_shape)
        from modstudio.gui.data_preview import is_image_shape, sample_image

        images = is_image_shape(shape)
        self.wrong.setViewMode(QListView.ViewMode.IconMode if images else QListView.ViewMode.ListMode)
        self.wrong.setIconSize(QSize(THUMB, THUMB))
        self.wrong.setResizeMode(QListView.ResizeMode.Adjust)
        self.wrong.setMovement(QListView.Movement.Static)
        self.wrong.setSpacing(4 if images else 1)
        if not view.confident_wrong:
            self.wrong.addItem(QListWidgetItem("No test sample is predicted wrong." if view.samples else
                                               "No test samples."))
            return
        for w in view.confident_wrong:
            what = f"{view.true_names[w.true]} → {view.predicted_names[w.predicted]}"
            known = w.task < len(tasks) and w.index < len(tasks[w.task].test)  # the tasks may have changed since
            sample = tasks[w.task].test.floats(slice(w.index, w.index + 1))[0] if known else None
            where = f"T{w.task + 1} test #{w.index}"
            if images and sample is not None:
                item = QListWidgetItem(f"{what}\n{w.confidence:.2f}")
                pixmap = QPixmap.fromImage(sample_image(sample).scaled(
                    THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
                item.setIcon(QIcon(pixmap))
                item.setSizeHint(QSize(THUMB + 40, THUMB + 36))
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            else:
                values = _values(sample) if sample is not None else ""
                item = QListWidgetItem(f"{where}: {what} ({w.confidence:.2f})" + (f"\n{values}" if values else ""))
            item.setToolTip(f"{where}: true {view.true_names[w.true]}, predicted {view.predicted_names[w.predicted]} "
                            f"with probability {w.confidence:.3f}")
            self.wrong.addItem(item)

    # ------------------------------------------------------------------ Predict…

    def predict(self) -> bool:
        """Ask for a file and predict its samples with the run (in the background)."""
        if self.run is None or (self.predict_job is not None and self.predict_job.isRunning()):
            return False
        path = dialogs.ask_predict_file(self)
        if not path:
            return False
        project, run = self.document.project, self.run
        net = self._net[1] if self._net and self._net[0] is run else None

        def predict():
            from modstudio.learn.evaluation import predict_file, restored

            restored_net = net if net is not None else restored(project, run)
            return run, restored_net, predict_file(project, run, path, net=restored_net)

        self.predict_button.setEnabled(False)
        self.prediction_text.setPlainText(f"Predicting {path} …")
        self.predict_job = Job(predict, self)
        self.predict_job.done.connect(self._on_predict_job_done)
        self.predict_job.failed.connect(self._on_predict_job_failed)
        self.predict_job.start()
        return True

    def _on_predict_job_done(self, payload) -> None:
        run, net, prediction = payload
        self._net = (run, net)
        self.predict_button.setEnabled(self.run is not None)
        self.prediction = prediction
        self.prediction_text.setHtml(prediction_html(prediction))
        self.predicted.emit(prediction)

    def _on_predict_job_failed(self, message: str) -> None:
        self.predict_button.setEnabled(self.run is not None)
        self.prediction = None
        self.prediction_text.setHtml(f"<p style='color:#e5707a'>Cannot predict: {html.escape(message)}</p>")


def prediction_html(prediction, most: int = 20) -> str:
    """Each sample's answers: per task head the class and its probability (the others after it), and
    without the task id the class and the task inferred."""
    from pathlib import Path

    n = len(prediction.samples)
    shape = "×".join(map(str, prediction.sample_shape))
    parts = [f"<p><b>{html.escape(Path(prediction.file).name)}</b>: {n} sample{'s' * (n != 1)} of shape {shape}</p>"]
    for i, sample in enumerate(prediction.samples[:most]):
        if n > 1:
            parts.append(f"<p><b>Sample {i}</b></p>")
        rows = []
        for head in sample.heads:
            others = ", ".join(f"{html.escape(c)} {p:.2f}" for c, p in zip(head.class_names, head.probabilities))
            rows.append(f"<tr><td>T{head.task + 1} {html.escape(head.task_name)}&nbsp;</td>"
                        f"<td><b>{html.escape(head.predicted_name)}</b> "
                        f"{head.probabilities[head.predicted] * 100:.0f} %&nbsp;</td>"
                        f"<td style='color:gray'>{others}</td></tr>")
        parts.append("<table cellspacing='2'>" + "".join(rows) + "</table>")
        if sample.problem is not None:
            p = sample.problem
            parts.append(f"<p>Without the task id ({html.escape(str(prediction.readout))}): "
                         f"<b>{html.escape(p.predicted_name)}</b> {p.probabilities[p.predicted] * 100:.0f} %, "
                         f"task inferred: T{p.inferred_task + 1} {html.escape(p.inferred_task_name)}</p>")
    if n > most:
        parts.append(f"<p>… and {n - most} more samples (modstudio predict lists them all).</p>")
    return "".join(parts)


def _boxed(title: QLabel, body: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(title)
    layout.addWidget(body, 1)
    return box


def _mix(a: QColor, b: QColor, share: float) -> QColor:
    """``a`` toward ``b`` by ``share`` (0…1)."""
    s = min(max(share, 0.0), 1.0)
    return QColor(round(a.red() + (b.red() - a.red()) * s), round(a.green() + (b.green() - a.green()) * s),
                  round(a.blue() + (b.blue() - a.blue()) * s))


def _values(sample, n: int = 6) -> str:
    flat = np.asarray(sample).reshape(-1)
    shown = ", ".join(f"{v:.3g}" for v in flat[:n])
    return f"[{shown}{', …' if flat.size > n else ''}]"
