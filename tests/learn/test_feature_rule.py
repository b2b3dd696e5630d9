"""The network's feature sources are the torch-free rule's (``project/features.py``), the rule says what
the computation does, and the strategy parameters the studio hides are the ones the engine ignores."""

import pytest
import torch

from modstudio.learn.network import ModularNetwork
from modstudio.learn.readouts import AutoencoderGate
from modstudio.learn.trainer import Trainer
from modstudio.project import TrainingSettings, features, strategy_specs

from tests.project.test_features import branching_graph


def test_equal_feature_keys_mean_equal_features_and_distinct_keys_distinct_ones():
    g, n = branching_graph()
    net = ModularNetwork(g, (8,), [2, 2, 2, 2, 2])
    for node in ("a", "b", "c"):
        while len(net.instances(n[node])) < 2:
            net.grow(n[node])
    choices = [(0, 0, 0), (0, 1, 0), (0, 0, 0), (1, 1, 0), (0, 1, 1)]
    for task, (a, b, c) in enumerate(choices):
        net.set_path(task, {n["a"]: a, n["b"]: b, n["c"]: c})
    assert net.feature_nodes == features.feature_nodes(g)
    sources = net.feature_sources()
    assert sources == features.feature_sources(net.paths, features.feature_nodes(g)) == [0, 1, 3, 4]
    x = torch.randn(16, 8)
    with torch.no_grad():
        f = net.head_inputs(x, range(5))
    owners = features.feature_owners(net.paths, net.feature_nodes)
    for i in range(5):
        for j in range(5):
            same = torch.equal(f[i], f[j])
            assert same == (owners[i] == owners[j]), (i, j)


def test_a_saved_class_incremental_run_names_the_unified_classifiers_sources_from_its_paths(blob_tasks):
    from tests.learn.conftest import mlp_graph

    graph = mlp_graph((16, 16))
    settings = TrainingSettings(strategy="expansion", scenario="class", epochs=2, batch_size=32, lr=1e-2,
                                strategy_params={"task_inference": "unified"})
    trainer = Trainer(graph, blob_tasks, settings)
    run = trainer.run()
    assert run.status == "finished", run.message
    nodes = features.feature_nodes(run.trained_graph(graph))  # what the studio has: the record, no torch
    assert features.feature_sources(run.paths, nodes) == trainer.net.feature_sources()
    assert len(trainer.net.unified.blocks) == len(trainer.net.feature_sources())


@pytest.mark.parametrize("strategy, scenario, mode", [
    ("expansion", "task", None), ("expansion", "class", "unified"), ("expansion", "class", "gate"),
    ("expansion", "class", "memory"), ("expansion", "class", "confidence"),
    ("progressive", "task", None), ("progressive", "class", "gate"), ("progressive", "class", "memory"),
    ("progressive", "class", "confidence"),
])
def test_the_parameters_shown_are_the_ones_the_engine_uses(blob_tasks, strategy, scenario, mode):
    from tests.learn.conftest import mlp_graph

    params = {"task_inference": mode} if mode else {}
    settings = TrainingSettings(strategy=strategy, scenario=scenario, epochs=1, batch_size=64, lr=1e-2,
                                strategy_params={**params, "search_epochs": 1} if strategy == "expansion" else params)
    trainer = Trainer(mlp_graph(), blob_tasks[:2], settings)
    assert trainer.run().status == "finished"
    spec, used = strategy_specs.get(strategy), trainer.strategy
    router = getattr(used, "router", None)
    engine = {
        "task_inference": scenario == "class",
        "memory": getattr(used, "memory", None) is not None,
        "gate_hidden": isinstance(trainer.net.router, AutoencoderGate),
        "router_epochs": router is not None and router.epochs() > 0,
        "aux_weight": trainer.net.unified is not None,
        "balance_epochs": trainer.net.unified is not None,
    }
    engine["memory_selection"] = engine["memory"]
    for name, uses in engine.items():
        if any(p.name == name for p in spec.params):
            assert features.param_applies(spec, name, scenario, params) == uses, name
