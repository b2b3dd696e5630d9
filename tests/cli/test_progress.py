"""The command line's progress bar (tqdm on a terminal, plain lines on a pipe), fed events by hand."""

import io

import pytest

from modstudio import progress
from modstudio.learn import events as ev
from modstudio.progress import ProgressPrinter, format_seconds


class Terminal(io.StringIO):
    """A stream that says it is a terminal (of unknown size: no fileno)."""

    def isatty(self):
        return True


def started(n_tasks=2):
    return ev.RunStarted("r1", "finetune", n_tasks, "cpu")


def step(task, epoch, fraction, eta=5.0, phase="train"):
    return ev.Progress(task, epoch, 3, fraction, 1234.4, eta, 0.3, phase)


def task_ended(task):
    return ev.TaskEnded(task, [0.91, 0.52], 8970, 1.25)


def test_format_seconds():
    assert [format_seconds(s) for s in (None, float("nan"), -1, 0, 59.6, 61, 3600, 3725)] == [
        "—", "—", "—", "0:00", "1:00", "1:01", "1:00:00", "1:02:05"]


def test_terminal_bar_shows_task_epoch_rate_and_eta_and_closes_at_the_end():
    out = Terminal()
    printer = ProgressPrinter(out)
    assert printer.tty
    printer(started())
    printer(step(0, 0, 0.1))
    printer(step(0, 1, 0.3, eta=65))
    assert printer.bar is not None
    printer(task_ended(0))
    printer(step(1, 0, 0.6, phase="search"))
    printer(ev.RunFinished("finished"))
    assert printer.bar is None
    text = out.getvalue()
    assert text.startswith("training 2 tasks with finetune on cpu\n")
    assert "\r" in text  # redrawn in place
    assert " 30%|" in text and "task 1/2  epoch 2/3  1,234 samples/s  ETA 1:05" in text
    assert "task 2/2  epoch 1/3 search" in text
    assert "task 1/2 done in 1.2s  accuracy so far: 0.91  parameters: 8,970\n" in text
    assert "100%|" in text and "2/2 tasks trained in" in text  # a finished run ends full
    assert text.endswith("\n")
    printer.close()  # again: nothing more
    assert out.getvalue() == text


@pytest.mark.parametrize("status", ["stopped", "failed"])
def test_a_stopped_or_failed_run_leaves_the_bar_where_it_was(status):
    out = Terminal()
    printer = ProgressPrinter(out)
    printer(started())
    printer(step(0, 1, 0.4))
    printer(ev.RunFinished(status, "boom" if status == "failed" else "stopped by the user"))
    assert printer.bar is None
    text = out.getvalue()
    assert "100%" not in text and " 40%|" in text.rsplit("\r", 1)[-1]  # the last drawing stays
    assert text.endswith("\n")
    assert ("failed: boom\n" in text) == (status == "failed")


def test_close_ends_the_line_when_no_run_finished_event_came():
    out = Terminal()
    printer = ProgressPrinter(out)
    printer(started())
    printer(step(0, 0, 0.2))
    printer.close()
    assert printer.bar is None and out.getvalue().endswith("\n")


def test_on_a_pipe_plain_lines_one_per_task_and_at_most_one_progress_line_per_10_s(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    printer = ProgressPrinter(out)
    assert not printer.tty
    printer(started())
    printer(step(0, 0, 0.1))
    printer(step(0, 0, 0.2))  # too soon: not written
    now[0] += 10.5
    printer(step(0, 1, 0.3))
    printer(task_ended(0))
    printer(ev.RunFinished("failed", "boom"))
    printer.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines == [
        "training 2 tasks with finetune on cpu",
        " 10%  task 1/2  epoch 1/3  1,234 samples/s  ETA 0:05",
        " 30%  task 1/2  epoch 2/3  1,234 samples/s  ETA 0:05",
        "task 1/2 done in 1.2s  accuracy so far: 0.91  parameters: 8,970",
        "failed: boom",
    ]
