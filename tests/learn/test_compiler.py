"""A compiled graph computes what the drawn graph means, with the parameters the check reports."""

import pytest
import torch
from torch import nn

from modstudio.graph import Graph
from modstudio.learn.compiler import CompileError, GraphNetwork, Step, compile_graph, effective_params, module_key


def _chain(*layers: tuple[str, dict], **input_params) -> tuple[Graph, list[str]]:
    g = Graph()
    ids = [g.add_node("input", **input_params)]
    for kind, params in layers:
        ids.append(g.add_node(kind, **params))
        g.connect(ids[-2], ids[-1])
    return g, ids


def _train_step(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """One SGD step; returns the loss before and after it."""
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        return loss.item(), nn.functional.cross_entropy(net(x), y).item()


def test_chain_matches_hand_written_sequential_forward_and_gradients():
    torch.manual_seed(0)
    g, ids = _chain(
        ("linear", {"out_features": 8}), ("relu", {}), ("linear", {"out_features": 5, "bias": False}),
        ("layernorm", {}), ("leaky_relu", {"negative_slope": 0.1}), ("head", {"classes": 3}),
        shape=(6,),
    )
    net = compile_graph(g)
    reference = nn.Sequential(
        nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5, bias=False), nn.LayerNorm(5), nn.LeakyReLU(0.1), nn.Linear(5, 3)
    )
    for layer, node_id in zip(reference, ids[1:]):
        layer.load_state_dict(net.node_module(node_id).state_dict())

    x = torch.randn(7, 6)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, expected = net(xa), reference(xb)
    assert torch.equal(out, expected)
    out.square().sum().backward()
    expected.square().sum().backward()
    assert torch.equal(xa.grad, xb.grad)
    for layer, node_id in zip(reference, ids[1:]):
        compiled = dict(net.node_module(node_id).named_parameters())
        for name, p in layer.named_parameters():
            assert torch.equal(compiled[name].grad, p.grad), (node_id, name)


def test_network_parameters_match_the_check_per_node():
    g, ids = _chain(("mlp_block", {"hidden": [8, 4], "norm": "batch"}), ("head", {}), shape=())
    net = compile_graph(g, input_shape=(6,), classes=4)
    report = net.report
    assert net.parameter_count() == report.total_params
    for node_id in ids:
        module = net.node_module(node_id)
        assert sum(p.numel() for p in module.parameters()) == report.nodes[node_id].param_count
        spec, params = g.nodes[node_id].spec, effective_params(g, report, node_id)
        in_shapes = report.nodes[node_id].in_shapes
        assert {n: tuple(p.shape) for n, p in module.named_parameters()} == spec.tensor_shapes(params, in_shapes)
        assert {n: tuple(b.shape) for n, b in module.named_buffers()} == spec.buffer_shapes(params, in_shapes)
    assert tuple(net(torch.randn(5, 6)).shape) == (5, 4)


def test_task_values_fill_the_input_shape_and_head_width():
    g, ids = _chain(("linear", {"out_features": 3}), ("head", {}))
    net = compile_graph(g, input_shape=(10,), classes=7)
    assert effective_params(g, net.report, ids[0])["shape"] == [10]
    assert effective_params(g, net.report, ids[-1])["classes"] == 7
    assert tuple(net(torch.randn(2, 10)).shape) == (2, 7)
    assert g.nodes[ids[-1]].params["classes"] == 0  # compiling never edits the graph


def test_residual_graph_trains():
    torch.manual_seed(0)
    g = Graph()
    x = g.add_node("input", shape=(8,))
    l1 = g.add_node("linear", out_features=8)
    act = g.add_node("relu")
    l2 = g.add_node("linear", out_features=8)
    add = g.add_node("add")
    head = g.add_node("head", classes=3)
    for src, dst in ((x, l1), (l1, act), (act, l2), (l2, add), (x, add), (add, head)):
        g.connect(src, dst)
    net = compile_graph(g)
    assert net.plan[-2] == Step(add, [l2, x], True)

    data = torch.randn(16, 8)
    m = net.node_module
    expected = m(head)(data + m(l2)(torch.relu(m(l1)(data))))
    torch.testing.assert_close(net(data), expected)

    before = [p.detach().clone() for p in net.parameters()]
    loss_before, loss_after = _train_step(net, data, torch.randint(0, 3, (16,)))
    assert loss_after < loss_before
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_concat_follows_edge_order_and_trains():
    torch.manual_seed(0)
    g = Graph()
    x = g.add_node("input", shape=(4,))
    a = g.add_node("linear", out_features=3)
    b = g.add_node("linear", out_features=5)
    cat = g.add_node("concat")
    head = g.add_node("head", classes=2)
    g.connect(x, a)
    g.connect(x, b)
    g.connect(b, cat)  # b first: the edge order, not the node order, decides
    g.connect(a, cat)
    g.connect(cat, head)
    net = compile_graph(g)

    data = torch.randn(6, 4)
    m = net.node_module
    expected = m(head)(torch.cat([m(b)(data), m(a)(data)], dim=1))
    torch.testing.assert_close(net(data), expected)
    assert tuple(net(data).shape) == (6, 2)

    loss_before, loss_after = _train_step(net, data, torch.randint(0, 2, (6,)))
    assert loss_after < loss_before


