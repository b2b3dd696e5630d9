"""Training on several processes: torchrun + gloo on the CPU gives the single-process run.

Two processes train with DistributedDataParallel; each batch is the single-process batch split
between the ranks, so the accuracy matrix must equal a one-process run's up to float rounding.
Tolerance: every entry of R within ``TOLERANCE`` (0.05: three or four test samples of a task of
~70), expansion's decisions (parameters per task) identical. Measured: 0.0 (identical matrices).

This file is also the worker torchrun starts for the strategy and failure checks
(``python -m torch.distributed.run ... tests/learn/test_distributed.py worker OUT``): one group
of processes trains every strategy in turn, then fails on purpose on one rank.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TOLERANCE = 0.05
STRATEGY_RUNS = [  # (strategy, scenario): every strategy once, joint and expansion class-incremental too
    ("finetune", "task"), ("joint", "class"), ("ewc", "task"), ("replay", "task"), ("lwf", "task"),
    ("progressive", "task"), ("expansion", "task"), ("expansion", "class"), ("der_pp", "class"),
    ("si", "task"), ("mas", "task"), ("agem", "task"), ("gdumb", "class"), ("icarl", "class"),
]
# The training-phase settings at once: schedule, early stopping (judged on sharded validation
# counts, so every rank stops at the same epoch), optimiser state carried, evaluation per task.
PHASE_SETTINGS = {"strategy": "replay", "epochs": 8, "lr": 0.05, "lr_schedule": "cosine",
                  "early_stopping_patience": 2, "reset_optimizer": False, "evaluate": "task"}
LAUNCH_TIMEOUT_S = 240


def _env() -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MODSTUDIO_DIST_TIMEOUT="60", PYTHONUNBUFFERED="1")
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return env


def _torchrun(*args: str, nproc: int = 2) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S, env=_env())


def _max_difference(a, b) -> float:
    assert len(a) == len(b) and all(len(x) == len(y) for x, y in zip(a, b))
    return max(abs(x - y) for row_a, row_b in zip(a, b) for x, y in zip(row_a, row_b))


# ---------------------------------------------------------------------------------------- unit


def test_launch_env_is_read_only_under_torchrun():
    from modstudio.learn.distributed import DistributedError, LaunchEnv, launch_env, start_session

    assert launch_env({}) is None
    assert start_session("auto", {}) is None  # started alone: no process group
    assert launch_env({"RANK": "1", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == LaunchEnv(1, 4, 1)
    with pytest.raises(DistributedError, match="whole numbers"):
        launch_env({"RANK": "x", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})
    with pytest.raises(DistributedError, match="inconsistent"):
        launch_env({"RANK": "2", "WORLD_SIZE": "2", "LOCAL_RANK": "0"})


def test_device_choice(monkeypatch):
    import torch

    from modstudio.learn.distributed import DistributedError, LaunchEnv, choose_device

    env = LaunchEnv(1, 2, 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device("auto", env) == torch.device("cpu")
    assert choose_device("cpu", env) == torch.device("cpu")
    with pytest.raises(DistributedError, match="no CUDA"):
        choose_device("cuda", env)
    with pytest.raises(DistributedError, match="mps"):
        choose_device("mps", env)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert choose_device("auto", env) == torch.device("cuda:1")  # LOCAL_RANK picks the GPU
    assert choose_device("cuda:0", env) == torch.device("cuda:1")
    with pytest.raises(DistributedError, match="nproc_per_node"):
        choose_device("auto", LaunchEnv(2, 3, 2))


def _run(status="finished", message=""):
    from modstudio.project.run import Run

    run = Run(strategy="finetune", settings={}, graph={})
    run.status, run.message = status, message
    return run


def test_rank_zero_names_the_rank_that_failed_first():
    from modstudio.learn.distributed import merge_outcomes

    ok = {"status": "finished", "message": "", "peer_lost": False, "digest": "a"}
    run = _run("failed", "PeerLost: lost contact")
    merge_outcomes(run, {0: {**ok, "status": "failed", "peer_lost": True},
                         1: {**ok, "status": "failed", "message": "RuntimeError: out of memory"}}, 2, "gloo")
    assert run.status == "failed" and run.message == "rank 1 of 2 failed: RuntimeError: out of memory"

    run = _run("failed", "the loss became nan")  # every rank failed the same way: the message stands
    same = {**ok, "status": "failed", "message": "the loss became nan"}
    merge_outcomes(run, {0: same, 1: same}, 2, "gloo")
    assert run.message == "the loss became nan"

    run = _run()
    merge_outcomes(run, {0: ok}, 2, "gloo")
    assert run.status == "failed" and "rank(s) 1 did not report" in run.message

    run = _run()
    merge_outcomes(run, {0: ok, 1: {**ok, "digest": "b"}}, 2, "gloo")
    assert run.status == "finished" and run.metrics.distributed == {
        "world_size": 2, "backend": "gloo", "replicas_identical": False}


def test_one_process_group_of_one_repeats_the_plain_trainer_exactly(tiny_project, monkeypatch):
    """World size 1 runs every distributed hook (DDP, reductions, sharding) and must change nothing."""
    import torch.distributed as dist

    import modstudio as ms
    from modstudio.learn.distributed import start_session

    plain = {s: ms.train(tiny_project, strategy=s, scenario=c).run.acc_matrix for s, c in STRATEGY_RUNS[:4]}
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(_free_port()))
    session = start_session("cpu", {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
    try:
        for strategy, scenario in STRATEGY_RUNS[:4]:
            run = session.train(tiny_project, strategy=strategy, scenario=scenario).run
            assert run.status == "finished", run.message
            assert run.acc_matrix == plain[strategy], strategy
            assert run.metrics.distributed["replicas_identical"]
    finally:
        session.close()
    assert not dist.is_initialized()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------- two processes


def test_torchrun_two_processes_match_one_and_the_project_opens(tmp_path):
    import modstudio as ms
    from modstudio.examples import build_example
    from modstudio.project import load_project

    project_path = tmp_path / "digits.modstudio"
    build_example("split-digits").save(project_path, backup=False)
    out = tmp_path / "trained.modstudio"
    started = time.monotonic()
    result = _torchrun("-m", "modstudio", "train", str(project_path), "--epochs", "2", "--json", "-o", str(out))
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, result.stdout  # only rank 0 prints
    two = json.loads(lines[0])
    assert two["status"] == "finished", two["message"]

    single = ms.train(load_project(project_path), epochs=2).run
    difference = _max_difference(two["acc_matrix"], single.acc_matrix)
    print(f"2 processes vs 1: max |ΔR| = {difference:.4f}, ACC {two['acc']:.4f} vs {single.metrics.acc:.4f}, "
          f"launch + train {seconds:.1f}s")
    assert difference <= TOLERANCE, (two["acc_matrix"], single.acc_matrix)
    assert two["params_per_task"] == single.params_per_task  # expansion chose the same paths

    trained = load_project(out)
    run = trained.runs[-1]
    assert run.acc_matrix == two["acc_matrix"] and run.weights
    assert run.metrics.distributed == {"world_size": 2, "backend": "gloo", "replicas_identical": True}
    assert run.settings["device"] == "auto"  # what was asked, not a rank's device
    _opens_in_the_studio(out, tmp_path)


def _opens_in_the_studio(path: Path, tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from modstudio.gui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        f"w.files.open_project({str(path)!r}); app.processEvents()\n"
        "runs = w.document.project.runs\n"
        "assert len(runs) == 1 and runs[0].status == 'finished', runs\n"
        "print('opened', len(w.document.project.tasks))\n"
        "w.document.undo_stack.setClean(); w.close()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MODSTUDIO_CONFIG_DIR": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "opened 5" in result.stdout, result.stderr[-4000:]


def test_every_strategy_under_ddp_and_a_failed_rank(tmp_path, tiny_project):
    """One torchrun group trains every strategy (compared with one process), then rank 1 fails:
    first inside a loss (agreed at that batch), then alone in an evaluation (it must not hang rank 0)."""
    import modstudio as ms

    out = tmp_path / "worker.json"
    result = _torchrun(__file__, "worker", str(out))
    assert out.exists(), result.stderr[-6000:]
    # The rank that failed alone ended its process (that is what releases rank 0 at once), so
    # torchrun reports the group as failed, and says why on that rank's stderr.
    assert result.returncode != 0
    assert "modstudio: rank 1 of 2 failed: RuntimeError: injected failure in an evaluation" in result.stderr
    report = json.loads(out.read_text())
    for strategy, scenario in STRATEGY_RUNS:
        got = report[f"{strategy}/{scenario}"]
        single = ms.train(tiny_project, strategy=strategy, scenario=scenario).run
        assert got["status"] == "finished", got
        difference = _max_difference(got["acc_matrix"], single.acc_matrix)
        print(f"{strategy:12} {scenario:5} max |ΔR| = {difference:.4f}")
        assert difference <= TOLERANCE, (strategy, scenario, got["acc_matrix"], single.acc_matrix)
        assert got["params_per_task"] == single.params_per_task, strategy
        assert got["distributed"]["replicas_identical"], strategy

    phases = report["phase_settings"]
    single = ms.train(tiny_project, **PHASE_SETTINGS).run
    assert phases["status"] == "finished" and phases["distributed"]["replicas_identical"], phases
    assert phases["epochs"] == [sum(p["task"] == t for p in single.curves) for t in range(3)]  # stopped alike
    assert _max_difference(phases["acc_matrix"], single.acc_matrix) <= TOLERANCE

    in_loss = report["fail_in_loss"]
    assert in_loss["status"] == "failed"
    assert in_loss["message"] == "rank 1 of 2 failed: RuntimeError: injected failure in a loss"
    assert in_loss["rank1_message"] == in_loss["message"]  # both ranks stopped at the same batch
    alone = report["fail_alone"]  # rank 0 waited in a collective while rank 1 failed in its evaluation
    assert alone["status"] == "failed"
    assert alone["message"] == "rank 1 of 2 failed: RuntimeError: injected failure in an evaluation"
    assert alone["seconds"] < 30, alone  # released when rank 1 left, not by the 60 s timeout


# ---------------------------------------------------------------------------------------- the worker


def _tiny_project():
    """The ``tiny_project`` fixture of tests/learn/conftest.py, rebuilt (this runs as a script)."""
    from modstudio.data import load_builtin, split_by_class
    from modstudio.graph import Graph
    from modstudio.project import Project, TrainingSettings

    project = Project.new("tiny")
    g = Graph()
    x, m, h = g.add_node("input"), g.add_node("mlp_block", hidden=[16]), g.add_node("head")
    g.connect(x, m)
    g.connect(m, h)
    project.graph = g
    data = load_builtin("blobs", n_samples=360, n_features=8, n_classes=6, spread=1.5, seed=3)
    project.tasks.extend(split_by_class(data, n_tasks=3))
    project.settings = TrainingSettings(strategy="finetune", epochs=2, batch_size=32, lr=1e-2)
    return project


def _worker(out: str) -> None:
    from modstudio.learn import trainer as trainer_module
    from modstudio.learn.distributed import start_session

    import torch.distributed as dist

    from modstudio.project import load_project

    session = start_session("cpu")
    rank = session.rank
    shared = Path(out).with_suffix(".modstudio")  # one project file for all ranks, as with the CLI
    if rank == 0:
        _tiny_project().save(shared, backup=False)
    dist.barrier()

    report = {}
    for strategy, scenario in STRATEGY_RUNS:
        run = session.train(load_project(shared), strategy=strategy, scenario=scenario).run
        report[f"{strategy}/{scenario}"] = {
            "status": run.status, "message": run.message, "acc_matrix": run.acc_matrix,
            "params_per_task": run.params_per_task, "distributed": run.metrics.distributed}
    run = session.train(load_project(shared), **PHASE_SETTINGS).run
    report["phase_settings"] = {"status": run.status, "acc_matrix": run.acc_matrix,
                                "distributed": run.metrics.distributed,
                                "epochs": [sum(p["task"] == t for p in run.curves) for t in range(3)]}

    original_loss = trainer_module.Trainer.classification_loss
    calls = {"n": 0}

    def failing_loss(self, *args, **kwargs):
        calls["n"] += 1
        if rank == 1 and calls["n"] == 5:
            raise RuntimeError("injected failure in a loss")
        return original_loss(self, *args, **kwargs)

    trainer_module.Trainer.classification_loss = failing_loss
    run = session.train(load_project(shared)).run
    trainer_module.Trainer.classification_loss = original_loss
    if rank == 1:
        session.store.set("worker/rank1_message", run.message)
    report["fail_in_loss"] = {"status": run.status, "message": run.message,
                              "rank1_message": session.store.get("worker/rank1_message").decode()}

    original_accuracy = trainer_module.Trainer._accuracy
    evaluations = {"n": 0}

    def failing_accuracy(self, *args, **kwargs):
        evaluations["n"] += 1
        if rank == 1 and evaluations["n"] == 7:
            raise RuntimeError("injected failure in an evaluation")
        return original_accuracy(self, *args, **kwargs)

    trainer_module.Trainer._accuracy = failing_accuracy
    signal.signal(signal.SIGTERM, lambda *_: None)  # as the CLI does: torchrun's SIGTERM must not stop rank 0's save
    started = time.monotonic()
    run = session.train(load_project(shared)).run
    report["fail_alone"] = {"status": run.status, "message": run.message, "seconds": time.monotonic() - started}
    if session.is_main:
        Path(out).write_text(json.dumps(report))
    session.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        _worker(sys.argv[2])
