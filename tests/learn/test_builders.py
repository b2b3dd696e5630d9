"""Every catalog kind's torch module agrees with the catalog's declarative rules.

The project file validates weights against ``tensor_shapes``/``buffer_shapes`` and the canvas
shows ``output_shape``/``param_count``; these tests keep torch and the catalog in step.
"""

import pytest
import torch
from torch import nn

from modstudio.graph import catalog
from modstudio.learn.builders import BUILDERS, Add, Concat, build_module

BATCH = 4

# kind → list of (param overrides, in_shapes); every catalog kind needs at least one case.
CASES: dict[str, list[tuple[dict, list[tuple[int, ...]]]]] = {
    "input": [({"shape": [5]}, []), ({"shape": [1, 8, 8]}, [])],
    "head": [({"classes": 3}, [(7,)])],
    "linear": [({}, [(6,)]), ({"out_features": 3, "bias": False}, [(6,)]), ({"out_features": 2}, [(3, 6)])],
    "conv1d": [({}, [(2, 10)]), ({"out_channels": 3, "kernel_size": 4, "stride": 2, "padding": 1, "bias": False}, [(2, 11)])],
    "conv2d": [({}, [(3, 8, 8)]), ({"out_channels": 5, "kernel_size": 2, "stride": 3, "padding": 2, "bias": False}, [(1, 7, 9)])],
    "maxpool1d": [({}, [(3, 9)]), ({"kernel_size": 3, "stride": 1}, [(2, 6)])],
    "maxpool2d": [({}, [(3, 9, 8)]), ({"kernel_size": 3, "stride": 2}, [(2, 7, 7)])],
    "avgpool1d": [({}, [(3, 9)]), ({"kernel_size": 3, "stride": 1}, [(2, 6)])],
    "avgpool2d": [({}, [(3, 9, 8)]), ({"kernel_size": 3, "stride": 2}, [(2, 7, 7)])],
    "global_avg_pool": [({}, [(3, 5)]), ({}, [(4, 3, 3)]), ({}, [(2, 2, 3, 3)])],
    "flatten": [({}, [(5,)]), ({}, [(2, 3, 4)])],
    "relu": [({}, [(5,)]), ({}, [(2, 3, 3)])],
    "gelu": [({}, [(5,)])],
    "silu": [({}, [(5,)])],
    "tanh": [({}, [(5,)])],
    "sigmoid": [({}, [(5,)])],
    "leaky_relu": [({}, [(5,)]), ({"negative_slope": 0.2}, [(2, 6)])],
    "dropout": [({}, [(5,)]), ({"p": 0.0}, [(2, 3, 3)])],
    "batchnorm1d": [({}, [(5,)]), ({}, [(3, 7)])],
    "batchnorm2d": [({}, [(3, 4, 4)])],
    "layernorm": [({}, [(5,)]), ({}, [(3, 6)])],
    "add": [({}, [(4,), (4,)]), ({}, [(2, 3), (2, 3), (2, 3)])],
    "concat": [({}, [(2,), (3,)]), ({"dim": 1}, [(2, 3), (2, 5)]), ({"dim": 0}, [(1, 4, 4), (3, 4, 4)])],
    "mlp_block": [
        ({}, [(6,)]),
        ({"hidden": [8, 4], "norm": "batch", "activation": "gelu", "dropout": 0.25}, [(6,)]),
        ({"hidden": [5], "norm": "layer", "activation": "leaky_relu"}, [(3,)]),
    ],
    "conv_block": [
        ({}, [(1, 8, 8)]),
        ({"out_channels": 4, "norm": "none", "pool": "avg", "stride": 2, "padding": 0}, [(3, 9, 9)]),
        ({"out_channels": 3, "pool": "none", "activation": "tanh"}, [(2, 6, 6)]),
        ({"out_channels": 3, "kernel_size": 5, "pool_size": 3, "activation": "silu"}, [(2, 16)]),
    ],
    "residual_block": [
        ({"out_channels": 4}, [(4, 8, 8)]),  # identity skip
        ({"out_channels": 6, "stride": 2}, [(3, 7, 9)]),  # projection: channels and an odd size halved
        ({"out_channels": 3, "stride": 2, "norm": "none", "activation": "gelu"}, [(3, 5, 5)]),  # stride only
        ({"out_channels": 5, "activation": "leaky_relu"}, [(2, 11)]),  # 1-D
        ({"out_channels": 2, "stride": 2}, [(2, 1, 1)]),
    ],
}


def _params(spec: catalog.KindSpec, overrides: dict) -> dict:
    params = spec.default_params()
    params.update({name: spec.param(name).coerce(value) for name, value in overrides.items()})
    return params


def _cases(composite_only: bool = False):
    for kind, cases in CASES.items():
        if composite_only and catalog.get(kind).expand is None:
            continue
        for index, (overrides, shapes) in enumerate(cases):
            yield pytest.param(kind, overrides, shapes, id=f"{kind}-{index}")


def _inputs(spec: catalog.KindSpec, params: dict, shapes: list) -> list[torch.Tensor]:
    if spec.role == "input":
        shapes = [tuple(params["shape"])]
    return [torch.randn(BATCH, *shape) for shape in shapes]


def _run(module: nn.Module, spec: catalog.KindSpec, xs: list[torch.Tensor]) -> torch.Tensor:
    return module(xs) if spec.inputs and spec.inputs[0].multi else module(xs[0])


