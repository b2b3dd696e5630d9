"""The command line's progress bar, fed by trainer events: task k/n, epoch, samples/s, ETA.

On a terminal it is a ``tqdm`` bar redrawn in place, with a line above it as each task ends; on a
pipe or a log file (a cluster job), plain lines: one per task and at most one progress line per
10 s. The figures come from the trainer's ``Progress`` events (the same ones the studio's progress
line shows), so the ETA counts the epochs the strategy plans, searches included.
"""

from __future__ import annotations

import os
import time
from typing import TextIO

from tqdm import tqdm

from modstudio.learn import events as ev

BAR_WIDTH = 24
PLAIN_INTERVAL_S = 10.0  # off a terminal: at most one progress line this often
STEPS = 1000  # the bar counts permille of the run (a run's fraction, not its samples)
BAR_FORMAT = "{percentage:3.0f}%|{bar:" + str(BAR_WIDTH) + "}| {desc}"


def format_seconds(seconds: float | None) -> str:
    """An ETA as ``m:ss`` or ``h:mm:ss``; ``—`` when unknown (None, NaN, negative). The terminal and
    the studio's progress line both show it so."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class _Bar(tqdm):
    """tqdm without its monitor thread: this bar is redrawn on every event, nothing else."""

    monitor_interval = 0


class ProgressPrinter:
    """A trainer callback: a ``tqdm`` bar on a terminal; on a pipe, a plain line per task and at most
    one progress line per 10 s. It closes its bar when the run ends (finished, stopped by Ctrl-C or
    ``stop()``, failed); ``close()`` does too and may be called again."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = _isatty(stream)
        self.n_tasks = 0
        self.last_plain = float("-inf")
        self.bar: tqdm | None = None

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.n_tasks = event.n_tasks
            self._write(f"training {event.n_tasks} tasks with {event.strategy} on {event.device}")
        elif isinstance(event, ev.Progress):
            self._progress(event)
        elif isinstance(event, ev.ValidationCarved):
            self._write(event.describe())
        elif isinstance(event, (ev.EarlyStopping, ev.EarlyStoppingSkipped)):
            self._write(event.describe())
        elif isinstance(event, ev.TaskEnded):
            accs = " ".join(f"{a:.2f}" for a in event.accuracies[: event.task + 1])
            self._write(f"task {event.task + 1}/{self.n_tasks} done in {event.seconds:.1f}s  "
                        f"accuracy so far: {accs}  parameters: {event.parameters:,}")
        elif isinstance(event, ev.RunFinished):
            if event.status == "finished" and self.bar is not None:  # the last Progress came before the end
                self.bar.n = self.bar.total
                elapsed = format_seconds(self.bar.format_dict["elapsed"])  # drawn once more as it closes:
                self.bar.set_description_str(f"{self.n_tasks}/{self.n_tasks} tasks trained in {elapsed}",
                                             refresh=False)
            self.close()
            if event.status == "failed":
                self._write(f"failed: {event.message}")

    def _progress(self, event: ev.Progress) -> None:
        phase = f" {event.phase}" if event.phase != "train" else ""
        text = (f"task {event.task + 1}/{self.n_tasks}  epoch {event.epoch + 1}/{event.epochs}{phase}  "
                f"{event.samples_per_s:,.0f} samples/s  ETA {format_seconds(event.eta_s)}")
        if not self.tty:
            now = time.monotonic()
            if now - self.last_plain >= PLAIN_INTERVAL_S:
                self.last_plain = now
                self._write(f"{event.fraction:4.0%}  {text}")
            return
        done = min(max(round(event.fraction * STEPS), 0), STEPS)
        columns, lines = _size(self.stream)
        if self.bar is None:
            self.bar = _Bar(total=STEPS, initial=done, desc=text, file=self.stream, bar_format=BAR_FORMAT,
                            ncols=columns, nrows=lines, leave=True)
        self.bar.ncols, self.bar.nrows = columns, lines  # follows a resized window
        self.bar.n = done
        self.bar.set_description_str(text)  # redraws the line (the trainer already limits the rate)

    def _write(self, text: str) -> None:
        """A line of its own: above the bar on a terminal (tqdm clears and redraws it)."""
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Leave the bar's last state on its own line; the next output starts on a fresh one."""
        bar, self.bar = self.bar, None
        if bar is not None:
            bar.close()


def _size(stream: TextIO) -> tuple[int | None, int | None]:
    """The terminal's columns (to cut the line to) and lines, each None where it reports none: a
    pseudo-terminal without a size (``script``, ``docker run -t``) says 0 × 0, which tqdm's own
    probe turns into -1 × -1 and then draws nothing."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return None, None
    return size.columns or None, size.lines or None


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
