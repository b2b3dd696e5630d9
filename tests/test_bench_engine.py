"""`modstudio bench`'s engine section: the engine and a plain PyTorch loop on the same device, in one run."""

from __future__ import annotations

import torch

from modstudio.benchmarks import _section, bench_engine


def test_the_engine_section_reports_both_loops_on_the_device_asked_for():
    report = bench_engine(epochs=1, repeats=1, device="cpu")
    assert report["workload"].endswith(", cpu")
    assert report["engine_s"] > 0 and report["plain_pytorch_s"] > 0
    # the ratio is of the unrounded seconds; the seconds are rounded to the millisecond
    low = (report["engine_s"] - 0.0005) / (report["plain_pytorch_s"] + 0.0005)
    high = (report["engine_s"] + 0.0005) / (report["plain_pytorch_s"] - 0.0005)
    assert low - 0.001 <= report["time_ratio"] <= high + 0.001


def test_a_device_this_machine_lacks_is_reported_not_fatal():
    if torch.cuda.is_available():
        return
    report = _section(lambda: bench_engine(epochs=1, repeats=1, device="cuda"))
    assert "error" in report and "cuda" in report["error"].lower()