def test_every_catalog_kind_has_a_builder_and_a_test_case():
    kinds = {spec.kind for spec in catalog.specs()}
    assert kinds - set(BUILDERS) == set(), "catalog kinds without a torch builder"
    assert kinds - set(CASES) == set(), "catalog kinds without a builder test case"


def test_unknown_kind_is_a_clear_key_error():
    with pytest.raises(KeyError, match="no torch builder"):
        build_module("no_such_kind", {}, [(3,)])


@pytest.mark.parametrize(("kind", "overrides", "shapes"), _cases())
def test_module_matches_catalog(kind, overrides, shapes):
    torch.manual_seed(0)
    spec = catalog.get(kind)
    params = _params(spec, overrides)
    module = build_module(kind, params, shapes)

    parameters = {name: tuple(p.shape) for name, p in module.named_parameters()}
    buffers = {name: tuple(b.shape) for name, b in module.named_buffers()}
    assert parameters == spec.tensor_shapes(params, shapes)
    assert buffers == spec.buffer_shapes(params, shapes)
    assert sum(p.numel() for p in module.parameters()) == spec.param_count(params, shapes)

    expected = (BATCH, *spec.output_shape(params, shapes))
    xs = _inputs(spec, params, shapes)
    for training in (True, False):
        module.train(training)
        assert tuple(_run(module, spec, xs).shape) == expected


@pytest.mark.parametrize(("kind", "overrides", "shapes"), _cases(composite_only=True))
def test_composites_reuse_primitive_builders(kind, overrides, shapes):
    spec = catalog.get(kind)
    params = _params(spec, overrides)
    module = build_module(kind, params, shapes)
    expected, shape = [], shapes[0]
    for sub_kind, sub_params in spec.expand(params, shapes):
        expected.append(build_module(sub_kind, sub_params, [shape]))
        shape = catalog.get(sub_kind).output_shape(sub_params, [shape])
    assert isinstance(module, nn.Sequential)
    assert [repr(m) for m in module] == [repr(m) for m in expected]


def test_conv_block_bias_only_without_norm():
    with_norm = build_module("conv_block", _params(catalog.get("conv_block"), {}), [(1, 8, 8)])
    assert with_norm[0].bias is None and isinstance(with_norm[1], nn.BatchNorm2d)
    plain = build_module("conv_block", _params(catalog.get("conv_block"), {"norm": "none"}), [(1, 8, 8)])
    assert plain[0].bias is not None


def test_residual_block_adds_the_skip_to_the_body_then_activates():
    spec = catalog.get("residual_block")
    same = build_module("residual_block", _params(spec, {"out_channels": 4}), [(4, 6, 6)]).eval()
    assert isinstance(same.skip, nn.Identity)
    assert [type(m) for m in same.body] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d]
    assert all(m.bias is None for m in same.body if isinstance(m, nn.Conv2d))
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(same(x), torch.relu(same.body(x) + x))

    projected = build_module("residual_block", _params(spec, {"out_channels": 8, "stride": 2, "norm": "none"}),
                             [(4, 7, 7)]).eval()
    conv = projected.skip[0]
    assert (conv.kernel_size, conv.stride, conv.in_channels, conv.out_channels) == ((1, 1), (2, 2), 4, 8)
    assert conv.bias is not None and len(projected.skip) == 1  # no norm: the convolutions keep their bias
    x = torch.randn(2, 4, 7, 7)
    torch.testing.assert_close(projected(x), torch.relu(projected.body(x) + conv(x)))
    assert spec.output_shape(_params(spec, {"out_channels": 8, "stride": 2}), [(4, 7, 7)]) == (8, 4, 4)


def test_residual_block_refuses_flat_input_and_strides_beyond_two():
    spec = catalog.get("residual_block")
    with pytest.raises(catalog.ShapeError, match="residual block expects channels×length or channels×height×width"):
        spec.output_shape(spec.default_params(), [(64,)])
    assert spec.param("stride").range_error(3) == "stride = 3 is above the maximum 2"


def test_pool_stride_zero_means_window_size():
    pool = build_module("maxpool2d", {"kernel_size": 3, "stride": 0}, [(1, 9, 9)])
    assert pool.stride == 3
    assert tuple(pool(torch.randn(1, 1, 9, 9)).shape) == (1, 1, 3, 3)


def test_leaky_relu_uses_its_slope():
    act = build_module("leaky_relu", {"negative_slope": 0.2}, [(1,)])
    assert act(torch.tensor([[-1.0]])).item() == pytest.approx(-0.2)


def test_global_avg_pool_is_the_channel_mean():
    x = torch.randn(2, 3, 4, 5)
    out = build_module("global_avg_pool", {}, [(3, 4, 5)])(x)
    torch.testing.assert_close(out, x.mean(dim=(2, 3)))


def test_merge_modules_sum_and_join_in_list_order():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    assert isinstance(build_module("add", {}, [(3, 4), (3, 4)]), Add)
    torch.testing.assert_close(build_module("add", {}, [(3, 4), (3, 4)])([a, a, a]), 3 * a)
    concat = build_module("concat", {"dim": 0}, [(3, 4), (5, 4)])
    assert isinstance(concat, Concat)
    torch.testing.assert_close(concat([a, b]), torch.cat([a, b], dim=1))
    torch.testing.assert_close(concat([b, a]), torch.cat([b, a], dim=1))
