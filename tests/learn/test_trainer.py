"""The training engine: strategies run, frozen modules stay frozen, runs repeat, stop/pause/fail."""

import threading
import time

import numpy as np
import pytest

from modstudio.learn.trainer import TrainingError
import torch

import modstudio as ms
from modstudio.learn import events as ev
from modstudio.learn.strategies import STRATEGIES, StrategyError
from modstudio.learn.trainer import Trainer


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("scenario", ["task", "class"])
def test_every_strategy_trains_the_sequence(tiny_project, strategy, scenario):
    result = ms.train(tiny_project, strategy=strategy, scenario=scenario)
    run = result.run
    assert run.status == "finished", run.message
    assert len(run.acc_matrix) == 4 and all(len(row) == 3 for row in run.acc_matrix)
    assert len(run.params_per_task) == 3 and len(run.paths) == 3
    assert 0.0 <= run.metrics.acc <= 1.0
    assert result.metrics.acc_matrix == run.acc_matrix
    assert run.curves and {"task", "epoch", "loss", "acc"} <= set(run.curves[0])
    assert tiny_project.runs[-1] is run
    if scenario == "task":
        assert run.metrics.acc > 0.8, run.acc_matrix  # blobs are easy per task
    if strategy in ("progressive", "expansion") and scenario == "class":
        assert len(run.metrics.task_inference) == 3


@pytest.mark.parametrize("strategy", ["progressive", "expansion"])
def test_path_strategies_never_forget(tiny_project, strategy):
    run = ms.train(tiny_project, strategy=strategy).run
    R = run.acc_matrix
    for task in range(3):
        assert all(R[row][task] == R[task + 1][task] for row in range(task + 1, 4))
    assert run.metrics.bwt == 0.0 and run.metrics.forgetting == 0.0


@pytest.mark.parametrize("strategy", ["progressive", "expansion"])
def test_frozen_instances_stay_bit_identical(tiny_project, strategy):
    """Snapshot task 0's path after task 0, then compare after the whole run, buffers included."""
    snapshots = {}
    trainer_box = {}

    def on_event(event):
        if isinstance(event, ev.TaskEnded) and event.task == 0:
            net = trainer_box["t"].net
            snapshots.update({
                (node, index, name): tensor.clone()
                for node, index in net.paths[0].items()
                for name, tensor in net.instances(node)[index].state_dict().items()
            })

    tiny_project.graph = _bn_graph()
    ms.train(tiny_project, strategy=strategy, callbacks=[on_event], trainer_ready=lambda t: trainer_box.update(t=t))
    net = trainer_box["t"].net
    assert any("running_mean" in key[2] for key in snapshots)
    for (node, index, name), before in snapshots.items():
        assert torch.equal(net.instances(node)[index].state_dict()[name], before), (node, name)


def _bn_graph():
    from modstudio.graph import Graph

    g = Graph()
    ids = [g.add_node("input"), g.add_node("mlp_block", hidden=[16, 16], norm="batch"), g.add_node("head")]
    g.connect(ids[0], ids[1])
    g.connect(ids[1], ids[2])
    return g


def test_expansion_grows_less_than_progressive(tiny_project):
    expansion = ms.train(tiny_project, strategy="expansion").run
    progressive = ms.train(tiny_project, strategy="progressive").run
    assert expansion.params_per_task[-1] < progressive.params_per_task[-1]


def test_expansion_reports_reuse_and_growth(tiny_project):
    events = []
    ms.train(tiny_project, strategy="expansion", callbacks=[events.append])
    candidates = [e for e in events if isinstance(e, ev.CandidateEvaluated)]
    assert {c.task for c in candidates} == {1, 2}
    assert {c.reused for c in candidates if c.task == 1} == {0, 1}  # one trainable node: reuse it or not
    decided = [e for e in events if isinstance(e, (ev.ModuleAdded, ev.ModuleReused)) and e.task == 1]
    assert len(decided) == 1


def test_seeded_cpu_runs_repeat_exactly(tiny_project):
    a = ms.train(tiny_project, strategy="replay", seed=7).run
    b = ms.train(tiny_project, strategy="replay", seed=7).run
    c = ms.train(tiny_project, strategy="replay", seed=8).run
    assert a.acc_matrix == b.acc_matrix and a.curves == b.curves
    assert all(np.array_equal(a.weights[k], b.weights[k]) for k in a.weights)
    assert a.curves != c.curves


