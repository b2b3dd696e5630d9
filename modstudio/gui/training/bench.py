"""Responsiveness while training, for ``modstudio bench``.

The same CPU run (finetune on split-digits, stopped after ``seconds``) twice: headless on a plain
thread, then from the studio window with its live plots, while a QTimer probes the GUI event loop
every ``probe_ms``. Reported: the event loop's longest stall and 99th percentile (how late the probe
fired), and training samples/s with the window against headless.
"""

from __future__ import annotations

import os
import threading
import time


def _workload(seconds: float):
    from modstudio.examples import build_example

    project = build_example("split-digits")
    project.settings.strategy = "finetune"
    project.settings.device = "cpu"
    project.settings.epochs = 100_000  # stopped by time, not by epochs
    return project


def _headless(seconds: float) -> float:
    """The same run on a plain thread, with the thread count a run from the window uses."""
    import torch

    from modstudio.gui.training.worker import default_threads
    from modstudio.learn.trainer import Trainer

    previous = torch.get_num_threads()
    torch.set_num_threads(default_threads("cpu") or previous)
    try:
        return _headless_run(seconds, Trainer)
    finally:
        torch.set_num_threads(previous)


def _headless_run(seconds: float, Trainer) -> float:
    project = _workload(seconds)
    rates: list[float] = []

    def on_event(event) -> None:
        if event.kind == "progress":
            rates.append(event.samples_per_s)

    trainer = Trainer(project.graph, project.tasks, project.settings, [on_event])
    timer = threading.Timer(seconds, trainer.stop)
    thread = threading.Thread(target=trainer.run)
    started = threading.Event()

    def first(event) -> None:
        if event.kind == "run_started":
            started.set()

    trainer.callbacks.append(first)
    thread.start()
    started.wait(120)
    timer.start()
    thread.join()
    timer.cancel()
    return rates[-1] if rates else 0.0


def bench_responsiveness(seconds: float = 10.0, probe_ms: int = 2) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from modstudio.gui import dialogs
    from modstudio.gui.main_window import MainWindow
    from modstudio.gui.training.worker import default_threads

    app = QApplication.instance() or QApplication([])
    headless_rate = _headless(seconds)

    window = MainWindow(_workload(seconds))
    window.resize(1600, 1000)
    window.show()
    window.training.dock.raise_()
    app.processEvents()
    training = window.training
    gaps: list[float] = []
    prep_gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def probe() -> None:
        now = clock.nsecsElapsed()
        gap = (now - last[0]) / 1e6 - probe_ms
        last[0] = now
        (gaps if training.state.samples_per_s else prep_gaps).append(max(gap, 0.0))

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(probe_ms)
    timer.timeout.connect(probe)
    started_at = [None]
    original = dialogs.show_run_error
    dialogs.show_run_error = lambda *a, **k: None
    # The window runs its real event loop (blocking in Qt until something happens), as the studio
    # does; a polling loop here would take the GIL from the worker and measure itself.
    loop = QEventLoop()
    deadline = time.monotonic() + 180

    def supervise() -> None:
        if not training.running or time.monotonic() > deadline:
            loop.quit()
            return
        if started_at[0] is None and training.state.samples_per_s:
            started_at[0] = time.monotonic()
        if started_at[0] is not None and time.monotonic() - started_at[0] >= seconds:
            training.stop()
            started_at[0] = float("inf")

    supervisor = QTimer()
    supervisor.setInterval(100)
    supervisor.timeout.connect(supervise)
    try:
        assert training.start(), "the run did not start"
        timer.start()
        supervisor.start()
        loop.exec()
        supervisor.stop()
        timer.stop()
        gui_rate = training.state.samples_per_s or 0.0
        status = window.document.project.runs[-1].status if window.document.project.runs else "?"
    finally:
        dialogs.show_run_error = original
        training.stop_and_wait()
        window.document.undo_stack.setClean()
        window.close()
        window.deleteLater()
        app.processEvents()

    def pct(values: list[float], q: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    ratio = gui_rate / headless_rate if headless_rate else 0.0
    return {
        "workload": f"finetune, split-digits MLP, CPU, ~{seconds:g} s of training each way",
        "run_status": status,
        "probes": len(gaps),
        "stall_p99_ms": round(pct(gaps, 0.99), 2),
        "stall_max_ms": round(max(gaps, default=0.0), 2),
        "stall_median_ms": round(pct(gaps, 0.5), 2),
        "startup_stall_max_ms": round(max(prep_gaps, default=0.0), 2),
        "torch_threads": default_threads("cpu"),
        "cpu_cores": os.cpu_count(),
        "headless_samples_per_s": round(headless_rate),
        "gui_samples_per_s": round(gui_rate),
        "speed_ratio": round(ratio, 3),
        "goal": "stall_p99_ms ≤ 16, stall_max_ms ≤ 50, speed_ratio ≥ 0.95",
    }


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    print(json.dumps(bench_responsiveness(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0), indent=2))
