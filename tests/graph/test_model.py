"""The graph model: ids, params, edges, events, serialisation."""

import json

import pytest

from modstudio.graph import ConnectError, Graph, GraphError


def test_node_ids_are_unique_uuid_hex(tiny_graph):
    ids = list(tiny_graph.nodes)
    assert len(set(ids)) == 4
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_add_node_applies_defaults_and_overrides():
    g = Graph()
    node = g.nodes[g.add_node("linear", out_features=7)]
    assert node.params == {"out_features": 7, "bias": True}
    assert node.name == "Linear 1"
    assert g.nodes[g.add_node("linear")].name == "Linear 2"


def test_add_node_refuses_unknown_kind_and_bad_param_types():
    g = Graph()
    with pytest.raises(GraphError, match="unknown module kind 'transformer'"):
        g.add_node("transformer")
    with pytest.raises(GraphError, match="out_features must be a whole number"):
        g.add_node("linear", out_features="wide")
    with pytest.raises(GraphError, match="has no parameter 'width'"):
        g.add_node("linear", width=3)
    assert g.nodes == {}


def test_shape_params_accept_text_and_store_lists():
    g = Graph()
    x = g.add_node("input", shape="1, 8, 8")
    assert g.nodes[x].params["shape"] == [1, 8, 8]
    g.set_param(x, "shape", (64,))
    assert g.nodes[x].params["shape"] == [64]


def test_events_fire_only_on_real_change(tiny_graph):
    events = []
    tiny_graph.events.connect_all(lambda name, payload: events.append((name, payload)))
    node_id = next(iter(tiny_graph.nodes))
    tiny_graph.set_param(node_id, "shape", [64])  # unchanged
    tiny_graph.move_node(node_id, (0, 0))  # unchanged
    assert events == []
    tiny_graph.set_param(node_id, "shape", [32])
    tiny_graph.move_node(node_id, (5, 6))
    assert events == [("param_changed", (node_id, "shape", [32], [64])), ("node_moved", (node_id, (5.0, 6.0)))]


def test_each_event_has_its_own_slots_with_a_typed_payload(tiny_graph):
    moved, added = [], []
    tiny_graph.events.node_moved.connect(lambda node_id, pos: moved.append((node_id, pos)))
    tiny_graph.events.node_added.connect(added.append)
    node_id = tiny_graph.add_node("relu")
    assert added == [node_id] and moved == []
    with pytest.raises(TypeError, match=r"node_moved carries \(str, tuple\), got \(str, list\)"):
        tiny_graph.events.node_moved.emit(node_id, [1, 2])  # a wrong emit fails where it is made
    assert moved == []
    assert Graph().events.node_added is not tiny_graph.events.node_added  # no shared slots across graphs


def test_remove_node_removes_its_edges_and_emits(tiny_graph):
    events = []
    tiny_graph.events.connect_all(lambda name, payload: events.append(name))
    linear = list(tiny_graph.nodes)[1]
    tiny_graph.remove_node(linear)
    assert all(linear not in (e.src, e.dst) for e in tiny_graph.edges)
    assert events == ["edge_removed", "edge_removed", "node_removed"]


def test_disconnect_stops_events(tiny_graph):
    events = []
    disconnect = tiny_graph.events.connect_all(lambda name, payload: events.append(name))
    disconnect_one = tiny_graph.events.node_added.connect(events.append)
    disconnect()
    disconnect_one()
    tiny_graph.add_node("relu")
    assert events == []


