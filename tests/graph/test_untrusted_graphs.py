"""Graphs from untrusted files (issue 17, items 14-15): whatever ``Graph.from_dict`` accepts, the
check reports on without raising and the graph saves and reads back equal; what it refuses is a
GraphError (never OverflowError, ValueError of another kind, or a networkx exception)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from modstudio.graph import ErrorKind, Graph, GraphError, catalog


def test_a_self_loop_is_a_cycle_of_one_node():
    g = Graph()
    x = g.add_node("input", shape=(4,))
    a = g.add_node("linear", out_features=3)
    h = g.add_node("head", classes=2)
    g.connect(x, a)
    g.connect(a, h)
    data = g.to_dict()
    data["edges"].append({"src": a, "dst": a, "src_port": "out", "dst_port": "in"})
    looped = Graph.from_dict(data)  # loading does not apply the connect rules; the check reports
    report = looped.check()
    assert [(e.kind, e.node_id) for e in report.errors if e.kind is ErrorKind.CYCLE] == [(ErrorKind.CYCLE, a)]
    assert report.nodes[x].shape == (4,) and report.nodes[h].shape is None
    assert Graph.from_dict(looped.to_dict()).to_dict() == looped.to_dict()
    with pytest.raises(GraphError, match="cycle"):
        looped.topological_order()
    assert looped.has_cycle()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e300, -1e300, 2**64, -(2**70), 1.5, "3", None])
def test_integer_params_refuse_what_is_not_a_storable_whole_number(value):
    spec = catalog.get("linear").param("out_features")
    with pytest.raises(catalog.ParamTypeError, match="out_features must be a whole number"):
        spec.coerce(value)
    g = Graph()
    node = g.add_node("linear")
    with pytest.raises(GraphError, match="out_features must be a whole number"):
        g.set_param(node, "out_features", value)
    assert spec.coerce(2.0) == 2 and spec.coerce(2**63) == 2**63


@pytest.mark.parametrize("value", [[2**64], [1, -(2**64)], "1,99999999999999999999"])
def test_shape_params_refuse_numbers_beyond_int64(value):
    with pytest.raises(catalog.ParamTypeError, match="within ±2\\*\\*63"):
        catalog.get("input").param("shape").coerce(value)


@pytest.mark.parametrize("pos", [[math.inf, 0.0], [0.0, -math.inf], [math.nan, 1.0]])
def test_positions_must_be_finite(pos):
    g = Graph()
    node = g.add_node("relu")
    data = g.to_dict()
    data["nodes"][0]["pos"] = pos
    with pytest.raises(GraphError, match=r"pos must be two numbers, both finite \(at nodes\[0\]\)"):
        Graph.from_dict(data)
    with pytest.raises(GraphError, match="finite"):
        g.move_node(node, tuple(pos))
    with pytest.raises(GraphError, match="finite"):
        g.add_node("relu", pos=tuple(pos))


def test_from_dict_errors_say_where():
    g = Graph()
    a = g.add_node("relu")
    data = g.to_dict()
    data["edges"] = [{"src": a, "dst": "ghost", "src_port": "out", "dst_port": "in"}]
    with pytest.raises(GraphError, match=r"missing node ghost \(at edges\[0\]\)"):
        Graph.from_dict(data)
    data = {"nodes": [{"id": "n", "kind": "nope", "name": "x"}]}
    with pytest.raises(GraphError, match=r"unknown module kind 'nope' \(at nodes\[0\]\)"):
        Graph.from_dict(data)


# --------------------------------------------------------------------------- any accepted graph checks


def _param_value(spec: catalog.ParamSpec):
    hostile_ints = st.sampled_from([0, 1, 2, 3, 7, 64, 1024, 1025, 10**6, 2**31, 2**62, 2**63, -1, -(2**63)])
    if spec.type == "int":
        return st.one_of(hostile_ints, st.integers(-5, 70), st.sampled_from([1e18, 2.0, -0.0]))
    if spec.type == "float":
        return st.one_of(st.floats(-1e300, 1e300, allow_nan=False), st.sampled_from([0.0, 0.99, 1.0, 5e-324]))
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "choice":
        return st.sampled_from(spec.choices)
    if spec.type in ("shape", "ints"):
        return st.lists(st.one_of(hostile_ints, st.integers(-2, 40)), max_size=5)
    return st.text(max_size=5)


KINDS = [s.kind for s in catalog.specs()]


@st.composite
def graphs(draw):
    data = {"nodes": [], "edges": [], "groups": []}
    n = draw(st.integers(1, 7))
    for i in range(n):
        kind = draw(st.sampled_from(KINDS) if i else st.just("input"))
        spec = catalog.get(kind)
        params = {p.name: draw(_param_value(p)) for p in spec.params if draw(st.booleans())}
        data["nodes"].append({"id": f"n{i}", "kind": kind, "name": f"node {i}", "params": params,
                              "pos": [draw(st.floats(-1e9, 1e9)), 0.0], "group": None})
    for _ in range(draw(st.integers(0, 10))):
        src, dst = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))  # self-loops and cycles too
        data["edges"].append({"src": f"n{src}", "dst": f"n{dst}", "src_port": "out", "dst_port": "in"})
    return data, draw(st.one_of(st.none(), st.lists(st.integers(1, 40), min_size=1, max_size=4))), \
        draw(st.one_of(st.none(), st.integers(1, 12)))


@settings(max_examples=400, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=[HealthCheck.too_slow])
@given(case=graphs())
def test_any_graph_from_dict_accepts_checks_without_raising_and_round_trips(case):
    data, input_shape, classes = case
    try:
        graph = Graph.from_dict(data)
    except GraphError:
        return
    report = graph.check(input_shape=tuple(input_shape) if input_shape else None, classes=classes)
    assert set(report.nodes) == set(graph.nodes)
    assert all(isinstance(e.message, str) for e in report.errors)
    again = Graph.from_dict(graph.to_dict())
    assert again.to_dict() == graph.to_dict()
