"""The settings of a task's training phase: learning-rate schedules, early stopping, optimiser
state across tasks, and when the test splits are evaluated."""

import io
import math

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.data import load_builtin, split_by_class
from modstudio.learn import events as ev
from modstudio.learn import trainer as trainer_module
from modstudio.learn.trainer import Trainer
from modstudio.progress import ProgressPrinter


def _train(project, callbacks=(), box=None, **overrides):
    """A finished run, every event it emitted, and its trainer (also in ``box["t"]`` while it runs)."""
    events, box = [], {} if box is None else box
    result = ms.train(project, callbacks=[events.append, *callbacks], trainer_ready=lambda t: box.update(t=t),
                      **overrides)
    assert result.run.status == "finished", result.run.message
    return result.run, events, box["t"]


def _of(events, kind, task=None):
    return [e for e in events if isinstance(e, kind) and (task is None or e.task == task)]


# ---------------------------------------------------------------------------------- schedules

@pytest.mark.parametrize("schedule, formula", [
    ("constant", lambda lr, e, n: lr),
    ("step", lambda lr, e, n: lr * 0.5 ** (e // 2)),
    ("cosine", lambda lr, e, n: lr * (1 + math.cos(math.pi * e / n)) / 2),
])
def test_schedule_gives_the_formulas_rate_per_epoch_restarting_each_task(tiny_project, schedule, formula):
    run, events, _ = _train(tiny_project, epochs=5, lr=0.01, lr_schedule=schedule, lr_step_epochs=2,
                            lr_step_factor=0.5)
    for task in range(3):
        rates = [e.lr for e in _of(events, ev.EpochEnded, task)]
        assert rates == pytest.approx([formula(0.01, e, 5) for e in range(5)], rel=1e-12)
    assert [p["lr"] for p in run.curves] == [e.lr for e in _of(events, ev.EpochEnded)]  # the record keeps them


def test_the_schedule_changes_the_training(tiny_project):
    constant = _train(tiny_project, epochs=3)[0]
    stepped = _train(tiny_project, epochs=3, lr_schedule="step", lr_step_epochs=1, lr_step_factor=0.01)[0]
    assert constant.curves[0]["loss"] == stepped.curves[0]["loss"]  # epoch 1 trains at lr in both
    assert constant.curves[1]["loss"] != stepped.curves[1]["loss"]


def test_cosine_spans_expansions_training_phase_after_its_search(tiny_project):
    """Task 0 trains 4 epochs; later tasks search 2 (at the constant rate), then train 2 on the schedule."""
    _, events, _ = _train(tiny_project, strategy="expansion", epochs=4, lr=0.01, lr_schedule="cosine",
                          strategy_params={"search_epochs": 2})
    assert [e.lr for e in _of(events, ev.EpochEnded, 0)] == pytest.approx(
        [0.01 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)])
    for task in (1, 2):
        assert [e.lr for e in _of(events, ev.EpochEnded, task)] == pytest.approx([0.01, 0.005])


# ---------------------------------------------------------------------------------- early stopping

def test_early_stopping_stops_keeps_the_best_epoch_and_says_so(tiny_project):
    after_epoch, kept, box = {}, {}, {}

    def on_event(event):
        t = box["t"]
        if isinstance(event, ev.EpochEnded):  # the weights after this epoch
            after_epoch[event.task, event.epoch] = [p.detach().clone() for p in t.net.path_parameters(event.task)]
        elif isinstance(event, ev.EarlyStopping):  # the weights the task keeps, and what they score
            kept[event.task] = [p.detach().clone() for p in t.net.path_parameters(event.task)]
            kept[event.task, "val"] = t.accuracy(event.task, "val")
            kept[event.task, "test"] = t.evaluate_all()

    out = io.StringIO()
    run, events, _ = _train(tiny_project, [on_event, ProgressPrinter(out)], box, epochs=30, lr=0.05,
                            early_stopping_patience=2)
    stops = {s.task: s for s in _of(events, ev.EarlyStopping)}
    assert set(stops) == {0, 1, 2} and not _of(events, ev.EarlyStoppingSkipped)
    for task, stop in stops.items():
        trained = [p for p in run.curves if p["task"] == task]
        assert stop.stopped and stop.planned == 30 and stop.epochs == len(trained) < 30
        assert stop.epochs == stop.best_epoch + 1 + 2  # patience 2: two epochs in a row without a better one
        assert all(torch.equal(a, b) for a, b in zip(kept[task], after_epoch[task, stop.best_epoch]))
        assert kept[task, "val"] == stop.val_accuracy
        assert run.acc_matrix[task + 1] == kept[task, "test"]  # the matrix row is measured on the kept weights
        assert f"task {task + 1}: early stopping after {stop.epochs} of 30 epochs" in out.getvalue()


def test_a_task_without_validation_data_never_early_stops_and_the_run_says_so(tiny_project):
    data = load_builtin("blobs", n_samples=360, n_features=8, n_classes=6, spread=1.5, seed=3)
    with_val, without = split_by_class(data, n_tasks=3), split_by_class(data, n_tasks=3, val_fraction=0.0)
    tiny_project.tasks[1] = without[1]
    assert len(tiny_project.tasks[1].val) == 0 and len(with_val[0].val) > 0
    out = io.StringIO()
    run, events, _ = _train(tiny_project, [ProgressPrinter(out)], epochs=30, lr=0.05, early_stopping_patience=2)
    skipped = _of(events, ev.EarlyStoppingSkipped)
    assert [(s.task, s.reason) for s in skipped] == [(1, "its validation split is empty")]
    assert len([p for p in run.curves if p["task"] == 1]) == 30  # every epoch trained
    assert {s.task for s in _of(events, ev.EarlyStopping)} == {0, 2}
    assert "task 2: no early stopping, its validation split is empty; it trains every epoch" in out.getvalue()


def test_patience_that_never_runs_out_still_keeps_the_best_epoch(tiny_project):
    _, events, _ = _train(tiny_project, epochs=4, lr=0.05, early_stopping_patience=1000)
    for stop in _of(events, ev.EarlyStopping):
        assert not stop.stopped and stop.epochs == 4 and 0 <= stop.best_epoch < 4
        assert "trained all 4 epochs; keeps epoch" in stop.describe()


def test_a_tie_is_no_improvement_and_the_best_weights_come_back():
    from modstudio.learn.early_stopping import EarlyStopper

    weight = torch.zeros(2)
    stopper = EarlyStopper(2, [weight])
    assert not stopper.update(0, 0.5)
    weight += 1  # later epochs change the weights without beating epoch 0
    assert not stopper.update(1, 0.5) and stopper.update(2, 0.4)
    assert stopper.best_epoch == 0 and stopper.restore_best() and torch.equal(weight, torch.zeros(2))


# ---------------------------------------------------------------------------------- optimiser state

@pytest.fixture
def optimizers(monkeypatch):
    """Every optimiser the trainer makes, in order, with whether it was given state to carry."""
    made = []
    real = trainer_module.new_optimizer

    def spy(settings, params, carry_from=None):
        made.append((real(settings, params, carry_from), carry_from is not None))
        return made[-1][0]

    monkeypatch.setattr(trainer_module, "new_optimizer", spy)
    return made


@pytest.mark.parametrize("reset", [True, False])
def test_adam_state_carries_across_tasks_only_when_not_reset(tiny_project, optimizers, reset):
    run, _, trainer = _train(tiny_project, epochs=2, batch_size=32, reset_optimizer=reset)
    steps_per_task = 2 * math.ceil(len(tiny_project.tasks[0].train) / 32)
    net = trainer.net
    shared = [p for p in net.path_parameters(0) if any(p is q for q in net.path_parameters(2))]
    head = [p for p in net.path_parameters(2) if not any(p is q for q in net.path_parameters(0))]
    assert shared and head
    last = optimizers[-1][0]
    assert {int(last.state[p]["step"]) for p in shared} == {steps_per_task * (1 if reset else 3)}
    assert {int(last.state[p]["step"]) for p in head} == {steps_per_task}  # a new task's head starts fresh


def test_carrying_the_state_changes_the_training(tiny_project):
    fresh = _train(tiny_project, reset_optimizer=True)[0]
    carried = _train(tiny_project, reset_optimizer=False)[0]
    assert fresh.acc_matrix[:2] == carried.acc_matrix[:2]  # task 1 trains alike
    assert fresh.curves[2:] != carried.curves[2:]


def test_path_strategies_carry_nothing_of_frozen_paths_and_searches_start_fresh(tiny_project, optimizers):
    _, _, trainer = _train(tiny_project, strategy="expansion", epochs=2, reset_optimizer=False)
    net = trainer.net
    first_path = {id(p) for node, i in net.paths[0].items() for p in net.instances(node)[i].parameters()}
    assert first_path and not first_path & {id(p) for p in optimizers[-1][0].state}  # frozen: left behind
    carried = [given for _, given in optimizers]
    assert carried.count(True) == 2 < len(carried)  # tasks 2 and 3's training phases; probes, candidates: fresh


# ---------------------------------------------------------------------------------- evaluation schedule

@pytest.mark.parametrize("strategy", ["finetune", "replay", "expansion"])
def test_evaluating_per_task_gives_the_same_run_with_fewer_evaluations(tiny_project, monkeypatch, strategy):
    calls = []
    evaluate_all = Trainer.evaluate_all
    monkeypatch.setattr(Trainer, "evaluate_all", lambda self: calls.append(1) or evaluate_all(self))
    per_epoch = _train(tiny_project, strategy=strategy, epochs=3, seed=5)[0]
    epoch_calls, calls[:] = len(calls), []
    per_task, events, _ = _train(tiny_project, strategy=strategy, epochs=3, seed=5, evaluate="task")
    assert per_task.acc_matrix == per_epoch.acc_matrix
    assert all(np.array_equal(per_task.weights[k], per_epoch.weights[k]) for k in per_epoch.weights)
    assert len(calls) == 1 + 3 < epoch_calls  # before training, then once per task
    assert [p["loss"] for p in per_task.curves] == [p["loss"] for p in per_epoch.curves]
    assert all(p["acc"] == [] for p in per_task.curves) and all(e.accuracies == [] for e in _of(events, ev.EpochEnded))


def test_settings_built_by_hand_are_checked_before_training(tiny_project):
    from modstudio.project import TrainingSettings

    run = Trainer(tiny_project.graph, tiny_project.tasks, TrainingSettings(lr_schedule="linear")).run()
    assert run.status == "failed" and "lr_schedule must be one of constant, step, cosine" in run.message
    run = Trainer(tiny_project.graph, tiny_project.tasks, TrainingSettings(early_stopping_patience=-1)).run()
    assert run.status == "failed" and "early_stopping_patience" in run.message