def test_events_are_few_and_ordered(tiny_project):
    events = []
    ms.train(tiny_project, callbacks=[events.append])
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("task_started") == 3 and kinds.count("task_ended") == 3
    assert kinds.count("epoch_ended") == 6
    assert kinds.count("progress") <= 20  # rate-limited, not one per batch


def test_stop_mid_epoch_keeps_the_partial_run(tiny_project):
    box = {}

    def on_event(event):
        if isinstance(event, ev.EpochEnded) and event.task == 1 and event.epoch == 0:
            box["t"].stop()

    tiny_project.configure(epochs=3)
    result = ms.train(tiny_project, callbacks=[on_event], trainer_ready=lambda t: box.update(t=t))
    run = result.run
    assert run.status == "stopped" and "stopped" in run.message
    assert len(run.acc_matrix) == 2  # before training + task 1
    assert [c["task"] for c in run.curves] == [0, 0, 0, 1]
    assert run.weights and tiny_project.runs[-1] is run


class _FakeClock:
    """The trainer's ``time``: the real one, with ``monotonic`` moved on by what the test adds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def __getattr__(self, name):
        return getattr(time, name)


class _WaitProbe(threading.Event):
    """The trainer's pause gate (an Event), reporting when a thread starts waiting on it while closed."""

    def __init__(self, waiting: threading.Event) -> None:
        super().__init__()
        self.set()  # open, as the trainer's own starts
        self.waiting = waiting

    def wait(self, timeout=None):
        if not self.is_set():
            self.waiting.set()
        return super().wait(timeout)


def test_pause_blocks_training_until_resume(tiny_project, monkeypatch):
    import modstudio.learn.trainer as trainer_module

    pause_s = 100.0
    clock = _FakeClock()
    monkeypatch.setattr(trainer_module, "time", clock)
    trainer = Trainer(tiny_project.graph, tiny_project.tasks, tiny_project.settings)
    blocked = threading.Event()
    trainer._resume = _WaitProbe(blocked)
    paused_at = {}
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, ev.EpochEnded) and not paused_at:
            paused_at["epoch"] = (event.task, event.epoch)
            trainer.pause()

    trainer.callbacks.append(on_event)
    thread = threading.Thread(target=lambda: paused_at.setdefault("run", trainer.run()))
    thread.start()
    assert blocked.wait(60)  # the trainer's thread waits at the next batch, not before
    assert thread.is_alive() and trainer.paused
    seen, curves_while_paused = len(events), len(trainer.run_record.curves)
    clock.offset += pause_s  # the pause lasts pause_s, as far as the trainer can tell
    assert len(events) == seen and len(trainer.run_record.curves) == curves_while_paused  # no Progress, no epoch
    trainer.resume()
    thread.join(timeout=60)
    assert not thread.is_alive() and paused_at["run"].status == "finished"
    assert any(isinstance(e, ev.EpochEnded) for e in events[seen:])  # training went on after the resume
    # the pause is not training time: samples/s and the ETA leave it out
    assert pause_s <= trainer._paused_s < pause_s + 60


def test_nan_loss_fails_the_run_and_keeps_history(tiny_project):
    tiny_project.configure(lr=1e6, optimizer="sgd")  # the largest the settings allow
    run = ms.train(tiny_project, epochs=3).run
    assert run.status == "failed"
    assert "loss became" in run.message and "learning rate" in run.message
    assert run.acc_matrix and run.acc_matrix[0]  # the row before training is kept
    assert run.metrics.traceback


def test_bad_settings_are_refused_before_training(tiny_project):
    """Settings that cannot work are refused at the API, naming the setting; no failed run is kept."""
    from modstudio.project import SettingsError

    with pytest.raises(SettingsError, match="scenario must be one of task, class"):
        ms.train(tiny_project, scenario="sideways")
    with pytest.raises(StrategyError, match="unknown strategy"):
        from modstudio.learn.strategies import make_strategy

        make_strategy("magic")
    with pytest.raises(StrategyError, match="unknown strategy 'magic'"):
        ms.train(tiny_project, strategy="magic")
    with pytest.raises(StrategyError, match="lambda = -1 is below the minimum 0"):
        ms.train(tiny_project, strategy="ewc", strategy_params={"lambda": -1})
    with pytest.raises(StrategyError, match="lambda must be a finite number"):
        ms.train(tiny_project, strategy="ewc", strategy_params={"lambda": float("inf")})
    with pytest.raises(SettingsError, match="lr must be a finite number, not '0.1'"):
        ms.train(tiny_project, lr="0.1")
    with pytest.raises(SettingsError, match="batch_size must be a whole number"):
        ms.train(tiny_project, batch_size=1.5)
    with pytest.raises(SettingsError, match=r"seed must be a whole number within ±2\*\*63"):
        ms.train(tiny_project, seed=2**70)
    with pytest.raises(SettingsError, match="seed = .* is above the maximum"):
        ms.train(tiny_project, seed=2**63)
    assert tiny_project.runs == []
    run = ms.train(tiny_project, device="cuda:7").run
    assert run.status == "failed" and "not available" in run.message


