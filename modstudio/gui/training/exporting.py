"""Saving what a run shows: the plots as PNG or SVG (pyqtgraph's exporters) and the metrics as CSV."""

from __future__ import annotations

import csv
from pathlib import Path


def save_plots(plots: dict, path: str | Path) -> list[Path]:
    """Each plot as ``<stem>-<name><suffix>`` beside ``path`` (.png or .svg); returns the files written."""
    import pyqtgraph.exporters as exporters

    path = Path(path)
    suffix = path.suffix.lower() if path.suffix.lower() in (".png", ".svg") else ".png"
    written = []
    for name, widget in plots.items():
        target = path.with_name(f"{path.stem}-{name}{suffix}")
        item = widget.getPlotItem() if hasattr(widget, "getPlotItem") else widget
        if suffix == ".svg":
            try:
                exporters.SVGExporter(item).export(str(target))
            except Exception:  # pyqtgraph's SVG rewriting fails on some Qt releases' path syntax
                _render_svg(widget, target)
            written.append(target)
            continue
        else:
            exporter = exporters.ImageExporter(item)
            width = max(int(widget.width()), 200)
            exporter.parameters()["width"] = width * 2  # crisp on paper and on high-DPI screens
        exporter.export(str(target))
        written.append(target)
    return written


def _render_svg(widget, target: Path) -> None:
    """The widget drawn through QSvgGenerator: vector output without pyqtgraph's post-processing."""
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(str(target))
    size = QSize(max(widget.width(), 200), max(widget.height(), 150))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(target.stem)
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()


def save_metrics_csv(run_state, path: str | Path, run=None) -> list[Path]:
    """Three tidy CSV files: ``<stem>.csv`` (per-epoch curves), ``<stem>-matrix.csv``, ``<stem>-summary.csv``."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        path = path.with_suffix(".csv")
    n = run_state.n_tasks
    names = [f"acc_T{j + 1}" for j in range(n)]
    curves = run.curves if run is not None else None
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["tasks_trained", "task", "epoch", "loss", *names])
        if curves is not None:
            for p in curves:
                w.writerow([round(p["fraction"] * n, 6), p["task"] + 1, p["epoch"] + 1, p["loss"], *p["acc"]])
        else:  # a live run: what the buffers hold (per task, the points of every curve)
            for x, loss in zip(run_state.epoch_loss_x, run_state.epoch_loss_y):
                accs = []
                for xs, ys in run_state.retention:
                    accs.append(next((y for xx, y in zip(xs, ys) if abs(xx - x) < 1e-9), ""))
                w.writerow([round(x, 6), min(int(x - 1e-9) + 1, n), "", loss, *accs])
    matrix_path = path.with_name(f"{path.stem}-matrix.csv")
    with matrix_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["after", *[f"T{j + 1} {run_state.task_names[j]}" for j in range(n)]])
        for i, row in enumerate(run_state.matrix):
            w.writerow(["init" if i == 0 else f"T{i}", *["" if v is None else v for v in row]])
    summary_path = path.with_name(f"{path.stem}-summary.csv")
    s = run_state.summary()
    metrics = run.metrics if run is not None else run_state.metrics
    with summary_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["metric", "value"])
        w.writerow(["strategy", run_state.strategy])
        w.writerow(["status", run_state.status])
        if s is not None:
            for key in ("tasks_trained", "acc", "aia", "bwt", "fwt", "forgetting"):
                w.writerow([key, "" if getattr(s, key) is None else getattr(s, key)])
        for i, rate in enumerate(run_state.task_inference or ()):
            w.writerow([f"task_inferred_T{i + 1}", rate])
        if run_state.memory:
            w.writerow(["memory_samples", run_state.memory["samples"]])
            w.writerow(["memory_bytes", run_state.memory["bytes"]])
        for i, p in enumerate(run_state.params):
            w.writerow([f"parameters_after_T{i + 1}", p])
        for i, p in enumerate(metrics.task_parameters):
            w.writerow([f"task_parameters_T{i + 1}", p])
        for i, sec in enumerate(metrics.seconds_per_task):
            w.writerow([f"seconds_T{i + 1}", sec])
    return [path, matrix_path, summary_path]
