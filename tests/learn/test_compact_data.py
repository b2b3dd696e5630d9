"""Image data kept as bytes: uint8 on the device, mapped per batch, and the same run as its floats."""

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.data import UNIT, Dataset, Encoded, ValueMap, split_by_class
from modstudio.learn.evaluation import evaluate_run
from modstudio.learn.strategies import STRATEGIES
from modstudio.learn.trainer import Trainer
from modstudio.project import Project, TrainingSettings
from modstudio.graph import Graph

VALUES = ValueMap(255.0, (0.45, 0.5), (0.25, 0.3))  # per channel: the broadcast is exercised too


def _images(values=VALUES, seed=2):
    """6 classes of 2×4×4 byte images around class-dependent means: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(6), 40)
    means = rng.integers(40, 216, size=(6, 2, 4, 4))
    x8 = np.clip(means[y] + rng.normal(0, 45, size=(len(y), 2, 4, 4)), 0, 255).astype(np.uint8)
    return Dataset(Encoded(x8, values), y, name="images"), Dataset(values.apply(x8), y, name="images")


def image_graph() -> Graph:
    g = Graph()
    nodes = [g.add_node("input"), g.add_node("flatten"), g.add_node("mlp_block", hidden=[16]), g.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    return g


@pytest.fixture(scope="module")
def byte_and_float_tasks():
    stored, floats = _images()
    return split_by_class(stored, n_tasks=3), split_by_class(floats, n_tasks=3)


def _project(tasks, strategy="finetune", scenario="task", **settings):
    project = Project.new("compact")
    project.graph = image_graph()
    project.tasks.extend(tasks)
    project.settings = TrainingSettings(**{"strategy": strategy, "scenario": scenario, "epochs": 1,
                                           "batch_size": 32, "lr": 1e-2, **settings})
    return project


def test_the_trainer_keeps_bytes_on_the_device(byte_and_float_tasks):
    stored, floats = byte_and_float_tasks
    trainer = Trainer(image_graph(), stored, TrainingSettings(epochs=1))
    trainer._prepare()
    for data in trainer.data:
        assert data.train_x.dtype == data.val_x.dtype == data.test_x.dtype == torch.uint8
    assert trainer.net.input_values.values == VALUES
    trainer = Trainer(image_graph(), floats, TrainingSettings(epochs=1))
    trainer._prepare()
    assert trainer.data[0].train_x.dtype == torch.float32 and trainer.net.input_values is None
    # bytes under different mappings (or bytes and floats) cannot share one mapping: all floats
    other = split_by_class(_images(UNIT)[0], n_tasks=3)
    trainer = Trainer(image_graph(), [stored[0], other[1]], TrainingSettings(epochs=1))
    trainer._prepare()
    assert [d.train_x.dtype for d in trainer.data] == [torch.float32, torch.float32]
    np.testing.assert_array_equal(trainer.data[1].test_x.numpy(), other[1].test.floats())


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_bytes_train_to_the_matrix_of_their_floats(byte_and_float_tasks, strategy):
    """Every strategy, in the class scenario (routers, unified classifiers, memories): each batch,
    memory draw and evaluation chunk is mapped on the device to the very floats of the float run."""
    stored, floats = byte_and_float_tasks
    runs = [ms.train(_project(tasks, strategy, "class")).run for tasks in (stored, floats)]
    assert all(run.status == "finished" for run in runs), [run.message for run in runs]
    assert runs[0].acc_matrix == runs[1].acc_matrix
    assert runs[0].metrics.task_inference == runs[1].metrics.task_inference


def test_bytes_in_the_task_scenario_and_over_several_epochs(byte_and_float_tasks):
    stored, floats = byte_and_float_tasks
    for strategy in ("finetune", "progressive", "expansion"):
        runs = [ms.train(_project(tasks, strategy, epochs=3)).run for tasks in (stored, floats)]
        assert runs[0].acc_matrix == runs[1].acc_matrix, strategy
    assert runs[0].metrics.acc > 0.7  # the bytes were learned from, not read as garbage


def test_a_memory_counts_one_byte_a_value(byte_and_float_tasks):
    stored, floats = byte_and_float_tasks
    per_value = {}
    for tasks in (stored, floats):
        run = ms.train(_project(tasks, "replay", strategy_params={"memory": 20})).run
        values = int(np.prod(tasks[0].sample_shape))
        samples = run.memory["samples"]
        assert samples > 0
        per_value[tasks[0].train.x.dtype] = (run.memory["bytes"] - samples * 8) / (samples * values)  # 8: a label
    assert per_value == {np.dtype(np.uint8): 1.0, np.dtype(np.float32): 4.0}


def test_a_byte_project_saves_bytes_and_loads_them_back(byte_and_float_tasks, tmp_path):
    stored, _ = byte_and_float_tasks
    project = _project(stored, embed_data="always")
    path = project.save(tmp_path / "bytes.modstudio")
    again = ms.load_project(path)
    for before, after in zip(stored, again.tasks):
        assert after.values == VALUES and after.fingerprint == before.fingerprint
        for split in ("train", "val", "test"):
            assert after.split(split).x.dtype == np.uint8
            np.testing.assert_array_equal(after.split(split).x, before.split(split).x)
    assert ms.train(again).run.acc_matrix == ms.train(project).run.acc_matrix


def test_evaluation_reads_byte_tasks_as_their_floats(byte_and_float_tasks):
    results = []
    for tasks in byte_and_float_tasks:
        project = _project(tasks, "expansion", "class")
        run = ms.train(project).run
        results.append(evaluate_run(project, run).to_dict())
    assert results[0]["tasks"] == results[1]["tasks"]
