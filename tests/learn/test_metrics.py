"""Metrics against matrices computed by hand from the published definitions."""

import pytest

from modstudio.learn.metrics import AccuracyMatrix, summarize

# Row 0: before training. Rows 1..3: after tasks 1..3.
R = [
    [0.10, 0.20, 0.30],
    [0.90, 0.25, 0.35],
    [0.70, 0.80, 0.40],
    [0.60, 0.75, 0.85],
]


def test_acc_is_the_mean_of_the_last_row():
    assert summarize(R).acc == pytest.approx((0.60 + 0.75 + 0.85) / 3)


def test_bwt_lopez_paz():
    # (R33_1 - R11) + (R33_2 - R22) over T-1 = 2
    assert summarize(R).bwt == pytest.approx(((0.60 - 0.90) + (0.75 - 0.80)) / 2)


def test_fwt_lopez_paz_uses_the_row_before_training():
    # task 2: R[1][1] - b2 = 0.25 - 0.20; task 3: R[2][2] - b3 = 0.40 - 0.30
    assert summarize(R).fwt == pytest.approx(((0.25 - 0.20) + (0.40 - 0.30)) / 2)


def test_forgetting_chaudhry_takes_the_best_earlier_accuracy():
    # task 1: max(0.90, 0.70) - 0.60 = 0.30 ; task 2: max(0.25, 0.80) - 0.75 = 0.05
    assert summarize(R).forgetting == pytest.approx((0.30 + 0.05) / 2)


def test_no_forgetting_gives_zero_bwt_and_forgetting():
    flat = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.8]]
    s = summarize(flat)
    assert s.bwt == 0.0 and s.forgetting == 0.0 and s.acc == pytest.approx(0.85)


def test_a_stopped_run_uses_the_trained_rows_only():
    s = summarize(R[:3])  # stopped after task 2
    assert s.tasks_trained == 2
    assert s.acc == pytest.approx((0.70 + 0.80) / 2)
    assert s.bwt == pytest.approx(0.70 - 0.90)
    assert s.final_accuracies == [0.70, 0.80]


def test_one_task_has_no_transfer_metrics():
    s = summarize(R[:2])
    assert s.acc == pytest.approx(0.90) and s.bwt is None and s.fwt is None and s.forgetting is None


def test_collector_and_validation():
    m = AccuracyMatrix(3)
    for row in R:
        m.update(row)
    assert m.result().to_dict() == summarize(R).to_dict()
    with pytest.raises(ValueError):
        m.update([0.1])
    with pytest.raises(ValueError):
        summarize([[0.1, 0.2], [0.3]])
    with pytest.raises(ValueError):
        summarize([])
