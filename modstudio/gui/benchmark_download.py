"""Add Tasks → Download…: a standard benchmark fetched in the background, with a progress bar and
a Cancel button; what ``modstudio data get NAME`` does, through the same ``benchmarks.get``.

The download runs in a Job (never on the GUI thread). Progress crosses to the GUI thread as a
queued signal, at most every ``REPORT_S`` (a 170 MB file arrives in 256 KB chunks). Cancel, or
closing the dialog, sets the download's cancel flag and waits for the Job: the bytes received stay
in a ``.part`` file, and the next Download resumes them.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)

from modstudio.gui.jobs import Job

REPORT_S = 0.1


class _Reporter(QObject):
    """Emitted on the download's thread, received on the GUI thread (a queued connection)."""

    progress = Signal(str, int, int)  # file name, bytes so far, total (0: unknown)


class BenchmarkDownloadDialog(QDialog):
    """Pick a benchmark, download it, watch it arrive; ``downloaded(name)`` once it is here."""

    downloaded = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download a standard benchmark")
        from modstudio.data import benchmarks

        self.benchmarks = benchmarks
        self.job: Job | None = None
        self.cancel_flag = threading.Event()
        self.reporter = _Reporter(self)
        self.reporter.progress.connect(self._on_reporter_progress)
        self._last_report = 0.0

        self.choice = QComboBox()
        intro = QLabel("The publisher's original files, each checked against the checksum pinned in ModStudio "
                       "before it is kept, in your data folder; from then on they work offline.")
        intro.setWordWrap(True)
        self.status = QLabel(objectName="dim")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.download_button = QPushButton("Download")
        self.download_button.setDefault(True)
        self.download_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.choice)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.choice.currentIndexChanged.connect(self._show_state)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """The benchmarks with what is here of each (re-read from disk)."""
        current = select or self.choice.currentData()
        self.choice.blockSignals(True)
        self.choice.clear()
        for s in self.benchmarks.states():
            b = s.benchmark
            here = "here" if s.present else f"{b.download_bytes / 1e6:,.0f} MB"
            self.choice.addItem(f"{b.title} — {here}", b.name)
        self.choice.setCurrentIndex(max(0, self.choice.findData(current)))
        self.choice.blockSignals(False)
        self._show_state()

    def _show_state(self) -> None:
        if self.running():
            return
        name = self.choice.currentData()
        if name is None:
            return
        s = self.benchmarks.state(name)
        partial = sum(f.partial for f in s.files)
        if s.present:
            self.status.setText(f"{s.benchmark.title} is here ({s.folder}).")
        elif partial:
            self.status.setText(f"{partial / 1024**2:,.1f} MiB of an earlier download are kept: Download resumes it.")
        else:
            self.status.setText(f"{s.benchmark.reference}. Saved in {s.folder}.")
        self.bar.setValue(1000 if s.present else 0)
        self.download_button.setEnabled(not s.present)

    def running(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def start(self) -> bool:
        """Download the chosen benchmark in the background."""
        if self.running():
            return False
        name = self.choice.currentData()
        self.cancel_flag = threading.Event()
        flag = self.cancel_flag
        self.job = Job(lambda: self.benchmarks.get(name, progress=self._report, cancel=flag), self)
        self.job.done.connect(lambda results: self._on_job_done(name))
        self.job.failed.connect(self._on_job_failed)
        self.download_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.choice.setEnabled(False)
        self.status.setText("Connecting…")
        self.job.start()
        return True

    def _report(self, t) -> None:
        """On the download's thread: pass progress on, not more often than every REPORT_S."""
        now = time.monotonic()
        if now - self._last_report >= REPORT_S or t.done == t.total:
            self._last_report = now
            self.reporter.progress.emit(t.name, t.done, t.total or 0)

    def _on_reporter_progress(self, name: str, done: int, total: int) -> None:
        if not self.running():
            return
        self.bar.setValue(int(1000 * done / total) if total else 0)
        of = f" of {total / 1024**2:,.1f}" if total else ""
        self.status.setText(f"{name}: {done / 1024**2:,.1f}{of} MiB")

    def cancel(self) -> None:
        self.cancel_flag.set()
        self.status.setText("Cancelling…")

    def wait(self, ms: int = 120_000) -> None:
        if self.job is not None:
            self.job.wait(ms)

    def _finish(self) -> None:
        self.cancel_button.setEnabled(False)
        self.choice.setEnabled(True)

    def _on_job_done(self, name: str) -> None:
        self.job.wait()  # the thread has emitted its last signal: running() is false from here
        self._finish()
        self.refresh(select=name)
        self.status.setText(f"{self.benchmarks.state(name).benchmark.title} is here: add tasks from it.")
        self.downloaded.emit(name)

    def _on_job_failed(self, message: str) -> None:
        self.job.wait()
        self._finish()
        self.refresh()
        self.status.setText(message if not self.cancel_flag.is_set() else
                            f"Cancelled. {self.status.text()}")

    def reject(self) -> None:
        """Closing cancels a download in progress (its bytes are kept for the next one)."""
        if self.running():
            self.cancel_flag.set()
            self.wait()
        super().reject()
