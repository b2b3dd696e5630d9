"""bench_project_io runs and reports ratios (a smoke test: timing belongs in `modstudio bench`)."""

from modstudio.project.io_bench import bench_project_io


def test_bench_reports_ratios(tmp_path):
    result = bench_project_io(size_mb=2, repeats=1, folder=tmp_path)
    assert {"save_ratio", "load_ratio", "save_no_fsync_ratio", "weights_mb"} <= set(result)
    assert all(v > 0 for v in result.values())
    assert list(tmp_path.iterdir()) == []
