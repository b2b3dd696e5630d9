"""Strategies on task data streamed from the host (a mapped split too big for the GPU): the ones that
gather a few samples themselves train; those that would copy the split whole are refused before
anything trains, saying what to do. On the CPU the map is the training tensor, as before."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import modstudio.data as msdata
from modstudio.graph import Graph
from modstudio.learn import streaming
from modstudio.learn.memory import ExemplarMemory
from modstudio.learn.streaming import streaming_refusal
from modstudio.learn.trainer import TaskTensors, Trainer
from modstudio.project import Project, load_project, strategy_specs
from modstudio.project.mapping import mapped_archive
from tests.project.test_mapped_data import byte_task

GiB = 2**30
COPIES = {"joint", "icarl"}  # join a task's whole training split with other samples, in both scenarios
UNIFIED = {"task_inference": "unified"}


def _expected_refused(name: str, scenario: str, params: dict, has_validation: bool) -> bool:
    if name in COPIES:
        return True
    if name == "expansion":  # selects on validation (carves it), and its unified classifier joins the memory
        return not has_validation or (scenario == "class" and params.get("task_inference") == "unified")
    return False


@pytest.mark.parametrize("has_validation", [True, False], ids=["validation", "no-validation"])
@pytest.mark.parametrize("scenario", ["task", "class"])
@pytest.mark.parametrize("name", strategy_specs.names())
def test_every_strategy_decides_whether_it_can_train_a_streamed_training_split(name, scenario, has_validation):
    spec = strategy_specs.get(name)
    for params in ({}, UNIFIED) if name == "expansion" else ({},):
        problem = streaming_refusal(spec, scenario, params, {"train": 3 * GiB}, has_validation,
                                    task="task 2 (b)", free=4 * GiB)
        assert (problem is not None) == _expected_refused(name, scenario, params, has_validation), (params, problem)
        if problem is None:
            continue
        assert problem.startswith("task 2 (b): its training split (3.0 GiB")
        assert "than 50% of the GPU's free memory (4.0 GiB)" in problem and "train on the CPU (device cpu)" in problem
        joined = scenario == "class" and params  # the unified classifier: named with its readout
        assert f"{name}{' with task_inference=unified' if joined else ''} " in problem
        carve_only = name == "expansion" and not has_validation and not (scenario == "class" and params)
        assert ("add a validation split" in problem) == carve_only
        allowed = [s for s in strategy_specs.names()
                   if not _expected_refused(s, scenario, {}, has_validation)]
        assert f"with its default parameters ({', '.join(allowed)})" in problem
    # validation and test splits are only evaluated, a chunk at a time: every strategy streams them
    assert streaming_refusal(spec, scenario, {}, {"val": GiB, "test": GiB}, has_validation) is None
    assert streaming_refusal(spec, scenario, {}, {}, has_validation) is None


def test_the_specs_declare_who_joins_the_training_split():
    joins = {s.name: s.joins_train for s in strategy_specs.specs() if s.joins_train}
    assert joins == {"joint": ("task", "class"), "icarl": ("task", "class"), "expansion": ("unified",)}


def test_the_memory_gathers_on_the_splits_device_and_hands_its_samples_to_the_training_device():
    """A split on the host, labels on another device (``meta`` stands in for a GPU here): the few
    remembered samples are indexed on the host and moved, never the split."""
    x = torch.arange(40, dtype=torch.uint8).reshape(20, 2)
    y = torch.zeros(20, dtype=torch.long, device="meta")
    data = TaskTensors(x, y, x[:0], y[:0], x[:0], y[:0], torch.zeros(2, dtype=torch.long, device="meta"))

    class Ctx:
        def data(self, task):
            return data

        def labels(self, task, local):
            return local

    memory = ExemplarMemory(5, "random", seed=0)
    memory.add_task(0, torch.zeros(20, dtype=torch.long))
    mx, my, mt = memory.gather(Ctx())
    assert (mx.device.type, my.device.type, mt.device.type) == ("meta", "meta", "meta")
    assert mx.shape == (5, 2) and mx.dtype == torch.uint8
    assert memory.gather(Ctx(), [])[0].device.type == "meta"


# ---------------------------------------------------------------- whole runs

def _graph() -> Graph:
    g = Graph()
    nodes = [g.add_node("input"), g.add_node("flatten"), g.add_node("mlp_block", hidden=[8]), g.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    return g


def _without_validation(task: msdata.Task) -> msdata.Task:
    empty = msdata.Split(msdata.Encoded(task.val.x[:0], msdata.UNIT), task.val.y[:0])
    return msdata.Task(task.name, task.classes, task.class_names, task.train, empty, task.test)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Three small byte tasks saved twice: with validation splits, and without (a strategy that
    selects on validation carves one)."""
    tasks = [byte_task(name, n=400, seed=seed) for seed, name in enumerate("abc")]
    paths = {}
    for kind, ts in (("val", tasks), ("noval", [_without_validation(t) for t in tasks])):
        paths[kind] = tmp_path_factory.mktemp(kind) / "p.modstudio"
        Project(name=kind, graph=_graph(), tasks=ts).save(paths[kind])
    return paths


