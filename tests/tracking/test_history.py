"""The walk of a run record both trackers share (modstudio.tracking.history), and that tracking
stays free of torch and Qt (the studio writes from its own process)."""

import subprocess
import sys

import modstudio as ms
from modstudio.project.run import RunMetrics
from modstudio.tracking import history


def test_the_headline_figures_follow_run_metrics(project_file, monkeypatch):
    """metrics/NAME is whatever RunMetrics.FIGURES names when the run is written, not a list of its own."""
    run = ms.load_project(project_file).runs[0]
    assert {t for t in history.scalars(run) if t.startswith("metrics/")} == {f"metrics/{n}" for n in RunMetrics.FIGURES}
    monkeypatch.setattr(RunMetrics, "FIGURES", ("acc", "tasks_trained"))
    series = history.scalars(run)
    assert {t for t in series if t.startswith("metrics/")} == {"metrics/acc", "metrics/tasks_trained"}
    assert series["metrics/tasks_trained"] == [(run.metrics.tasks_trained, float(run.metrics.tasks_trained))]


def test_every_point_has_a_documented_tag_and_a_wall_time_within_the_run(project_file):
    run = ms.load_project(project_file).runs[0]
    points = history.points(run)
    clock = history.Clock(run)
    assert {history._family(p.tag) for p in points} <= set(history.TAGS)
    assert all(clock.start <= p.wall_time <= clock.end for p in points)
    epochs = [p.wall_time for p in points if p.tag == "loss/train"]
    assert epochs == sorted(epochs) and len(epochs) == len(run.curves) and epochs[0] > clock.start
    assert len(points) == sum(len(s) for s in history.scalars(run).values())


WITHOUT_TORCH = """
import sys
for name in ("torch", "PySide6", "shiboken6", "pyqtgraph"):
    sys.modules[name] = None
import modstudio as ms
from modstudio.tracking import mlflow, tensorboard
run = ms.load_project({project!r}).runs[0]
tensorboard.write_run(run, {tb!r}, 0)
print(mlflow.write_run(run, {store!r}, "x", 0).run_id)
"""


def test_tracking_writes_without_torch_or_qt(project_file, tmp_path):
    code = WITHOUT_TORCH.format(project=str(project_file), tb=str(tmp_path / "tb"), store=str(tmp_path / "mlruns"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "tb").glob("*/events.out.tfevents.*"))) == 1
    assert (tmp_path / "mlruns").is_dir() and result.stdout.strip()