@pytest.mark.parametrize("pool", ["global_avg_pool", "flatten"])
def test_image_graph_compiles_with_checked_parameter_count(pool):
    g, ids = _chain(
        ("conv_block", {"out_channels": 4}), ("conv2d", {"out_channels": 6, "padding": 1}), (pool, {}), ("head", {}),
        shape=(1, 8, 8),
    )
    net = compile_graph(g, classes=10)
    assert net.report.ok and net.parameter_count() == net.report.total_params
    out = net(torch.randn(3, 1, 8, 8))
    assert tuple(out.shape) == (3, 10)
    net.eval()
    assert tuple(net(torch.randn(1, 1, 8, 8)).shape) == (1, 10)


def test_invalid_graph_raises_compile_error_naming_the_problem():
    g, ids = _chain(("conv2d", {}), ("head", {"classes": 2}), shape=(16,))
    with pytest.raises(CompileError) as info:
        compile_graph(g)
    assert isinstance(info.value, ValueError)
    assert not info.value.report.ok
    assert "conv2d expects a channels×height×width input" in str(info.value)

    g, _ = _chain(("linear", {}), shape=(4,))
    with pytest.raises(CompileError, match="no task head"):
        compile_graph(g)
    g, _ = _chain(("head", {}), shape=(4,))
    with pytest.raises(CompileError, match="head width unknown"):
        compile_graph(g)


def test_module_keys_are_valid_and_distinct():
    assert module_key("ab12") == "nab12"
    odd = ["a.b", "", "612e62", "é"]
    keys = [module_key(i) for i in odd]
    assert len(set(keys)) == len(keys) and all(k.isidentifier() for k in keys)


def test_odd_node_ids_compile(tiny_graph):
    data = tiny_graph.to_dict()
    renames = {node["id"]: f"node.{i}" for i, node in enumerate(data["nodes"])}
    for node in data["nodes"]:
        node["id"] = renames[node["id"]]
    for edge in data["edges"]:
        edge["src"], edge["dst"] = renames[edge["src"]], renames[edge["dst"]]
    net = compile_graph(Graph.from_dict(data))
    assert tuple(net(torch.randn(2, 64)).shape) == (2, 10)
    with pytest.raises(KeyError):
        net.node_module("missing")


def test_state_dict_keys_follow_node_ids(tiny_graph):
    net = compile_graph(tiny_graph)
    linear = next(n.id for n in tiny_graph.nodes.values() if n.kind == "linear")
    assert f"layers.{module_key(linear)}.weight" in net.state_dict()
    assert isinstance(net, GraphNetwork) and net.plan[0].sources == []


def test_network_goes_through_torch_export():
    g, _ = _chain(("conv_block", {"out_channels": 2}), ("flatten", {}), ("head", {"classes": 3}), shape=(1, 6, 6))
    x = torch.randn(2, 1, 6, 6)
    net = compile_graph(g).eval()
    exported = torch.export.export(net, (x,))
    torch.testing.assert_close(exported.module()(x), net(x))


def test_resnet_style_body_compiles_with_the_checked_shapes_and_trains():
    """A stem, a block keeping its shape, one halving an odd size (7 → 4, as torch rounds) with a
    projection on its skip: the check's shapes and counts are what torch builds, and it learns."""
    torch.manual_seed(0)
    g, ids = _chain(
        ("conv_block", {"out_channels": 4, "pool": "none"}), ("residual_block", {"out_channels": 4}),
        ("residual_block", {"out_channels": 8, "stride": 2}), ("global_avg_pool", {}), ("head", {"classes": 3}),
        shape=(3, 7, 7),
    )
    net = compile_graph(g)
    report = net.report
    assert report.ok and net.parameter_count() == report.total_params
    assert report.nodes[ids[2]].shape == (4, 7, 7) and report.nodes[ids[3]].shape == (8, 4, 4)
    assert not any(name.startswith("skip.") for name, _ in net.node_module(ids[2]).named_parameters())
    assert "skip.0.weight" in dict(net.node_module(ids[3]).named_parameters())
    x, y = torch.randn(16, 3, 7, 7), torch.randint(0, 3, (16,))
    loss_before, loss_after = _train_step(net, x, y)
    assert loss_after < loss_before
    net.eval()
    exported = torch.export.export(net, (x,))
    torch.testing.assert_close(exported.module()(x), net(x))
