"""``ms.train`` never loses a run, and checks its arguments (issue 17, items 7 and 31).

Ctrl-C inside the training loop (a KeyboardInterrupt in a script or notebook) and a callback that
raises on ``RunFinished`` used to lose the whole run; now the run is in ``project.runs`` with its
history either way.
"""

from __future__ import annotations

import pytest

import modstudio as ms
from modstudio.learn import events as ev
from modstudio.learn.trainer import TrainingError
from modstudio.project.settings import SettingsError
from modstudio.project.strategy_specs import StrategyError


def test_ctrl_c_in_the_loop_keeps_the_run_as_stopped_then_reraises(tiny_project, tmp_path):
    seen = []

    def interrupt_after_the_first_task(event):
        seen.append(type(event).__name__)
        if isinstance(event, ev.EpochEnded) and event.task == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises wherever the loop happens to be

    with pytest.raises(KeyboardInterrupt):
        ms.train(tiny_project, callbacks=[interrupt_after_the_first_task])
    assert len(tiny_project.runs) == 1
    run = tiny_project.runs[0]
    assert run.status == "stopped" and "KeyboardInterrupt" in run.message
    assert len(run.acc_matrix) == 2 and len(run.paths) == 1 and len(run.curves) >= 3  # task 0 and its history
    assert run.weights and seen[-1] == "RunFinished"  # every callback heard the end
    assert ms.load_project(tiny_project.save(tmp_path / "p.modstudio")).runs[0].status == "stopped"


def test_a_callback_raising_on_run_finished_keeps_the_run(tiny_project):
    heard = []

    def broken(event):
        if isinstance(event, ev.RunFinished):
            raise ValueError("display went away")

    result = ms.train(tiny_project, callbacks=[broken, heard.append])
    run = result.run
    assert tiny_project.runs[-1] is run and run.weights and len(run.paths) == 3
    assert run.status == "failed" and "a callback failed on RunFinished" in run.message
    assert "broken" in run.message and "display went away" in run.message
    assert "ValueError" in run.metrics.traceback
    assert isinstance(heard[-1], ev.RunFinished)  # the callbacks after the broken one still heard it
    assert len(run.acc_matrix) == 4 and run.metrics.acc is not None


def test_a_callback_raising_mid_run_fails_the_run_and_keeps_it(tiny_project):
    def broken(event):
        if isinstance(event, ev.TaskEnded):
            raise RuntimeError("boom")

    run = ms.train(tiny_project, callbacks=[broken]).run
    assert tiny_project.runs[-1] is run and run.status == "failed" and "boom" in run.message


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"callbacks": 5}, TrainingError, "callbacks: expected a list of functions"),
    ({"callbacks": print}, TrainingError, "callbacks: expected a list of functions .*got one"),
    ({"callbacks": [5]}, TrainingError, r"callbacks\[0\]: expected a function"),
    ({"trainer_ready": 5}, TrainingError, "trainer_ready: expected a function"),
    ({"epochs": "3"}, SettingsError, "epochs must be a whole number"),
    ({"seed": 2**70}, SettingsError, "seed"),  # its wording belongs to the settings
    ({"bogus": 1}, SettingsError, "unknown training setting 'bogus'"),
    ({"strategy": "replay", "strategy_params": {"memory": float("inf")}}, StrategyError,
     "replay: memory must be a (whole|finite) number, not inf"),
    ({"strategy": "ewc", "strategy_params": {"lambda": float("inf")}}, StrategyError, "lambda must be a finite"),
    ({"strategy": "nope"}, StrategyError, "nope"),
])
def test_bad_arguments_raise_before_training(tiny_project, kwargs, error, message):
    with pytest.raises(error, match=message):
        ms.train(tiny_project, **kwargs)
    assert len(tiny_project.runs) == 0


def test_a_project_that_is_not_one():
    with pytest.raises(TrainingError, match="project: expected a modstudio Project, got dict"):
        ms.train({})