def test_head_width_conflict_is_explained(tiny_project):
    head = next(n for n in tiny_project.graph.nodes.values() if n.kind == "head")
    tiny_project.graph.set_param(head.id, "classes", 5)
    with pytest.raises(TrainingError, match="the tasks do not fit the network: .*classes"):
        ms.train(tiny_project)  # refused before anything trains: no failed run to clear away
    assert not tiny_project.runs


def test_trained_project_saves_and_loads_even_after_graph_edits(tiny_project, tmp_path):
    run = ms.train(tiny_project, strategy="expansion").run
    # The user keeps editing after training: the run keeps the graph it trained.
    mlp = next(n for n in tiny_project.graph.nodes.values() if n.kind == "mlp_block")
    tiny_project.graph.set_param(mlp.id, "hidden", [8])
    path = tiny_project.save(tmp_path / "p.modstudio")
    loaded = ms.load_project(path)
    assert loaded.runs[0] == run
    assert loaded.runs[0].graph != tiny_project.graph.to_dict()


@pytest.mark.parametrize("strategy,scenario", [("expansion", "task"), ("progressive", "task"),
                                               ("finetune", "class"), ("ewc", "task")])
def test_restored_network_reproduces_the_run(tiny_project, tmp_path, strategy, scenario):
    """Save, load, rebuild: the restored network predicts exactly what the trained one did."""
    from modstudio.learn.restore import predict_logits, restore_network

    result = ms.train(tiny_project, strategy=strategy, scenario=scenario)
    trained = result.network.eval()
    loaded = ms.load_project(tiny_project.save(tmp_path / "p.modstudio"))
    net = restore_network(loaded, loaded.runs[-1])
    for task, data in enumerate(loaded.tasks):
        x = torch.tensor(data.test.x)
        with torch.no_grad():
            expected = trained(x, task)
        assert torch.equal(predict_logits(net, data.test.x, task), expected)


def test_restore_refuses_runs_without_a_model(tiny_project):
    from modstudio.learn.restore import RestoreError, restore_network

    run = ms.train(tiny_project, device="cuda:7").run  # no such GPU here: fails before training
    with pytest.raises(RestoreError, match="no saved weights|trained no task"):
        restore_network(tiny_project, run)


def test_modules_grown_after_the_move_land_on_the_networks_device(tiny_project):
    """The bank is empty when the trainer moves the network; heads and instances come later and
    must follow it (on CUDA they stayed on the CPU). The meta device stands in for a GPU here."""
    from modstudio.learn.network import ModularNetwork

    net = ModularNetwork(tiny_project.graph, (8,), [2, 2, 2])
    net.to("meta")
    net.add_head(2)
    net.set_path(0, {})
    net.grow(next(iter(net.trainable_nodes)))
    assert {p.device.type for p in net.parameters()} == {"meta"}
    assert not any(k.endswith("_placement") for k in net.state_dict())  # in no file


def test_without_a_host_sync_per_batch_the_run_is_the_same(tiny_project, monkeypatch):
    """On a GPU the losses are summed on the device and read per progress interval and epoch: the
    run is identical (matrix and per-epoch losses), and a non-finite loss still fails it."""
    eager = ms.train(tiny_project, strategy="replay").run
    monkeypatch.setattr(Trainer, "sync_each_batch", property(lambda self: False))
    lazy = ms.train(tiny_project, strategy="replay").run
    assert lazy.acc_matrix == eager.acc_matrix
    assert [c["loss"] for c in lazy.curves] == [c["loss"] for c in eager.curves]
    tiny_project.configure(lr=1e6, optimizer="sgd")
    broken = ms.train(tiny_project, strategy="finetune", epochs=3).run
    assert broken.status == "failed" and "the loss became" in broken.message and "epoch" in broken.message
