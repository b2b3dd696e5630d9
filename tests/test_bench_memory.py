"""`modstudio bench`'s memory section: peak RSS of a run against plain PyTorch, in fresh processes."""

from __future__ import annotations

from modstudio.memory_bench import bench_memory, measure


def test_each_side_reports_the_bytes_it_holds_and_its_peak():
    engine, plain = measure("engine", "uint8", 3000), measure("plain", "uint8", 3000)
    assert engine["data_bytes"] == plain["data_bytes"] == 3000 * (784 + 8)  # bytes: one a pixel, labels int64
    assert engine["model_bytes"] == plain["model_bytes"] == 4 * ((784 + 1) * 256 + 257 * 256 + 5 * 257 * 2)
    for side in (engine, plain):
        assert 0 < side["held_mb"] <= side["peak_mb"]


def test_the_section_gives_the_ratio_per_storage_dtype():
    report = bench_memory(samples=3000, dtypes=("uint8",))
    assert report["uint8_data_mb"] == round(3000 * 792 / 2**20, 1)
    assert abs(report["uint8_peak_ratio"] - report["uint8_engine_peak_mb"] / report["uint8_plain_peak_mb"]) < 0.002
    assert "float32_peak_ratio" not in report and report["goal"] == "uint8_peak_ratio ≤ 1.15"
