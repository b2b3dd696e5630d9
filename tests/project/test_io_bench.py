"""bench_project_io runs and reports ratios (a smoke test: timing belongs in `modstudio bench`)."""

from modstudio.project.io_bench import bench_project_io, bench_task_data_io


def test_bench_reports_ratios(tmp_path):
    result = bench_project_io(size_mb=2, repeats=1, folder=tmp_path)
    assert {"save_ratio", "load_ratio", "save_no_fsync_ratio", "weights_mb"} <= set(result)
    assert all(v > 0 for v in result.values())
    assert list(tmp_path.iterdir()) == []


def test_task_data_bench_reports_ratios_against_numpy(tmp_path):
    result = bench_task_data_io(size_mb=1, repeats=1, folder=tmp_path)
    assert {"save_ratio", "save_fsync_ratio", "load_ratio", "np_savez_s", "np_load_s"} <= set(result)
    assert all(v > 0 for v in result.values())
    assert result["file_mb"] >= result["data_mb"]  # stored, not deflated
    assert list(tmp_path.iterdir()) == []