def _train(path, map_data, strategy, scenario="task", params=None, events=None, **settings):
    project = load_project(path, map_data=map_data)
    project.configure(strategy=strategy, strategy_params=params or {}, scenario=scenario, epochs=1, batch_size=64,
                      lr=0.05, device=settings.pop("device", "cpu"), **settings)
    trainer = Trainer(project.graph, project.tasks, project.settings,
                      callbacks=[events.append] if events is not None else ())
    return trainer, trainer.run()


CPU_CASES = [
    ("replay", "task", {}, "val"), ("der_pp", "class", {}, "val"), ("ewc", "task", {}, "val"),
    ("mas", "task", {}, "val"), ("agem", "task", {"memory_selection": "herding"}, "val"), ("gdumb", "class", {}, "val"),
    ("joint", "task", {}, "val"), ("icarl", "class", {}, "val"), ("progressive", "class", {}, "val"),
    ("expansion", "task", {}, "val"), ("expansion", "task", {}, "noval"), ("expansion", "class", UNIFIED, "noval"),
    ("expansion", "class", {"task_inference": "memory"}, "val"),
]


@pytest.mark.parametrize("strategy,scenario,params,kind", CPU_CASES,
                         ids=[f"{s}-{sc}-{k}{'-' + p['task_inference'] if 'task_inference' in p else ''}"
                              for s, sc, p, k in CPU_CASES])
def test_on_the_cpu_mapped_data_trains_every_strategy_to_the_matrix_of_in_memory_data(
        files, strategy, scenario, params, kind):
    """The map is the training tensor on the CPU (nothing streams, nothing is refused): memories,
    penalties, expansion's probes and a carved validation split give what in-memory data gives."""
    trainer, mapped = _train(files[kind], True, strategy, scenario, params)
    assert mapped.status == "finished", mapped.message
    assert mapped_archive(trainer.tasks[0].train.x) is not None
    if kind == "val":  # the task's own pages train (a carved split is a copy, as in memory)
        assert trainer.data[0].train_x.data_ptr() == trainer.tasks[0].train.x.ctypes.data
    _, read = _train(files[kind], False, strategy, scenario, params)
    assert read.status == "finished", read.message
    assert mapped.acc_matrix == read.acc_matrix


@pytest.fixture
def streamed(monkeypatch):
    """The trainer sees every split as kept on the host beside a GPU with 1 GiB free: its check and
    its evaluation chunks (``_chunk``, through a CPU ``HostStream``) run as they would there."""
    monkeypatch.setattr(Trainer, "_on_host", lambda self, x: True)
    monkeypatch.setattr(Trainer, "_device_free", lambda self: GiB)


