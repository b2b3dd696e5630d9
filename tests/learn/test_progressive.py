"""Progressive networks' lateral adapters (Rusu et al. 2016): their size, their start, old runs."""

import numpy as np
import pytest
import torch

import modstudio as ms
from modstudio.learn.network import ChannelMix, LateralAdapter, ModularNetwork
from modstudio.learn.restore import restore_network
from modstudio.learn.trainer import Trainer
from modstudio.project import Project, TrainingSettings

from modstudio.graph import Graph

WIDTH = 8


def two_blocks() -> Graph:
    """input → 16 units → 12 units → head: laterals enter the second block and the head."""
    g = Graph()
    ids = [g.add_node("input"), g.add_node("mlp_block", hidden=[16]), g.add_node("mlp_block", hidden=[12]),
           g.add_node("head")]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    return g


def _net(tasks: int, width, graph=None):
    net = ModularNetwork(graph or two_blocks(), (8,), [2] * tasks)
    for task in range(tasks):
        path = {node_id: (net.grow(node_id) if task else net.shared_instance(node_id))
                for node_id in net.trainable_nodes}
        net.set_path(task, path)
        net.add_laterals(task, width)
    return net


@pytest.mark.parametrize("tasks", [2, 5, 20])
def test_adapter_parameters_follow_the_formula(tasks):
    """Laterals enter the second block (16 channels) and the head (12): column k's adapter at a
    step of C channels holds k α's, a (width × k·C) projection and a (C × width) one."""
    net = _net(tasks, WIDTH)
    lateral = sum(p.numel() for p in net.laterals.parameters())
    expected = sum(k + WIDTH * k * c + c * WIDTH for k in range(1, tasks) for c in (16, 12))
    assert lateral == expected
    old = sum(k * c * c for k in range(1, tasks) for c in (16, 12))  # C×C per older column, as before
    assert all(isinstance(m, LateralAdapter) for m in net.laterals.values())
    if tasks == 20:
        assert lateral < old / 1.5


def test_a_new_column_starts_as_an_independent_network():
    net = _net(3, WIDTH)
    x = torch.randn(5, 8)
    with torch.no_grad():
        with_laterals = net.features_and_logits(x, 2)
        alone = net.run(x, net.modules_for(2))[-1]
    assert torch.equal(with_laterals, alone)  # the adapters' last projection is zero at start
    assert all(p.requires_grad for m in net.laterals_of(2) for p in m.parameters())


def test_runs_saved_with_channel_mixes_still_restore(blob_tasks, tmp_path):
    """Before adapters, laterals were one C×C mix per older column; such runs still open and
    answer exactly as they did."""
    project = Project.new("legacy")
    project.graph = two_blocks()
    project.tasks.extend(blob_tasks)
    project.settings = TrainingSettings(strategy="progressive", epochs=1, batch_size=32)
    trainer = Trainer(project.graph, project.tasks, project.settings)
    run = trainer.run()
    assert run.status == "finished", run.message
    legacy = _net(3, None, project.graph)
    assert all(isinstance(m, ChannelMix) for key in legacy.laterals for m in legacy.laterals[key])
    with torch.no_grad():
        for p in legacy.laterals.parameters():
            p.normal_()
    for step in legacy.plan:  # the trained columns, with the old mixes beside them
        if step.node_id != legacy.input_id:
            for index, module in enumerate(legacy.instances(step.node_id)):
                module.load_state_dict(trainer.net.instances(step.node_id)[index].state_dict())
    legacy.restore_paths(trainer.net.paths)
    run.weights = legacy.weights()
    project.runs.append(run)
    loaded = ms.load_project(project.save(tmp_path / "legacy.modstudio"))
    net = restore_network(loaded, loaded.runs[-1])
    x = torch.tensor(np.asarray(blob_tasks[2].test.x))
    with torch.no_grad():
        assert torch.equal(net(x, 2), legacy.eval()(x, 2))
    assert all(isinstance(m, torch.nn.ModuleList) for m in net.laterals.values())
