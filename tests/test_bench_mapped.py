"""`modstudio bench`'s larger-than-memory row: data twice the memory limit, trained mapped under it."""

from __future__ import annotations

import sys

import pytest

from modstudio.benchmarks import run_bench


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA counts file maps apart since Linux 4.7")
def test_the_section_trains_data_twice_the_limit_to_the_same_matrix(monkeypatch):
    import modstudio.benchmarks as benchmarks

    calls = {}
    real = benchmarks.bench_mapped_data
    for name in ("bench_engine", "bench_engine_at_scale", "bench_project_file", "bench_memory", "bench_canvas", "bench_gui_training",
                 "bench_startup"):
        monkeypatch.setattr(benchmarks, name, lambda *a, **k: {})
    monkeypatch.setattr(benchmarks, "bench_mapped_data", lambda limit_mb: calls.setdefault("row", real(limit_mb=50)))
    row = run_bench(quick=True)["mapped_data"]
    assert row == calls["row"]
    assert row["data_mb"] == 100 and row["memory_limit_mb"] == 50
    assert row["in_memory_under_limit"] == "refused" and row["mapped_under_limit"] == "finished"
    assert row["same_matrix"] is True
