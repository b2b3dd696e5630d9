"""Add Tasks → Download…: a benchmark downloaded in the background with progress and Cancel, then
offered in the dataset dialog's built-in list. Served from 127.0.0.1 (tests/data/benchmark_files.py)."""

from modstudio.data.benchmarks import state
from modstudio.gui.benchmark_download import BenchmarkDownloadDialog
from modstudio.gui.dataset_dialog import DatasetDialog
from tests.data.benchmark_files import benchmark_env  # noqa: F401  (fixture)


def choose(dialog, name):
    dialog.choice.setCurrentIndex(dialog.choice.findData(name))


def test_download_shows_progress_and_the_benchmark_joins_the_builtin_list(benchmark_env, qtbot):
    data = DatasetDialog()
    qtbot.addWidget(data)
    assert data.builtin_combo.findData("mnist") == -1
    dialog = BenchmarkDownloadDialog(data)
    qtbot.addWidget(dialog)
    choose(dialog, "mnist")
    assert dialog.download_button.isEnabled() and "MB" in dialog.choice.currentText()
    seen = []
    dialog.reporter.progress.connect(lambda name, done, total: seen.append((name, done, total)))
    with qtbot.waitSignal(dialog.downloaded, timeout=30_000) as arrived:
        assert dialog.start()
    assert arrived.args == ["mnist"] and state("mnist").present
    assert seen and seen[-1][1] == seen[-1][2] > 0
    assert dialog.bar.value() == 1000 and not dialog.download_button.isEnabled()
    assert dialog.choice.currentText().endswith("here")
    data.refresh_builtins(select="mnist")
    assert data.builtin_combo.currentData() == "mnist"
    assert data.dataset is not None and data.dataset.name == "mnist" and len(data.dataset) == 200


def test_cancel_stops_the_download_keeping_its_bytes_and_download_resumes(benchmark_env, qtbot):
    env = benchmark_env
    env.server.pace = 0.02  # about 5 s for the images file: time to cancel
    dialog = BenchmarkDownloadDialog()
    qtbot.addWidget(dialog)
    choose(dialog, "mnist")
    with qtbot.waitSignal(dialog.reporter.progress, timeout=10_000, check_params_cb=lambda n, done, t: done > 0):
        dialog.start()
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.running() and dialog.choice.isEnabled(), timeout=20_000)
    assert dialog.status.text().startswith("Cancelled.") and "Download resumes" in dialog.status.text()
    assert not state("mnist").present and state("mnist").files[0].partial > 0
    env.server.pace = 0.0
    env.server.requests.clear()
    with qtbot.waitSignal(dialog.downloaded, timeout=30_000):
        dialog.start()
    assert env.server.requests[0][1].startswith("bytes=")
    assert state("mnist").present


def test_closing_the_dialog_mid_download_cancels_and_waits(benchmark_env, qtbot):
    benchmark_env.server.pace = 0.02
    dialog = BenchmarkDownloadDialog()
    qtbot.addWidget(dialog)
    choose(dialog, "mnist")
    with qtbot.waitSignal(dialog.reporter.progress, timeout=10_000):
        dialog.start()
    dialog.reject()
    assert not dialog.running() and not state("mnist").present
