"""Class-incremental modular learning: the unified classifier, task routers, AIA, restore."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.data import load_builtin, split_by_class
from modstudio.examples import build_example
from modstudio.learn import events as ev
from modstudio.learn.metrics import summarize
from modstudio.learn.restore import RestoreError, check_parts, restore_network
from modstudio.learn.trainer import Trainer
from modstudio.project import Project, TrainingSettings

from tests.learn.conftest import mlp_graph


@pytest.fixture(scope="module")
def separable_tasks():
    """3 tasks of 2 tight, far-apart blobs each: every task lives in a region of its own."""
    data = load_builtin("blobs", n_samples=480, n_features=8, n_classes=6, spread=0.4, seed=5)
    return split_by_class(data, n_tasks=3, val_fraction=0.2)


def _project(tasks, strategy, **params):
    project = Project.new("ci")
    project.graph = mlp_graph((16, 16))
    project.tasks.extend(tasks)
    project.settings = TrainingSettings(strategy=strategy, scenario="class", epochs=4, batch_size=32, lr=1e-2,
                                        strategy_params=params)
    return project


def _train(project, callbacks=()):
    trainer = Trainer(project.graph, project.tasks, project.settings, callbacks)
    run = trainer.run()
    assert run.status == "finished", run.message
    return trainer, run


# ---------------------------------------------------------------------------------------- AIA


def test_aia_is_the_mean_over_steps_of_accuracy_on_every_class_seen():
    R = [[0.1, 0.2, 0.3],
         [0.9, 0.4, 0.2],
         [0.8, 0.7, 0.1],
         [0.6, 0.5, 0.9]]
    equal = summarize(R)
    assert equal.aia == pytest.approx((0.9 + (0.8 + 0.7) / 2 + (0.6 + 0.5 + 0.9) / 3) / 3)
    weighted = summarize(R, test_sizes=[10, 30, 60])
    steps = [0.9, (10 * 0.8 + 30 * 0.7) / 40, (10 * 0.6 + 30 * 0.5 + 60 * 0.9) / 100]
    assert weighted.aia == pytest.approx(sum(steps) / 3)
    stopped = summarize(R[:2], test_sizes=[10, 30, 60])  # one task trained: AIA is its accuracy
    assert stopped.aia == pytest.approx(0.9)
    assert summarize(R[:1]).aia is None


def test_runs_record_test_sizes_and_aia(separable_tasks):
    project = _project(separable_tasks, "finetune")
    _, run = _train(project)
    assert run.metrics.test_sizes == [len(t.test.y) for t in separable_tasks]
    assert run.metrics.aia == pytest.approx(summarize(run.acc_matrix, run.metrics.test_sizes).aia)


# ---------------------------------------------------------------------------------------- unified classifier


def test_unified_classifier_reads_every_paths_features_and_frozen_modules_stay(separable_tasks):
    states, active = {}, []

    def keep_path_state(event, holder=[]):
        if isinstance(event, ev.TaskEnded):
            net = holder[0].net
            active.append(int(net.unified.active.sum().item()))
            states[event.task] = {(n, i): copy.deepcopy(net.instances(n)[i].state_dict())
                                  for n, i in event.path.items()}

    project = build_example("split-digits")  # digits' 2-class features transfer poorly: it grows
    project.tasks[:] = project.tasks[:3]
    project.settings = project.settings.replace(scenario="class", epochs=4,
                                                strategy_params={"task_inference": "unified"})
    holder = []
    trainer = Trainer(project.graph, project.tasks, project.settings,
                      [lambda e: keep_path_state(e, holder)])
    holder.append(trainer)
    run = trainer.run()
    assert run.status == "finished", run.message
    net = trainer.net
    sources = net.feature_sources()
    assert len(net.unified.blocks) == len(sources) >= 2
    assert sources[0] == 0
    assert net.unified.active.sum().item() == 6  # every class of the three tasks can win
    assert active == [2, 4, 6]  # after each task: the classes seen so far, no other
    # every task's module is bit-identical to what it was when its task ended
    for task, state in states.items():
        for (node_id, index), saved in state.items():
            now = net.instances(node_id)[index].state_dict()
            assert all(torch.equal(now[k], saved[k]) for k in saved), (task, node_id, index)
    # each source's features move the logits: silence one block and predictions change
    x = torch.tensor(np.concatenate([t.test.x for t in project.tasks]))
    with torch.no_grad():
        logits = net.unified_logits(x)
        for block in net.unified.blocks:
            saved = block.weight.clone()
            block.weight.zero_()
            assert not torch.equal(net.unified_logits(x), logits)
            block.weight.copy_(saved)
    # the run's predictions are the unified classifier's, over every class seen
    assert run.metrics.acc > 0.85
    assert all(rate > 0.8 for rate in run.metrics.task_inference)


def test_unified_training_keeps_the_memory_within_budget_and_says_so(separable_tasks):
    updates = []
    project = _project(separable_tasks, "expansion", task_inference="unified", memory=30)
    trainer, run = _train(project, [lambda e: updates.append(e) if isinstance(e, ev.MemoryUpdated) else None])
    assert [u.task for u in updates] == [0, 1, 2]
    assert all(u.samples <= 30 for u in updates) and updates[-1].samples == 30
    per_class = {}
    for task, _ in updates[-1].items:
        per_class[task] = per_class.get(task, 0) + 1
    assert sorted(per_class.values()) == [10, 10, 10]  # two classes a task, 5 each


# ---------------------------------------------------------------------------------------- routers


@pytest.mark.parametrize("strategy", ["progressive", "expansion"])
@pytest.mark.parametrize("router", ["gate", "memory"])
def test_a_learned_router_sends_each_task_to_its_own_path(separable_tasks, strategy, router):
    project = _project(separable_tasks, strategy, task_inference=router, router_epochs=30)
    trainer, run = _train(project)
    kind = {"gate": "AutoencoderGate", "memory": "FeatureClassifier"}[router]
    assert type(trainer.net.router).__name__ == kind
    assert len(run.metrics.task_inference) == 3
    assert min(run.metrics.task_inference) >= 0.95, run.metrics.task_inference


def test_expansion_and_progressive_route_with_the_gate_by_default(separable_tasks):
    for strategy in ("expansion", "progressive"):
        trainer, _ = _train(_project(separable_tasks, strategy))
        assert type(trainer.net.router).__name__ == "AutoencoderGate" and trainer.net.unified is None


def test_confidence_inference_trains_no_router(separable_tasks):
    trainer, run = _train(_project(separable_tasks, "expansion", task_inference="confidence"))
    assert trainer.net.router is None and trainer.net.unified is None
    assert not any(k.startswith(("extra/router", "extra/unified")) for k in run.weights)


def test_task_scenario_has_no_readout(separable_tasks):
    project = _project(separable_tasks, "expansion")
    project.settings = project.settings.replace(scenario="task")
    trainer, run = _train(project)
    assert trainer.net.readouts() == {}
    assert run.metrics.task_inference is None


# ---------------------------------------------------------------------------------------- saved and restored


@pytest.mark.parametrize("params", [{"task_inference": "unified"}, {}, {"task_inference": "memory"}])
def test_a_saved_run_restores_its_readouts_bit_for_bit(separable_tasks, tmp_path, params):
    project = _project(separable_tasks, "expansion", **params)
    trainer, run = _train(project)
    project.runs.append(run)
    loaded = ms.load_project(project.save(tmp_path / "p.modstudio"))
    net = restore_network(loaded, loaded.runs[-1])
    assert set(net.readouts()) == set(trainer.net.readouts()) != set()
    x = torch.tensor(separable_tasks[1].test.x)
    trained = trainer.net.eval()
    with torch.no_grad():
        assert torch.equal(net(x, 1), trained(x, 1))
        for name, module in net.readouts().items():
            original = trained.readouts()[name]
            assert all(torch.equal(a, b) for a, b in zip(module.state_dict().values(),
                                                            original.state_dict().values()))


def test_readout_weights_of_the_wrong_shape_are_refused(separable_tasks):
    project = _project(separable_tasks, "expansion", task_inference="unified")
    _, run = _train(project)
    weights = dict(run.weights)
    weights["extra/unified/blocks.0.weight"] = np.zeros((3, 3), np.float32)
    parts = dict(graph=project.graph, input_shape=(8,), task_classes=[2, 2, 2], strategy="expansion",
                 scenario="class", union_size=6, paths=run.paths)
    with pytest.raises(RestoreError, match="extra/unified/blocks.0.weight"):
        check_parts(weights=weights, **parts)
    weights["extra/unified/blocks.7.weight"] = np.zeros((6, 16), np.float32)  # a block with no source
    del weights["extra/unified/blocks.0.weight"]
    with pytest.raises(RestoreError):
        check_parts(weights=weights, **parts)


def test_cli_trains_with_a_gate_and_the_project_keeps_it(tmp_path):
    path = tmp_path / "d.modstudio"
    subprocess.run([sys.executable, "-m", "modstudio", "new", str(path), "--example", "split-digits"], check=True,
                   capture_output=True)
    out = subprocess.run([sys.executable, "-m", "modstudio", "train", str(path), "--strategy", "progressive",
                          "--scenario", "class", "--epochs", "1", "--param", "task_inference=gate",
                          "--param", "gate_hidden=8", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    project = ms.load_project(path)
    run = project.runs[-1]
    assert run.settings["strategy_params"] == {"task_inference": "gate", "gate_hidden": 8}
    assert any(k.startswith("extra/router/experts.4.") for k in run.weights)
    bad = subprocess.run([sys.executable, "-m", "modstudio", "train", str(path), "--strategy", "progressive",
                          "--param", "task_inference=oracle"], capture_output=True, text=True)
    assert bad.returncode != 0 and "task_inference must be one of confidence, gate, memory" in bad.stderr


# ---------------------------------------------------------------------------------------- validation


def test_expansion_carves_a_validation_split_when_a_task_has_none(blob_tasks):
    tasks = [copy.deepcopy(t) for t in blob_tasks]
    for task in tasks:  # the splits without validation data
        task.train = type(task.train)(np.concatenate([task.train.x, task.val.x]),
                                      np.concatenate([task.train.y, task.val.y]))
        task.val = type(task.val)(task.val.x[:0], task.val.y[:0])
    carved, candidates = [], []
    project = _project(tasks, "expansion")
    project.settings = project.settings.replace(scenario="task")

    def keep(event):
        if isinstance(event, ev.ValidationCarved):
            carved.append(event)
        elif isinstance(event, ev.CandidateEvaluated):
            candidates.append(event.val_accuracy)

    _train(project, [keep])
    assert [c.task for c in carved] == [0, 1, 2]
    for event, task in zip(carved, tasks):
        assert event.n_val + event.n_train == len(task.train.y)
        assert event.n_val == pytest.approx(0.1 * len(task.train.y), abs=2)
    assert candidates and max(candidates) > 0.5  # scored on data, not on nothing

    _, run = _train(_project(tasks, "finetune"))  # a strategy that does not select keeps all its data
    assert run.status == "finished"
