"""One torch builder per catalog kind: ``(params, in_shapes) → nn.Module``.

The catalog says what a kind is (shapes, tensor names); a builder only says which torch layer
does it. Composite kinds get no logic of their own here: their ``expand`` gives primitive layers,
built by the primitive builders into an ``nn.Sequential``, so torch names their tensors
``"<index>.<name>"`` exactly as the catalog's ``tensor_shapes`` does. The residual block, not a
sequence, is such sequences (``body``, ``skip``) joined by :class:`ResidualBlock`'s sum.
Shapes never include the batch; torch dims are therefore one more than catalog dims.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from modstudio.graph import catalog
from modstudio.graph.catalog import Params, Shape

Builder = Callable[[Params, list[Shape]], nn.Module]


class Add(nn.Module):
    """Sum of all inputs (residual connections); the inputs come as a list, in edge order."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    """Join the inputs along ``dim`` (batch-free, as in the catalog), in edge order."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim + 1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GlobalAvgPool(nn.Module):
    """Mean of every channel over all spatial positions, C×… → C, for any number of spatial axes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).mean(dim=2)


class ResidualBlock(nn.Module):
    """``act(body(x) + skip(x))``: the catalog's residual block; ``skip`` is ``nn.Identity`` when the
    shapes match. Its parts are sequences of primitive layers, named ``body.<i>``/``skip.<i>``."""

    def __init__(self, body: nn.Module, skip: nn.Module, act: nn.Module) -> None:
        super().__init__()
        self.body, self.skip, self.act = body, skip, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


def _spatial_dims(kind: str) -> int:
    return int(kind[-2])  # conv1d, maxpool2d, batchnorm1d, …


def _linear(params: Params, shapes: list[Shape]) -> nn.Module:
    return nn.Linear(shapes[0][-1], params["out_features"], bias=params["bias"])


def _head(params: Params, shapes: list[Shape]) -> nn.Module:
    return nn.Linear(shapes[0][0], params["classes"])


def _conv(kind: str) -> Builder:
    layer = {1: nn.Conv1d, 2: nn.Conv2d}[_spatial_dims(kind)]

    def build(params: Params, shapes: list[Shape]) -> nn.Module:
        return layer(
            shapes[0][0], params["out_channels"], params["kernel_size"],
            stride=params["stride"], padding=params["padding"], bias=params["bias"],
        )

    return build


def _pool(kind: str) -> Builder:
    ops = {"max": (nn.MaxPool1d, nn.MaxPool2d), "avg": (nn.AvgPool1d, nn.AvgPool2d)}
    layer = ops[kind[:3]][_spatial_dims(kind) - 1]

    def build(params: Params, shapes: list[Shape]) -> nn.Module:
        kernel = params["kernel_size"]
        return layer(kernel, stride=params["stride"] or kernel)  # stride 0 means "the window size"

    return build


def _batchnorm(kind: str) -> Builder:
    layer = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}[_spatial_dims(kind)]
    return lambda params, shapes: layer(shapes[0][0])


def _stateless(factory: Callable[[], nn.Module]) -> Builder:
    return lambda params, shapes: factory()


BUILDERS: dict[str, Builder] = {
    "input": _stateless(nn.Identity),
    "head": _head,
    "linear": _linear,
    "conv1d": _conv("conv1d"),
    "conv2d": _conv("conv2d"),
    "maxpool1d": _pool("maxpool1d"),
    "maxpool2d": _pool("maxpool2d"),
    "avgpool1d": _pool("avgpool1d"),
    "avgpool2d": _pool("avgpool2d"),
    "global_avg_pool": _stateless(GlobalAvgPool),
    "flatten": _stateless(lambda: nn.Flatten(start_dim=1)),
    "relu": _stateless(nn.ReLU),
    "gelu": _stateless(nn.GELU),
    "silu": _stateless(nn.SiLU),
    "tanh": _stateless(nn.Tanh),
    "sigmoid": _stateless(nn.Sigmoid),
    "leaky_relu": lambda params, shapes: nn.LeakyReLU(params["negative_slope"]),
    "dropout": lambda params, shapes: nn.Dropout(params["p"]),
    "batchnorm1d": _batchnorm("batchnorm1d"),
    "batchnorm2d": _batchnorm("batchnorm2d"),
    "layernorm": lambda params, shapes: nn.LayerNorm(shapes[0][-1]),
    "add": _stateless(Add),
    "concat": lambda params, shapes: Concat(params["dim"]),
}


def _sequence(layers: catalog.Expansion, shape: Shape) -> nn.Sequential:
    """Primitive ``layers`` in sequence, built by their own builders, shapes threaded by the catalog."""
    modules = []
    for sub_kind, sub_params in layers:
        modules.append(build_module(sub_kind, sub_params, [shape]))
        shape = catalog.get(sub_kind).output_shape(sub_params, [shape])
    return nn.Sequential(*modules)


def _expanded(kind: str) -> Builder:
    """A composite kind: its primitive layers in sequence."""
    return lambda params, shapes: _sequence(catalog.get(kind).expand(params, shapes), shapes[0])


def _residual(params: Params, shapes: list[Shape]) -> nn.Module:
    body, skip, (act_kind, act_params) = catalog.residual_parts(params, shapes)
    return ResidualBlock(_sequence(body, shapes[0]), _sequence(skip, shapes[0]) if skip else nn.Identity(),
                         build_module(act_kind, act_params, [catalog.layers_shape(body, shapes[0])]))


BUILDERS["mlp_block"] = _expanded("mlp_block")
BUILDERS["conv_block"] = _expanded("conv_block")
BUILDERS["residual_block"] = _residual


def build_module(kind: str, params: Params, in_shapes: list[Shape]) -> nn.Module:
    """The torch module for one node; ``params`` are complete (defaults filled), shapes batch-free.

    KeyError if the kind has no builder (a catalog kind added without one).
    """
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise KeyError(f"module kind {kind!r} has no torch builder") from None
    return builder(params, [tuple(s) for s in in_shapes])
