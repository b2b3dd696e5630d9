"""Undoable edits: do → undo → compare → redo, by hand and for generated edit sequences."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modstudio.graph import (
    AddNode,
    AutoLayout,
    CommandStack,
    Connect,
    ConnectError,
    Disconnect,
    Graph,
    GroupNodes,
    MoveNodes,
    PasteSubgraph,
    RemoveNodes,
    RenameNode,
    SetParam,
    Ungroup,
)
from modstudio.graph.commands import Macro


def snapshot(g):
    return json.dumps(g.to_dict(), sort_keys=True)


def test_remove_then_undo_restores_node_order_and_edges(tiny_graph):
    stack = CommandStack(tiny_graph)
    before = snapshot(tiny_graph)
    ids = list(tiny_graph.nodes)
    stack.push(RemoveNodes([ids[2], ids[1]]))
    assert len(tiny_graph.nodes) == 2 and tiny_graph.edges == []
    stack.undo()
    assert snapshot(tiny_graph) == before
    stack.redo()
    assert len(tiny_graph.nodes) == 2


def test_add_connect_undo_redo_keeps_ids():
    g = Graph()
    stack = CommandStack(g)
    add = stack.push(AddNode("linear", pos=(10, 20), out_features=3))
    add2 = stack.push(AddNode("relu"))
    stack.push(Connect(add.node_id, add2.node_id))
    final = snapshot(g)
    for _ in range(3):
        stack.undo()
    assert g.nodes == {}
    for _ in range(3):
        stack.redo()
    assert snapshot(g) == final


def test_refused_connect_is_not_recorded(tiny_graph):
    stack = CommandStack(tiny_graph)
    ids = list(tiny_graph.nodes)
    with pytest.raises(ConnectError, match="cycle"):
        stack.push(Connect(ids[3], ids[1]))
    assert len(stack) == 0 and stack.is_clean


def test_consecutive_moves_merge_into_one_step(tiny_graph):
    stack = CommandStack(tiny_graph)
    node = list(tiny_graph.nodes)[1]
    for x in range(5):
        stack.push(MoveNodes({node: (x, x)}))
    assert len(stack) == 1
    stack.undo()
    assert tiny_graph.nodes[node].pos == (200.0, 0.0)
    other = list(tiny_graph.nodes)[2]
    stack.redo()
    stack.push(MoveNodes({other: (1, 1)}))
    assert len(stack) == 2


def test_moves_do_not_merge_across_the_clean_mark(tiny_graph):
    stack = CommandStack(tiny_graph)
    node = list(tiny_graph.nodes)[1]
    stack.push(MoveNodes({node: (1, 1)}))
    stack.set_clean()
    stack.push(MoveNodes({node: (2, 2)}))
    assert len(stack) == 2 and not stack.is_clean
    stack.undo()
    assert stack.is_clean


def test_clean_mark_follows_undo_and_redo(tiny_graph):
    stack = CommandStack(tiny_graph)
    changes = []
    stack.subscribe(lambda: changes.append(stack.is_clean))
    node = list(tiny_graph.nodes)[1]
    stack.push(SetParam(node, "out_features", 8))
    assert not stack.is_clean
    stack.undo()
    assert stack.is_clean
    stack.redo()
    stack.set_clean()
    assert stack.is_clean and changes[-1] is True
    assert stack.undo_text == "set out_features" and stack.redo_text == ""


def test_pushing_after_undo_drops_the_redo_tail_and_a_lost_clean_state(tiny_graph):
    stack = CommandStack(tiny_graph)
    node = list(tiny_graph.nodes)[1]
    stack.push(SetParam(node, "out_features", 8))
    stack.set_clean()
    stack.undo()
    stack.push(SetParam(node, "out_features", 9))
    assert not stack.can_redo
    assert not stack.is_clean
    stack.undo()
    assert not stack.is_clean  # the saved state (8) is gone for good


def test_group_and_ungroup_round_trip(tiny_graph):
    stack = CommandStack(tiny_graph)
    before = snapshot(tiny_graph)
    ids = list(tiny_graph.nodes)[1:3]
    group = stack.push(GroupNodes(ids, "encoder"))
    assert all(tiny_graph.nodes[i].group == group.group_id for i in ids)
    assert tiny_graph.groups[group.group_id] == "encoder"
    grouped = snapshot(tiny_graph)
    stack.push(Ungroup(group.group_id))
    assert tiny_graph.groups == {}
    stack.undo()
    assert snapshot(tiny_graph) == grouped
    stack.undo()
    assert snapshot(tiny_graph) == before


def test_paste_gets_fresh_ids_names_and_inner_edges_only(tiny_graph):
    stack = CommandStack(tiny_graph)
    ids = list(tiny_graph.nodes)[1:3]
    group = stack.push(GroupNodes(ids, "block"))
    fragment = tiny_graph.subgraph_dict(ids)
    paste = stack.push(PasteSubgraph(json.loads(json.dumps(fragment))))
    assert len(tiny_graph.nodes) == 6
    assert not set(paste.node_ids) & set(ids)
    pasted = [tiny_graph.nodes[i] for i in paste.node_ids]
    assert [n.name for n in pasted] == ["Linear 1 copy", "ReLU 1 copy"]
    assert pasted[0].pos == (240.0, 40.0)
    assert pasted[0].group != group.group_id and pasted[0].group in tiny_graph.groups
    assert len(tiny_graph.edges) == 4
    stack.undo()
    assert len(tiny_graph.nodes) == 4 and len(tiny_graph.groups) == 1


def test_paste_refuses_a_bad_clipboard():
    with pytest.raises(ValueError, match="unknown module kind"):
        PasteSubgraph({"nodes": [{"id": "a", "kind": "nope", "name": "x", "params": {}, "pos": [0, 0], "group": None}]})


def test_auto_layout_is_one_undoable_step(tiny_graph):
    stack = CommandStack(tiny_graph)
    before = snapshot(tiny_graph)
    stack.push(AutoLayout(tiny_graph))
    assert [n.pos[0] for n in tiny_graph.nodes.values()] == [0.0, 240.0, 480.0, 720.0]
    stack.undo()
    assert snapshot(tiny_graph) == before


def test_macro_rolls_back_when_a_step_fails(tiny_graph):
    stack = CommandStack(tiny_graph)
    before = snapshot(tiny_graph)
    ids = list(tiny_graph.nodes)
    with pytest.raises(ConnectError):
        stack.push(Macro([SetParam(ids[1], "out_features", 3), Connect(ids[3], ids[0])], "bad"))
    assert snapshot(tiny_graph) == before and len(stack) == 0


# ---------------------------------------------------------------------- generated edit sequences

KINDS = ["linear", "relu", "add", "concat", "dropout", "conv2d", "head", "input", "mlp_block"]


@st.composite
def edit_sequences(draw):
    return draw(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 10**6), st.integers(0, 10**6)), max_size=25))


def make_command(g, op, a, b):
    """Turn drawn integers into a command valid for the current graph, or None."""
    ids = list(g.nodes)
    pick = (lambda k: ids[k % len(ids)]) if ids else None
    if op == 0 or not ids:
        return AddNode(KINDS[a % len(KINDS)], pos=(a % 500, b % 500))
    if op == 1:
        return RemoveNodes({pick(a), pick(b)})
    if op == 2:
        src, dst = pick(a), pick(b)
        return Connect(src, dst) if g.can_connect(src, dst) else None
    if op == 3:
        return Disconnect(g.edges[a % len(g.edges)]) if g.edges else None
    if op == 4:
        return MoveNodes({pick(a): (a % 97, b % 89)})
    if op == 5:
        node = g.nodes[pick(a)]
        if not node.spec.params:
            return None
        spec = node.spec.params[b % len(node.spec.params)]
        value = {"int": 1 + b % 9, "float": (b % 9) / 10, "bool": bool(b % 2), "shape": [1 + b % 5],
                 "ints": [1 + b % 7, 2], "choice": spec.choices[b % len(spec.choices)] if spec.choices else None}[spec.type]
        return SetParam(node.id, spec.name, value)
    if op == 6:
        return GroupNodes({pick(a), pick(b)}, f"g{a % 7}")
    if op == 7:
        return Ungroup(list(g.groups)[a % len(g.groups)]) if g.groups else RenameNode(pick(a), f"n{b}")
    return PasteSubgraph(g.subgraph_dict({pick(a), pick(b)}), offset=(5, 5))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_sequences())
def test_undo_all_restores_the_original_and_redo_all_the_final(edits):
    g = Graph()
    x = g.add_node("input", shape=[8])
    h = g.add_node("head", classes=3)
    g.connect(x, h)
    stack = CommandStack(g)
    original = snapshot(g)
    for op, a, b in edits:
        command = make_command(g, op, a, b)
        if command is not None:
            stack.push(command)
        g.check()  # checking never raises, whatever the edits made
    final = snapshot(g)
    while stack.can_undo:
        stack.undo()
    assert snapshot(g) == original
    while stack.can_redo:
        stack.redo()
    assert snapshot(g) == final
