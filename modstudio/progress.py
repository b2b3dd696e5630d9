"""A terminal progress bar fed by trainer events: task k/n, epoch, samples/s, ETA."""

from __future__ import annotations

import time
from typing import TextIO

from modstudio.learn import events as ev

BAR_WIDTH = 24


def format_seconds(seconds: float | None) -> str:
    """An ETA as ``m:ss`` or ``h:mm:ss``; ``—`` when unknown (None, NaN, negative). The terminal and
    the studio's progress line both show it so."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressPrinter:
    """One redrawn line on a terminal; on a pipe, a plain line per task and at most one per 10 s."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.n_tasks = 0
        self.last_plain = 0.0
        self.width = 0

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.n_tasks = event.n_tasks
            self._line(f"training {event.n_tasks} tasks with {event.strategy} on {event.device}", final=True)
        elif isinstance(event, ev.Progress):
            filled = int(event.fraction * BAR_WIDTH)
            bar = "█" * filled + "·" * (BAR_WIDTH - filled)
            phase = " search" if event.phase == "search" else ""
            text = (f"{bar} {event.fraction:4.0%}  task {event.task + 1}/{self.n_tasks}  epoch {event.epoch + 1}/"
                    f"{event.epochs}{phase}  {event.samples_per_s:,.0f} samples/s  ETA {format_seconds(event.eta_s)}")
            if self.tty:
                self._line(text)
            elif time.monotonic() - self.last_plain > 10:
                self.last_plain = time.monotonic()
                self._line(text, final=True)
        elif isinstance(event, ev.TaskEnded):
            accs = " ".join(f"{a:.2f}" for a in event.accuracies[: event.task + 1])
            self._line(f"task {event.task + 1}/{self.n_tasks} done in {event.seconds:.1f}s  "
                       f"accuracy so far: {accs}  parameters: {event.parameters:,}", final=True)
        elif isinstance(event, ev.RunFinished) and event.status == "failed":
            self._line(f"failed: {event.message}", final=True)

    def _line(self, text: str, final: bool = False) -> None:
        if self.tty:
            pad = max(self.width - len(text), 0)
            self.stream.write("\r" + text + " " * pad + ("\n" if final else ""))
            self.width = 0 if final else len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0
