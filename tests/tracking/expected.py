"""What a tracker should hold for a run, built here from the run record's own fields (not from
modstudio.tracking), so the tests compare the writers with the record."""

from __future__ import annotations

from modstudio.project import strategy_specs
from modstudio.project.run import RunMetrics


def expected_scalars(run, cast=float) -> dict[str, list[tuple[int, float]]]:
    """tag → [(step, value)]; ``cast``: what the tracker stores (TensorBoard: float32)."""
    series: dict[str, list[tuple[int, float]]] = {}

    def add(tag, step, value):
        if value is not None:
            series.setdefault(tag, []).append((step, cast(value)))

    for step, point in enumerate(run.curves, start=1):  # every epoch
        for j, acc in enumerate(point["acc"]):
            add(f"accuracy_by_epoch/task_{j + 1}", step, acc)
        add("loss/train", step, point["loss"])
    for step, row in enumerate(run.acc_matrix):  # before training, then after every task
        for j, acc in enumerate(row):
            add(f"accuracy_by_task/task_{j + 1}", step, acc)
    for i, (network, path, seconds) in enumerate(zip(run.params_per_task, run.metrics.task_parameters,
                                                     run.metrics.seconds_per_task), start=1):
        add("parameters/network", i, network)
        add("parameters/path", i, path)
        add("seconds/task", i, seconds)
    trained = run.metrics.tasks_trained
    for name in RunMetrics.FIGURES:  # ACC, BWT, FWT, forgetting: whatever the record calls its figures
        add(f"metrics/{name}", trained, getattr(run.metrics, name))
    for j, rate in enumerate(run.metrics.task_inference or []):
        add(f"task_inference/task_{j + 1}", trained, rate)
    return series


def expected_settings(run) -> dict:
    """Every setting but the data-file one, and the strategy's parameters (its defaults filled in)."""
    spec = strategy_specs.get(run.strategy)
    values = {k: v for k, v in run.settings.items() if k not in ("strategy_params", "embed_data")}
    values.update({f"strategy.{k}": v for k, v in {**spec.defaults(), **run.settings["strategy_params"]}.items()})
    return values
