"""The torch-free rule of which tasks' features a class-incremental readout reads (``project/features.py``),
how a run's settings read its predictions, and which strategy parameters take effect."""

import pytest

from modstudio.graph import Graph
from modstudio.project import features, strategy_specs


def branching_graph():
    """input → a → relu → b ┐
                 └──────── c ┴ concat → head: two branches, a stateless node, a merge."""
    g = Graph()
    x = g.add_node("input", shape=[8])
    a = g.add_node("mlp_block", hidden=[8])
    r = g.add_node("relu")
    b = g.add_node("mlp_block", hidden=[8])
    c = g.add_node("mlp_block", hidden=[8])
    cat = g.add_node("concat")
    h = g.add_node("head")
    for src, dst in ((x, a), (a, r), (r, b), (a, c), (b, cat), (c, cat), (cat, h)):
        g.connect(src, dst)
    return g, dict(x=x, a=a, r=r, b=b, c=c, cat=cat, h=h)


def test_feature_nodes_are_everything_upstream_of_the_head_but_the_input_in_order():
    g, n = branching_graph()
    nodes = features.feature_nodes(g)
    assert set(nodes) == {n["a"], n["r"], n["b"], n["c"], n["cat"]}
    order = g.topological_order()
    assert list(nodes) == sorted(nodes, key=order.index)
    assert features.feature_nodes(g, n["h"]) == nodes
    assert features.feature_nodes(Graph()) == ()  # no head: nothing


def test_tasks_share_a_feature_source_exactly_when_their_paths_agree_upstream_of_the_head():
    g, n = branching_graph()
    nodes = features.feature_nodes(g)

    def path(a, b, c, head):
        return {n["a"]: a, n["r"]: 0, n["b"]: b, n["c"]: c, n["cat"]: 0, n["h"]: head}

    paths = [path(0, 0, 0, 0), path(0, 1, 0, 1), path(0, 0, 0, 2), path(1, 1, 0, 3), path(0, 1, 0, 4)]
    # the head's own instance is no part of the features: tasks 1, 3 agree everywhere else, so do 2, 5
    assert features.feature_owners(paths, nodes) == [0, 1, 0, 3, 1]
    assert features.feature_sources(paths, nodes) == [0, 1, 3]
    assert features.feature_sources(paths, nodes, n_tasks=3) == [0, 1]
    # progressive columns are sources of their own, whatever their instances
    assert features.feature_sources(paths, nodes, lateral_tasks=range(5)) == [0, 1, 2, 3, 4]
    assert features.lateral_tasks("progressive", 3) == range(3) and not features.lateral_tasks("expansion", 3)


def test_how_a_run_reads_its_predictions_follows_the_settings():
    assert features.task_inference("expansion", "task") is None  # the task is given
    assert features.task_inference("finetune", "class") == "shared"
    assert features.task_inference("expansion", "class") == "gate"  # the spec's default
    assert features.task_inference("progressive", "class") == strategy_specs.get("progressive").param(
        "task_inference").default
    assert features.task_inference("progressive", "class", {"task_inference": "memory"}) == "memory"
    assert features.task_inference("nope", "class") is None
    assert set(features.READOUT_TEXT) >= {"shared", "unified", *strategy_specs.ROUTERS}


@pytest.mark.parametrize("scenario, mode, shown", [
    ("task", None, set()),
    ("class", "unified", {"task_inference", "aux_weight", "balance_epochs", "memory", "memory_selection"}),
    ("class", "gate", {"task_inference", "router_epochs", "gate_hidden"}),
    ("class", "memory", {"task_inference", "router_epochs", "memory", "memory_selection"}),
    ("class", "confidence", {"task_inference"}),
])
def test_expansion_readout_parameters_apply_only_where_the_readout_uses_them(scenario, mode, shown):
    spec = strategy_specs.get("expansion")
    params = {"task_inference": mode} if mode else {}
    readout = {p.name for p in spec.params if features.class_only(spec, p.name)}
    applies = {p.name for p in spec.params if features.param_applies(spec, p.name, scenario, params)}
    assert applies & readout == shown
    assert {"search_epochs", "probe_epochs", "tolerance", "warm_start"} <= applies - readout  # always


def test_shared_path_strategies_use_every_parameter_in_both_scenarios():
    for spec in strategy_specs.specs():
        if not spec.path_based:
            assert not any(features.class_only(spec, p.name) for p in spec.params), spec.name
