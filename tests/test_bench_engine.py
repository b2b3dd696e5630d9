"""`modstudio bench`'s engine sections: the engine and a plain PyTorch loop on the same device, in one run,
on split-digits and on image-shaped data at scale (bytes on both sides)."""

from __future__ import annotations

import pytest
import torch

from modstudio.benchmarks import _section, bench_engine
from modstudio.engine_bench import WORKLOADS, bench_workload


def _ratio_is_of_the_seconds(report) -> None:
    # the ratio is of the unrounded seconds; the seconds are rounded to the millisecond
    low = (report["engine_s"] - 0.0005) / (report["plain_pytorch_s"] + 0.0005)
    high = (report["engine_s"] + 0.0005) / (report["plain_pytorch_s"] - 0.0005)
    assert low - 0.001 <= report["time_ratio"] <= high + 0.001


def test_the_engine_section_reports_both_loops_on_the_device_asked_for():
    report = bench_engine(epochs=1, repeats=3, device="cpu")
    assert len(report["pair_ratios"]) == 3
    assert report["median_pair_ratio"] == sorted(report["pair_ratios"])[1]
    assert ", cpu," in report["workload"]
    assert report["engine_s"] > 0 and report["plain_pytorch_s"] > 0
    _ratio_is_of_the_seconds(report)


@pytest.mark.parametrize("name, shape", [("mnist_shaped", (1, 28, 28)), ("cifar10_shaped", (3, 32, 32))])
def test_the_workloads_at_scale_train_bytes_on_both_sides(name, shape):
    project = WORKLOADS[name].build(120)
    assert len(project.tasks) == 5 and all(t.sample_shape == shape for t in project.tasks)
    assert all(t.train.x.dtype.name == "uint8" and t.values is not None for t in project.tasks)
    report = bench_workload(name, repeats=1, samples=120)
    assert "120 samples" in report["workload"] and "cpu" in report["workload"]
    assert report["engine_samples_per_s"] > 0 and report["plain_samples_per_s"] > 0
    _ratio_is_of_the_seconds(report)
    assert len(report["pair_ratios"]) == 1 and report["median_pair_ratio"] == report["pair_ratios"][0]


def test_a_device_this_machine_lacks_is_reported_not_fatal():
    if torch.cuda.is_available():
        return
    report = _section(lambda: bench_engine(epochs=1, repeats=1, device="cuda"))
    assert "error" in report and "cuda" in report["error"].lower()