def test_connect_refusals_give_the_reason():
    g = Graph()
    x, a, b = g.add_node("input", shape=[4]), g.add_node("linear"), g.add_node("linear")
    s = g.add_node("add")
    g.connect(x, a)
    g.connect(a, b)
    assert "takes no input" in g.check_connect(a, x)
    assert "cycle" in g.check_connect(b, b)
    g.connect(b, s)
    g.connect(a, s)
    c = g.add_node("concat")
    g.connect(s, c)
    assert "would create a cycle" in g.check_connect(c, s)
    assert "already connected to" in g.check_connect(a, s)
    assert "already connected; disconnect it first" in g.check_connect(g.add_node("linear"), a)
    assert "no output port" in g.check_connect(x, a, src_port="bogus")
    assert "no input port" in g.check_connect(x, c, dst_port="bogus")
    assert not g.can_connect(c, s)
    with pytest.raises(ConnectError, match="cycle"):
        g.connect(c, s)


def test_multi_input_ports_keep_connection_order():
    g = Graph()
    a, b, c = (g.add_node("linear") for _ in range(3))
    cat = g.add_node("concat")
    for src in (c, a, b):
        g.connect(src, cat)
    assert [e.src for e in g.in_edges(cat)] == [c, a, b]


def test_topological_order_and_cycle_detection(tiny_graph):
    order = tiny_graph.topological_order()
    assert order == list(tiny_graph.nodes)
    assert not tiny_graph.has_cycle()


def test_to_dict_round_trips_exactly_through_json(tiny_graph):
    gid = tiny_graph.add_group("encoder")
    tiny_graph.set_group(list(tiny_graph.nodes)[1], gid)
    data = tiny_graph.to_dict()
    again = Graph.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(data, sort_keys=True)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["nodes"][0].update(kind="warp_drive"), "unknown module kind 'warp_drive'"),
        (lambda d: d["edges"][0].update(dst="ffff"), "missing node ffff"),
        (lambda d: d["nodes"][1]["params"].update(out_features="x"), "out_features must be a whole number"),
        (lambda d: d["nodes"][1].update(pos=[1]), "pos must be two numbers"),
        (lambda d: d["nodes"][1].update(group="nope"), "unknown group"),
        (lambda d: d["edges"][0].update(dst_port="side"), "no input port 'side'"),
        (lambda d: d.update(extra=1), "unknown graph fields: extra"),
        (lambda d: d.update(nodes={}), "'nodes' must be a list"),
        (lambda d: d["nodes"].append(dict(d["nodes"][0])), "already exists"),
    ],
)
def test_from_dict_refuses_bad_data_with_a_clear_message(tiny_graph, mutate, message):
    data = json.loads(json.dumps(tiny_graph.to_dict()))
    mutate(data)
    with pytest.raises(GraphError, match=message):
        Graph.from_dict(data)


def test_from_dict_refuses_non_objects():
    with pytest.raises(GraphError):
        Graph.from_dict([1, 2])
    with pytest.raises(GraphError):
        Graph.from_dict({"nodes": [7]})


def test_subgraph_dict_keeps_inner_edges_only(tiny_graph):
    ids = list(tiny_graph.nodes)[1:3]
    fragment = tiny_graph.subgraph_dict(ids)
    assert [n["id"] for n in fragment["nodes"]] == ids
    assert len(fragment["edges"]) == 1


def test_layout_is_layered_left_to_right():
    g = Graph()
    x = g.add_node("input", shape=[8])
    a, b = g.add_node("linear"), g.add_node("linear")
    s = g.add_node("add")
    head = g.add_node("head", classes=2)
    for src, dst in ((x, a), (x, b), (a, s), (b, s), (s, head)):
        g.connect(src, dst)
    pos = g.layout()
    assert pos[x][0] < pos[a][0] == pos[b][0] < pos[s][0] < pos[head][0]
    assert pos[a][1] != pos[b][1]
    assert pos[s][1] == pos[x][1] == 0.0


def test_layout_survives_cycles():
    g = Graph()
    a, b = g.add_node("linear"), g.add_node("linear")
    g.insert_edge(__import__("modstudio.graph", fromlist=["Edge"]).Edge(a, b))
    g.insert_edge(__import__("modstudio.graph", fromlist=["Edge"]).Edge(b, a))
    assert set(g.layout()) == {a, b}
