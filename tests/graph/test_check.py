"""Live checking: shapes and counts per node, and each error kind on the node it is about."""

import pytest

from modstudio.graph import Edge, ErrorKind, Graph, catalog


def chain(*specs):
    """Build a chain graph from (kind, params) pairs; returns (graph, ids)."""
    g = Graph()
    ids = [g.add_node(kind, **params) for kind, params in specs]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    return g, ids


def test_valid_graph_reports_shapes_and_counts(tiny_graph):
    report = tiny_graph.check()
    assert report.ok, report.summary()
    shapes = [report.nodes[i].shape for i in tiny_graph.nodes]
    assert shapes == [(64,), (32,), (32,), (10,)]
    assert [report.nodes[i].param_count for i in tiny_graph.nodes] == [0, 64 * 32 + 32, 0, 32 * 10 + 10]
    assert report.total_params == 64 * 32 + 32 + 330
    assert report.output_shape == (10,)
    assert "2,410 parameters" in report.summary()


def test_input_shape_and_classes_come_from_the_task_when_unset():
    g, (x, _, head) = chain(("input", {}), ("linear", {"out_features": 5}), ("head", {}))
    bare = g.check()
    assert bare.error_for(x).kind is ErrorKind.BAD_PARAM
    assert "attach a task" in bare.error_for(x).message
    report = g.check(input_shape=(12,), classes=3)
    assert report.ok and report.nodes[head].shape == (3,)
    # A width the user set wins over the task's.
    g.set_param(head, "classes", 4)
    assert g.check(input_shape=(12,), classes=3).nodes[head].shape == (4,)


def test_shape_mismatch_names_both_shapes_on_the_right_node():
    g = Graph()
    x = g.add_node("input", shape=[8])
    a = g.add_node("linear", out_features=4)
    b = g.add_node("linear", out_features=6)
    s = g.add_node("add")
    head = g.add_node("head", classes=2)
    for src, dst in ((x, a), (x, b), (a, s), (b, s), (s, head)):
        g.connect(src, dst)
    report = g.check()
    error = report.error_for(s)
    assert error.kind is ErrorKind.SHAPE_MISMATCH
    assert "4" in error.message and "6" in error.message and "equal shapes" in error.message
    assert report.error_for(a) is None and report.error_for(head) is None  # no cascade of red badges
    assert report.nodes[head].shape is None


def test_conv_on_flat_input_is_a_shape_error():
    g, (_, conv, _) = chain(("input", {"shape": [64]}), ("conv2d", {}), ("head", {"classes": 2}))
    error = g.check().error_for(conv)
    assert error.kind is ErrorKind.SHAPE_MISMATCH
    assert "channels×height×width" in error.message and "64" in error.message


def test_kernel_too_large_is_reported():
    g, (_, conv, _, _) = chain(
        ("input", {"shape": [1, 4, 4]}), ("conv2d", {"kernel_size": 7}), ("flatten", {}), ("head", {"classes": 2})
    )
    assert "does not fit" in g.check().error_for(conv).message


def test_param_out_of_range_is_bad_param():
    g, (_, drop, _) = chain(("input", {"shape": [4]}), ("dropout", {"p": 1.5}), ("head", {"classes": 2}))
    error = g.check().error_for(drop)
    assert error.kind is ErrorKind.BAD_PARAM
    assert "above the maximum" in error.message


def test_missing_and_extra_inputs():
    g = Graph()
    x = g.add_node("input", shape=[4])
    lin = g.add_node("linear")
    s = g.add_node("add")
    head = g.add_node("head", classes=2)
    g.connect(x, s)
    g.connect(s, lin)
    g.connect(lin, head)
    report = g.check()
    assert report.error_for(s).kind is ErrorKind.MISSING_INPUT
    assert "at least 2 inputs (1 connected)" in report.error_for(s).message
    # An extra input can only come from a loaded file; the check must still say so.
    other = g.add_node("linear")
    g.connect(x, other)
    g.insert_edge(Edge(other, lin))
    assert g.check().error_for(lin).kind is ErrorKind.EXTRA_INPUT