@pytest.mark.parametrize("strategy,scenario,params,kind", [
    ("joint", "task", {}, "val"), ("icarl", "class", {}, "val"), ("expansion", "task", {}, "noval"),
    ("expansion", "class", UNIFIED, "val"),
])
def test_a_strategy_that_would_copy_a_streamed_split_is_refused_before_anything_trains(
        files, streamed, strategy, scenario, params, kind):
    events = []
    trainer, run = _train(files[kind], True, strategy, scenario, params, events)
    assert run.status == "failed"
    data = trainer.data[0]
    nbytes = data.train_x.nelement() * data.train_x.element_size()
    assert run.message == streaming_refusal(strategy_specs.get(strategy), scenario, params, {"train": nbytes},
                                            kind == "val", task="task 1 (a)", free=GiB)
    assert "task 1 (a)" in run.message and "1.0 GiB" in run.message
    assert not any(type(e).__name__ in ("RunStarted", "TaskStarted", "ValidationCarved") for e in events)
    assert not hasattr(trainer, "carved")  # refused before a validation split was carved


@pytest.mark.parametrize("strategy,scenario,params", [
    ("replay", "task", {}), ("ewc", "task", {}), ("expansion", "task", {}), ("progressive", "class", {}),
])
def test_a_strategy_that_gathers_its_own_samples_is_let_through_and_evaluates_streamed_chunks_alike(
        files, streamed, monkeypatch, strategy, scenario, params):
    _, through = _train(files["val"], True, strategy, scenario, params)
    assert through.status == "finished", through.message
    monkeypatch.undo()
    _, plain = _train(files["val"], True, strategy, scenario, params)
    assert through.acc_matrix == plain.acc_matrix


# ---------------------------------------------------------------- on a GPU (skipped without one)

GPU_CASES = [
    ("finetune", "task", {}), ("si", "task", {}), ("lwf", "class", {}), ("ewc", "task", {}), ("mas", "task", {}),
    ("replay", "task", {}), ("der_pp", "class", {}), ("agem", "task", {"memory_selection": "herding"}),
    ("gdumb", "class", {}), ("progressive", "class", {}), ("progressive", "class", {"task_inference": "memory"}),
    ("expansion", "task", {}), ("expansion", "class", {"task_inference": "memory"}),
]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("strategy,scenario,params", GPU_CASES)
def test_on_a_gpu_every_strategy_that_streams_trains_to_the_matrix_of_resident_data(
        files, monkeypatch, strategy, scenario, params):
    monkeypatch.setattr(streaming, "DEVICE_SHARE", 0.0)  # every mapped split "does not fit"
    trainer, streamed_run = _train(files["val"], True, strategy, scenario, params, device="cuda")
    assert streamed_run.status == "finished", streamed_run.message
    assert all(d.train_x.device.type == "cpu" and d.val_x.device.type == "cpu" for d in trainer.data)
    monkeypatch.setattr(streaming, "DEVICE_SHARE", 1.0)
    trainer, resident = _train(files["val"], True, strategy, scenario, params, device="cuda")
    assert trainer.data[0].train_x.device.type == "cuda"
    np.testing.assert_allclose(np.array(streamed_run.acc_matrix, float), np.array(resident.acc_matrix, float),
                               atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_joint_on_a_streamed_split_is_refused_naming_the_free_memory(files, monkeypatch):
    monkeypatch.setattr(streaming, "DEVICE_SHARE", 0.0)
    events = []
    _, run = _train(files["val"], True, "joint", events=events, device="cuda")
    assert run.status == "failed" and "GPU's free memory (" in run.message and "task 1 (a)" in run.message
    assert not any(type(e).__name__ == "TaskStarted" for e in events)


def test_evaluation_chunks_hold_a_bounded_float_copy():
    """Big images are evaluated a few at a time: a chunk's float features stay within EVAL_BYTES."""
    from modstudio.learn.chunks import EVAL_BATCH, EVAL_BYTES, eval_step

    assert eval_step(torch.zeros(10, 64, dtype=torch.uint8)) == EVAL_BATCH  # small samples: the full batch
    step = eval_step(torch.zeros(10, 1, 64, 64, dtype=torch.uint8))
    assert step * 64 * 64 * 4 <= EVAL_BYTES < (step + 1) * 64 * 64 * 4
    assert eval_step(torch.zeros(0, 3, 32, 32)) >= 1
