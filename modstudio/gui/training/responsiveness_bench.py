"""Responsiveness while training, for ``modstudio bench``.

Two copies of the same CPU run (finetune on split-digits), each in a training process of its own:
one headless, one from the studio window with its live plots. They take turns of ``turn_s`` seconds, the other one paused, until
each has trained ``seconds``: on a shared machine a training loop's speed drifts by ±20 % within a
minute, more than the effect measured, and taking turns puts both runs on the same machine.
Paused time counts in neither run's samples/s.

Reported: the GUI event loop's longest stall and 99th percentile while the window's run trains
(how late a QTimer firing every ``probe_ms`` came), and the window run's samples/s against the
headless one's.
"""

from __future__ import annotations

import os
import threading
import time


def _workload():
    from modstudio.examples import build_example

    project = build_example("split-digits")
    project.configure(strategy="finetune", device="cpu", epochs=100_000)  # stopped by the bench, not by epochs
    return project


class _Headless:
    """The headless run: no window, in a training process of its own with the window run's thread
    count (``modstudio train`` runs the same trainer in its own process)."""

    def __init__(self) -> None:
        from modstudio.gui.training.worker import default_threads
        from modstudio.learn.remote import RemoteTrainer

        project = _workload()
        self.rate = 0.0
        self.ready = threading.Event()
        self.trainer = RemoteTrainer(project.graph, project.tasks, project.settings, [self._on_event],
                                     threads=default_threads("cpu"))
        self.trainer.pause()  # it waits at its first batch until its first turn
        self.thread = threading.Thread(target=self.trainer.run, name="headless-run", daemon=True)
        self.thread.start()

    def _on_event(self, event) -> None:
        if event.kind == "evaluated":
            self.ready.set()
        elif event.kind == "progress":
            self.rate = event.samples_per_s

    def close(self) -> None:
        self.trainer.stop()
        self.thread.join(60)


def bench_responsiveness(seconds: float = 10.0, probe_ms: int = 2, turn_s: float = 1.0) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from modstudio.gui import dialogs
    from modstudio.gui.main_window import MainWindow
    from modstudio.gui.training.worker import default_threads

    app = QApplication.instance() or QApplication([])
    headless = _Headless()
    window = MainWindow(_workload())
    window.resize(1600, 1000)
    window.show()
    window.training.dock.raise_()
    app.processEvents()
    training = window.training
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def probe() -> None:
        now = clock.nsecsElapsed()
        gaps.append(max((now - last[0]) / 1e6 - probe_ms, 0.0))
        last[0] = now

    prober = QTimer()
    prober.setTimerType(Qt.TimerType.PreciseTimer)
    prober.setInterval(probe_ms)
    prober.timeout.connect(probe)

    def spin(wait_s: float, until=lambda: False) -> None:
        """Run the window's real event loop (as the studio does) for ``wait_s`` or until ``until()``."""
        loop = QEventLoop()
        check = QTimer()
        check.timeout.connect(lambda: (until() or not training.running) and loop.quit())
        check.start(20)
        QTimer.singleShot(int(wait_s * 1000), loop.quit)
        loop.exec()
        check.stop()

    original = dialogs.show_run_error
    dialogs.show_run_error = lambda *a, **k: None
    try:
        headless.ready.wait(180)
        began = time.monotonic()
        assert training.start(), "the run did not start"
        spin(180, until=lambda: bool(training.state.samples_per_s))
        start_s = time.monotonic() - began
        turns = max(1, round(seconds / turn_s))
        for _ in range(turns):
            headless.trainer.pause()
            training.resume()
            last[0] = clock.nsecsElapsed()
            prober.start()
            spin(turn_s)
            prober.stop()
            training.pause()
            headless.trainer.resume()
            spin(turn_s)
        headless.trainer.pause()
        spin(0.3)  # the last progress of each run arrives
        gui_rate = training.state.samples_per_s or 0.0
        status = "running" if training.running else training.state.status
    finally:
        dialogs.show_run_error = original
        headless.close()
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

    ratio = gui_rate / headless.rate if headless.rate else 0.0
    return {
        "workload": f"finetune, split-digits MLP, CPU, {turns} turns of {turn_s:g} s each way",
        "run_status": status,
        "run_start_s": round(start_s, 2),
        "probes": len(gaps),
        "stall_p99_ms": round(pct(gaps, 0.99), 2),
        "stall_max_ms": round(max(gaps, default=0.0), 2),
        "stall_median_ms": round(pct(gaps, 0.5), 2),
        "torch_threads": default_threads("cpu"),
        "cpu_cores": os.cpu_count(),
        "headless_samples_per_s": round(headless.rate),
        "gui_samples_per_s": round(gui_rate),
        "speed_ratio": round(ratio, 3),
        "goal": "stall_p99_ms ≤ 16, stall_max_ms ≤ 50, speed_ratio ≥ 0.95",
    }


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    print(json.dumps(bench_responsiveness(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0), indent=2))