def test_graph_level_errors_without_input_or_head():
    g = Graph()
    g.add_node("linear")
    kinds = {e.kind for e in g.check().graph_errors()}
    assert kinds == {ErrorKind.NO_INPUT_NODE, ErrorKind.NO_HEAD}


def test_unreachable_nodes():
    g, (x, lin, head) = chain(("input", {"shape": [4]}), ("linear", {}), ("head", {"classes": 2}))
    island = g.add_node("relu")
    dead_end = g.add_node("tanh")
    g.connect(lin, dead_end)
    report = g.check()
    assert report.error_for(island).kind is ErrorKind.UNREACHABLE
    assert "not connected to the input" in report.error_for(island).message
    assert report.error_for(dead_end).kind is ErrorKind.UNREACHABLE
    assert "does not reach the task head" in report.error_for(dead_end).message
    assert report.error_for(lin) is None


def test_cycle_is_reported_on_its_nodes_without_raising():
    g, (x, a, b, head) = chain(("input", {"shape": [4]}), ("linear", {"out_features": 4}), ("add", {}), ("head", {"classes": 2}))
    g.insert_edge(Edge(b, a))  # only a loaded file can do this: connect() refuses it
    report = g.check()
    assert report.error_for(a).kind is ErrorKind.CYCLE
    assert report.error_for(b).kind is ErrorKind.CYCLE
    assert "cycle" in report.error_for(a).message
    assert not report.ok


def test_multiple_inputs_and_heads():
    g, (x, _, head) = chain(("input", {"shape": [4]}), ("linear", {}), ("head", {"classes": 2}))
    x2 = g.add_node("input", shape=[4])
    h2 = g.add_node("head", classes=2)
    report = g.check()
    assert report.error_for(x2).kind is ErrorKind.MULTIPLE_INPUTS
    assert report.error_for(h2).kind is ErrorKind.MULTIPLE_HEADS
    assert report.error_for(x) is None


def test_unknown_kind_is_an_error_not_an_exception(tiny_graph):
    node = next(iter(tiny_graph.nodes.values()))
    node.kind = "teleporter"
    report = tiny_graph.check()
    assert report.error_for(node.id).kind is ErrorKind.UNKNOWN_KIND


def test_head_needs_flat_input():
    g, (_, _, head) = chain(("input", {"shape": [2, 4]}), ("linear", {}), ("head", {"classes": 3}))
    error = g.check().error_for(head)
    assert error.kind is ErrorKind.SHAPE_MISMATCH and "flat" in error.message


def test_concat_shapes():
    g = Graph()
    x = g.add_node("input", shape=[3, 10])
    a = g.add_node("conv1d", out_channels=4, kernel_size=3, padding=1)
    b = g.add_node("conv1d", out_channels=5, kernel_size=3, padding=1)
    c = g.add_node("concat")
    for src, dst in ((x, a), (x, b), (a, c), (b, c)):
        g.connect(src, dst)
    assert g.check().nodes[c].shape == (9, 10)
    g.set_param(c, "dim", 1)
    error = g.check().error_for(c)
    assert error.kind is ErrorKind.SHAPE_MISMATCH
    assert "other axes equal" in error.message and "4×10" in error.message and "5×10" in error.message


def test_every_kind_has_a_doc_category_and_valid_defaults():
    for spec in catalog.specs():
        assert spec.doc and spec.category and spec.title
        for p in spec.params:
            assert p.type in catalog.PARAM_TYPES
            assert p.coerce(p.default) is not None
        assert spec.role in ("input", "head", "layer")


@pytest.mark.parametrize("kind", ["mlp_block", "conv_block"])
def test_composite_blocks_expand_into_primitives(kind):
    spec = catalog.get(kind)
    shape = (64,) if kind == "mlp_block" else (1, 8, 8)
    layers = spec.expand(spec.default_params(), [shape])
    assert layers and all(catalog.get(k).expand is None for k, _ in layers)
    assert spec.param_count(spec.default_params(), [shape]) == sum(
        catalog.get(k).param_count(p, [s]) for (k, p), s in zip(layers, _shapes(layers, shape))
    )


def _shapes(layers, shape):
    shapes = []
    for kind, params in layers:
        shapes.append(shape)
        shape = catalog.get(kind).output_shape(params, [shape])
    return shapes
