"""A run in its own training process: the same run as in-process, controls, and every way it can end."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from modstudio.learn import remote
from modstudio.learn.events import Event, EpochEnded, RunFinished, TaskEnded, event_from_json
from modstudio.learn.trainer import Trainer
from modstudio.project.run import weights_equal


def remote_run(project, callbacks=(), **settings):
    project.settings = dataclasses.replace(project.settings, **settings)
    trainer = remote.RemoteTrainer(project.graph, project.tasks, project.settings, list(callbacks), threads=1)
    return trainer, trainer.run


def run_in_thread(run):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("run", run()))
    thread.start()
    return thread, box


def test_events_cross_a_process_boundary_as_json():
    for event in (TaskEnded(1, [0.5, 0.25], 10, 1.5, {"n": 2}, 7, [1.0, 0.5]),
                  RunFinished("stopped", "why", "Traceback …", {"n": 2}, 10, "2026-12-01T18:00:00+00:00"),
                  EpochEnded(0, 3, 0.1, [0.9], 0.2)):
        assert event_from_json(json.loads(json.dumps(event.to_json()))) == event
    with pytest.raises(ValueError, match="unknown event kind"):
        event_from_json({"kind": "rm_rf"})
    with pytest.raises(ValueError, match="malformed"):
        event_from_json({"kind": "task_ended", "task": 1})
    assert {cls.__name__ for cls in Event.__subclasses__()} >= {"Progress", "ModuleReused", "CandidateEvaluated"}


# What two runs of the same settings cannot share: when they ran, and for how long.
TIMING = ("id", "started", "ended")


def same_record(a, b) -> bool:
    """Every field of two run records equal (weights bit for bit), but their ids and times."""
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        for key in TIMING:
            d.pop(key)
        d["metrics"].pop("seconds_per_task")
    return da == db and weights_equal(a.weights, b.weights)


def test_a_run_in_its_own_process_is_the_same_run_as_in_process(tiny_project):
    """The studio's training process and ms.train give the same record: one recorder builds both."""
    import torch

    import modstudio as ms

    tiny_project.configure(strategy="expansion", scenario="class")
    events = []
    _, run = remote_run(tiny_project, [events.append])
    result = run()
    assert result.status == "finished", result.message
    _, again = remote_run(tiny_project)
    assert weights_equal(again().weights, result.weights)  # a process reused leaks nothing into the next run
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the training process ran with one thread
    try:
        local = ms.train(tiny_project).run
    finally:
        torch.set_num_threads(threads)
    assert same_record(result, local)
    assert len(result.metrics.seconds_per_task) == len(local.metrics.seconds_per_task) == 3
    # the fields the studio's runs used to lack are there, and the same
    assert result.metrics.task_parameters and result.metrics.bank_sizes and result.metrics.task_inference
    assert result.metrics.total_parameters == local.metrics.total_parameters > 0
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished" and kinds.count("task_ended") == 3
    assert any(k == "module_reused" or k == "candidate_evaluated" for k in kinds)


def test_stop_and_pause_reach_the_process(tiny_project):
    paused = threading.Event()
    trainer = None

    def on_event(event):
        if event.kind == "epoch_ended" and not paused.is_set():
            trainer.pause()
            paused.set()

    trainer, run = remote_run(tiny_project, [on_event], epochs=200)
    thread, box = run_in_thread(run)
    assert paused.wait(60)
    thread.join(1.0)
    assert thread.is_alive()  # paused, not finished
    trainer.resume()
    trainer.stop()
    thread.join(60)
    result = box["run"]
    assert result.status == "stopped" and 1 <= len(result.acc_matrix) < 4 and result.weights


def test_a_stop_given_before_the_process_exists_is_kept(tiny_project):
    trainer, run = remote_run(tiny_project, epochs=200)
    trainer.stop()
    result = run()
    assert result.status == "stopped" and len(result.acc_matrix) == 1


def test_a_failing_run_comes_back_failed_with_its_history(tiny_project):
    _, run = remote_run(tiny_project, optimizer="sgd", lr=1e6)
    result = run()
    assert result.status == "failed" and "loss became" in result.message
    assert result.acc_matrix and "Traceback" in result.metrics.traceback


def test_a_killed_process_gives_a_failed_run_rebuilt_from_its_events(tiny_project):
    finished = []
    trainer = None

    def on_event(event):
        if event.kind == "task_ended" and event.task == 0:
            trainer.kill()
        finished.extend([event] if event.kind == "run_finished" else [])

    trainer, run = remote_run(tiny_project, [on_event], epochs=60)
    result = run()
    assert result.status == "failed" and "did not stop" in result.message
    assert len(result.acc_matrix) >= 2 and result.paths and result.curves  # what the events told
    assert result.metrics.acc is not None and result.weights is None
    assert len(finished) == 1 and finished[0].status == "failed"  # said once, as the trainer would


def test_a_process_that_dies_says_how(tiny_project):
    trainer = None

    def on_event(event):
        if event.kind == "task_ended":
            trainer.process.popen.terminate()  # as the system would, from outside

    trainer, run = remote_run(tiny_project, [on_event], epochs=60)
    result = run()
    assert result.status == "failed" and "killed by SIGTERM" in result.message
    assert len(result.acc_matrix) >= 2


def test_an_input_the_process_cannot_read_is_a_failed_run(tiny_project, monkeypatch):
    def broken_input(graph, tasks, settings, path):
        path.write_bytes(b"not a zip")

    monkeypatch.setattr(remote, "_write_input", broken_input)
    _, run = remote_run(tiny_project)
    result = run()
    assert result.status == "failed" and "could not start the run" in result.message
    assert "ProjectFileError" in result.message
    assert remote._idle is not None and remote._idle.alive()  # the process itself is fine: it waits


def test_one_process_serves_the_runs_one_after_another(tiny_project):
    remote.start_spare()
    waiting = remote._idle
    assert waiting is not None and waiting.alive()
    pids = []
    for _ in range(2):
        trainer, run = remote_run(tiny_project, [lambda e: pids.append(trainer.process.popen.pid)], epochs=1)
        assert run().status == "finished"
        assert remote._idle is waiting  # back, waiting for the next run
    assert set(pids) == {waiting.popen.pid}
    remote.end_spare()
    assert remote._idle is None and not waiting.alive()


def test_the_training_process_is_the_same_program_frozen_or_not(monkeypatch):
    import sys

    assert remote.host_command()[1:] == ["-m", "modstudio", "--training-host"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert remote.host_command() == [sys.executable, "--training-host"]  # the bundle's own executable
