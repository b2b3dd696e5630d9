"""The Training dock's progress line: figures people can read, and every state on one line that fits."""

from __future__ import annotations

import pytest

from modstudio.gui.numbers import compact_rate


@pytest.mark.parametrize("rate, text", [(0.46, "0.5"), (8.44, "8.4"), (830.2, "830"), (999.96, "1.0 k"),
                                        (8330.781542162882, "8.3 k"), (31868.4, "31.9 k"), (1.24e6, "1.2 M")])
def test_rates_have_three_figures_at_most(rate, text):
    assert compact_rate(rate) == text


@pytest.fixture
def header(qtbot):
    from modstudio.gui.training.progress import ProgressHeader

    widget = ProgressHeader()
    qtbot.addWidget(widget)
    widget.resize(900, 30)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def fits(bar) -> bool:
    text = bar.text()  # the format with its %p% filled in, as drawn
    return "\n" not in text and bar.fontMetrics().horizontalAdvance(text) <= bar.width() - 12


def test_a_rate_below_ten_thousand_reads_as_k_with_the_eta_in_minutes(header):
    from modstudio.gui.training.state import LiveRun

    state = LiveRun.for_tasks(["a", "b", "c"], "finetune")
    state.status, state.current_task, state.epochs = "running", 0, 2
    state.samples_per_s, state.eta_s, state.device = 8330.781542162882, 41.3, "cpu"
    header.refresh(state)
    assert header.speed.text() == "8.3 k samples/s · ETA 0:41 · cpu"
    assert header.speed.fontMetrics().horizontalAdvance(header.speed.text()) <= header.speed.width()


@pytest.mark.parametrize("status, message", [("stopped", ""), ("finished", ""),
                                             ("failed", "RuntimeError: mat1 and mat2 shapes cannot be multiplied\n"
                                                        "(576x8 and 64x32) while training task 1")])
def test_end_states_are_one_line_that_fits_and_refits_when_the_bar_narrows(header, qtbot, status, message):
    from modstudio.gui.training.state import LiveRun

    state = LiveRun.for_tasks([f"task {i}" for i in range(5)], "expansion")
    state.status, state.message = status, message
    header.refresh(state)
    assert fits(header.bar) and header.bar.text().startswith(status.capitalize())
    if message:
        assert "— RuntimeError: mat1" in header.bar.text() and message in header.bar.toolTip()
    header.bar.setFixedWidth(160)  # a narrow dock: a shorter wording, still whole
    qtbot.waitUntil(lambda: header.bar.width() == 160)
    assert fits(header.bar) and header.bar.text().startswith(status.capitalize())
