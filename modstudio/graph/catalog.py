"""The catalog of module kinds: one declarative spec per kind.

The palette, the inspector, the checker, the compiler and the file format all read these specs,
so adding a kind means adding one spec here (and its torch builder in ``modstudio.learn``).

Shapes never include the batch dimension: an 8×8 grey image is ``(1, 8, 8)``, a feature
vector ``(64,)``. A spec's ``tensors`` rule gives the names and shapes of its trainable
parameters (the parameter count is their sum), ``buffers`` the non-trainable state
(batch-norm statistics); both use the names torch gives them, which a test checks.
Composite blocks (MLP, conv block) ``expand`` into primitive layers, so their shapes, tensors
and torch modules all come from the primitives' rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

Shape = tuple[int, ...]
Params = dict[str, Any]
TensorShapes = dict[str, Shape]


class ShapeError(ValueError):
    """A node's inputs do not fit its kind; the message names the shapes."""


class UnsetParamError(ShapeError):
    """A value that normally comes from the task (input shape, head width) is not known yet."""


class ParamTypeError(ValueError):
    """A parameter value has the wrong type (a string for an int, …)."""


# --------------------------------------------------------------------------- params

PARAM_TYPES = ("int", "float", "bool", "choice", "shape", "ints", "str")
MAX_WHOLE = 2**63  # whole-number params beyond this are no size or count anything can have


@dataclass(frozen=True)
class ParamSpec:
    """A typed parameter with a default and either a range or a list of choices."""

    name: str
    type: str
    default: Any
    doc: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    title: str = ""  # the label forms show; the name, spaced, when empty

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ")

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in this parameter's canonical JSON type, or raise ParamTypeError."""
        t = self.type
        if t == "int":
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or (isinstance(value, float) and not math.isfinite(value)) or value != int(value)):
                raise ParamTypeError(f"{self.name} must be a whole number, not {value!r:.40}")
            if abs(value) > MAX_WHOLE:
                raise ParamTypeError(f"{self.name} must be a whole number within ±2**63, not {value!r:.40}")
            return int(value)
        if t == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParamTypeError(f"{self.name} must be a finite number, not {value!r}")
            return float(value)
        if t == "bool":
            if not isinstance(value, bool):
                raise ParamTypeError(f"{self.name} must be true or false, not {value!r}")
            return value
        if t == "choice":
            if value not in self.choices:
                options = ", ".join(map(str, self.choices))
                raise ParamTypeError(f"{self.name} must be one of {options}; got {value!r}")
            return value
        if t in ("shape", "ints"):
            if isinstance(value, str):
                value = [part for part in value.replace("×", ",").replace("x", ",").split(",") if part.strip()]
                try:
                    value = [int(part) for part in value]
                except ValueError:
                    raise ParamTypeError(f"{self.name} must be whole numbers separated by commas") from None
            if not isinstance(value, (list, tuple)) or any(
                isinstance(v, bool) or not isinstance(v, int) for v in value
            ):
                raise ParamTypeError(f"{self.name} must be a list of whole numbers, not {value!r:.80}")
            if any(abs(v) > MAX_WHOLE for v in value):
                raise ParamTypeError(f"{self.name} must be whole numbers within ±2**63, not {value!r:.80}")
            return [int(v) for v in value]
        if t == "str":
            if not isinstance(value, str):
                raise ParamTypeError(f"{self.name} must be text, not {value!r}")
            return value
        raise AssertionError(f"unknown param type {t}")  # pragma: no cover - specs are ours

    def range_error(self, value: Any) -> str | None:
        """A message if ``value`` (already coerced) is outside the allowed range, else None."""
        values = value if self.type in ("shape", "ints") else [value]
        if self.type == "ints" and not values:
            return f"{self.name} needs at least one value"
        for v in values:
            if self.min is not None and v < self.min:
                return f"{self.name} = {_fmt(value)} is below the minimum {_fmt(self.min)}"
            if self.max is not None and v > self.max:
                return f"{self.name} = {_fmt(value)} is above the maximum {_fmt(self.max)}"
        return None


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    if isinstance(value, list):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)


def fmt_shape(shape: Shape | None) -> str:
    """``(1, 8, 8)`` → ``1×8×8``; the notation the canvas and messages use."""
    if shape is None:
        return "?"
    return "×".join(map(str, shape)) if shape else "scalar"


# --------------------------------------------------------------------------- ports and kinds


@dataclass(frozen=True)
class PortSpec:
    """An input port; ``multi`` ports take several edges (in edge order) and need ``min_edges``."""

    name: str = "in"
    multi: bool = False
    min_edges: int = 1


ShapeRule = Callable[[Params, list[Shape]], Shape]
TensorRule = Callable[[Params, list[Shape]], TensorShapes]
Expansion = list[tuple[str, Params]]
ExpandRule = Callable[[Params, list[Shape]], Expansion]


def _no_tensors(params: Params, shapes: list[Shape]) -> TensorShapes:
    return {}


@dataclass(frozen=True)
class KindSpec:
    """Everything about one module kind that does not need torch."""

    kind: str
    title: str
    category: str
    doc: str
    params: tuple[ParamSpec, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec(),)
    outputs: tuple[str, ...] = ("out",)
    shape: ShapeRule | None = None
    tensors: TensorRule = _no_tensors
    buffers: TensorRule = _no_tensors
    expand: ExpandRule | None = None
    key_params: tuple[str, ...] = ()
    role: str = "layer"  # "input", "head" or "layer"
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.kind} has no parameter {name!r}")

    def default_params(self) -> Params:
        return {p.name: p.coerce(p.default) if p.type in ("shape", "ints") else p.default for p in self.params}

    def output_shape(self, params: Params, shapes: list[Shape]) -> Shape:
        if self.expand is not None:
            return layers_shape(self.expand(params, shapes), shapes[0])
        assert self.shape is not None, self.kind
        return tuple(self.shape(params, shapes))

    def tensor_shapes(self, params: Params, shapes: list[Shape]) -> TensorShapes:
        return self._expanded_state(params, shapes, "tensor_shapes", self.tensors)

    def buffer_shapes(self, params: Params, shapes: list[Shape]) -> TensorShapes:
        return self._expanded_state(params, shapes, "buffer_shapes", self.buffers)

    def param_count(self, params: Params, shapes: list[Shape]) -> int:
        return sum(math.prod(s) for s in self.tensor_shapes(params, shapes).values())

    def _expanded_state(self, params: Params, shapes: list[Shape], method: str, rule: TensorRule) -> TensorShapes:
        if self.expand is None:
            return {name: tuple(s) for name, s in rule(params, shapes).items()}
        return layers_state(self.expand(params, shapes), shapes[0], method)


def layers_shape(layers: Expansion, shape: Shape) -> Shape:
    """The output shape of primitive ``layers`` run in sequence on ``shape``."""
    for kind, sub in layers:
        shape = get(kind).output_shape(sub, [shape])
    return shape


def layers_state(layers: Expansion, shape: Shape, method: str, prefix: str = "") -> TensorShapes:
    """The tensors (``method="tensor_shapes"``) or buffers of ``layers`` in an ``nn.Sequential``,
    named as torch names them: ``"<prefix><index>.<name>"``."""
    result: TensorShapes = {}
    for index, (kind, sub) in enumerate(layers):
        spec = get(kind)
        for name, s in getattr(spec, method)(sub, [shape]).items():
            result[f"{prefix}{index}.{name}"] = s
        shape = spec.output_shape(sub, [shape])
    return result


# --------------------------------------------------------------------------- shape helpers


def _need_rank(kind: str, shape: Shape, ranks: tuple[int, ...], layout: str) -> None:
    if len(shape) not in ranks:
        raise ShapeError(f"{kind} expects a {layout} input, got {fmt_shape(shape)}")


def _sliding(length: int, kernel: int, stride: int, padding: int, what: str) -> int:
    out = (length + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ShapeError(f"{what}: kernel {kernel} does not fit an input of length {length} (padding {padding})")
    return out


def _p(name: str, type_: str, default: Any, doc: str, **kw: Any) -> ParamSpec:
    return ParamSpec(name, type_, default, doc, **kw)


ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "sigmoid", "leaky_relu")

_KINDS: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> KindSpec:
    if spec.kind in _KINDS:
        raise ValueError(f"kind {spec.kind!r} is already registered")
    _KINDS[spec.kind] = spec
    return spec


def get(kind: str) -> KindSpec:
    """The spec of ``kind``; KeyError with the known kinds if there is none."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown module kind {kind!r}") from None


def kinds() -> list[str]:
    return list(_KINDS)


def specs() -> list[KindSpec]:
    return list(_KINDS.values())


def categories() -> dict[str, list[KindSpec]]:
    """Kinds grouped by category, in catalog order: what a palette shows."""
    grouped: dict[str, list[KindSpec]] = {}
    for spec in _KINDS.values():
        grouped.setdefault(spec.category, []).append(spec)
    return grouped


# --------------------------------------------------------------------------- input and head


def _input_shape(params: Params, shapes: list[Shape]) -> Shape:
    if not params["shape"]:
        raise UnsetParamError("input shape unknown: attach a task or set the shape")
    return tuple(params["shape"])


register(KindSpec(
    "input", "Input", "Input / output",
    "The data entering the network; its shape comes from the task's data or is set here.",
    params=(_p("shape", "shape", [], "sample shape without the batch, e.g. 64 or 1,8,8; empty = from the task", min=1),),
    inputs=(), shape=_input_shape, key_params=("shape",), role="input",
))


def _head_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    _need_rank("head", shape, (1,), "flat (features)")
    if params["classes"] <= 0:
        raise UnsetParamError("head width unknown: attach a task or set classes")
    return (params["classes"],)


def _head_tensors(params: Params, shapes: list[Shape]) -> TensorShapes:
    return {"weight": (params["classes"], shapes[0][0]), "bias": (params["classes"],)}


register(KindSpec(
    "head", "Task head", "Input / output",
    "The classifier of a task: one output per class; each task gets its own head of this shape.",
    params=(_p("classes", "int", 0, "number of classes; 0 = from the task", min=0, max=100_000),),
    shape=_head_shape, tensors=_head_tensors, key_params=("classes",), role="head",
))

# --------------------------------------------------------------------------- dense


def _linear_shape(params: Params, shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    if len(shape) < 1:
        raise ShapeError("linear expects at least one dimension")
    return (*shape[:-1], params["out_features"])


def _linear_tensors(params: Params, shapes: list[Shape]) -> TensorShapes:
    out, inp = params["out_features"], shapes[0][-1]
    tensors: TensorShapes = {"weight": (out, inp)}
    if params["bias"]:
        tensors["bias"] = (out,)
    return tensors


register(KindSpec(
    "linear", "Linear", "Dense",
    "A fully connected layer over the last dimension.",
    params=(
        _p("out_features", "int", 64, "output width", min=1, max=1_000_000),
        _p("bias", "bool", True, "learn an additive bias"),
    ),
    shape=_linear_shape, tensors=_linear_tensors, key_params=("out_features",),
))

# --------------------------------------------------------------------------- convolution and pooling

_CONV_PARAMS = (
    _p("out_channels", "int", 16, "number of filters", min=1, max=100_000),
    _p("kernel_size", "int", 3, "filter size", min=1, max=1024),
    _p("stride", "int", 1, "step between windows", min=1, max=1024),
    _p("padding", "int", 0, "zeros added on each side", min=0, max=1024),
    _p("bias", "bool", True, "learn an additive bias"),
)


def _conv_rules(dims: int) -> tuple[ShapeRule, TensorRule]:
    layout = "channels×length" if dims == 1 else "channels×height×width"

    def shape(params: Params, shapes: list[Shape]) -> Shape:
        (s,) = shapes
        _need_rank(f"conv{dims}d", s, (dims + 1,), layout)
        k, st, pad = params["kernel_size"], params["stride"], params["padding"]
        spatial = tuple(_sliding(n, k, st, pad, f"conv{dims}d") for n in s[1:])
        return (params["out_channels"], *spatial)

    def tensors(params: Params, shapes: list[Shape]) -> TensorShapes:
        out, k = params["out_channels"], params["kernel_size"]
        result: TensorShapes = {"weight": (out, shapes[0][0], *([k] * dims))}
        if params["bias"]:
            result["bias"] = (out,)
        return result

    return shape, tensors


for _dims in (1, 2):
    _shape, _tensors = _conv_rules(_dims)
    register(KindSpec(
        f"conv{_dims}d", f"Conv {_dims}D", "Convolution",
        f"A {_dims}-D convolution over {'sequences' if _dims == 1 else 'images'} (channels first).",
        params=_CONV_PARAMS, shape=_shape, tensors=_tensors, key_params=("out_channels", "kernel_size"),
    ))


def _pool_shape(dims: int, op: str) -> ShapeRule:
    layout = "channels×length" if dims == 1 else "channels×height×width"

    def shape(params: Params, shapes: list[Shape]) -> Shape:
        (s,) = shapes
        _need_rank(f"{op}pool{dims}d", s, (dims + 1,), layout)
        k = params["kernel_size"]
        st = params["stride"] or k
        return (s[0], *(_sliding(n, k, st, 0, f"{op}pool{dims}d") for n in s[1:]))

    return shape


for _dims in (1, 2):
    for _op, _name in (("max", "Max"), ("avg", "Average")):
        register(KindSpec(
            f"{_op}pool{_dims}d", f"{_name} pool {_dims}D", "Pooling",
            f"Downsample by taking the {'maximum' if _op == 'max' else 'mean'} of each window.",
            params=(
                _p("kernel_size", "int", 2, "window size", min=1, max=1024),
                _p("stride", "int", 0, "step between windows; 0 = the window size", min=0, max=1024),
            ),
            shape=_pool_shape(_dims, _op), key_params=("kernel_size",),
        ))


def _global_pool_shape(params: Params, shapes: list[Shape]) -> Shape:
    (s,) = shapes
    if len(s) < 2:
        raise ShapeError(f"global average pool expects channels and at least one spatial axis, got {fmt_shape(s)}")
    return (s[0],)


register(KindSpec(
    "global_avg_pool", "Global average pool", "Pooling",
    "Average every channel over all spatial positions: C×… → C.",
    shape=_global_pool_shape,
))

# --------------------------------------------------------------------------- shape


def _flatten_shape(params: Params, shapes: list[Shape]) -> Shape:
    (s,) = shapes
    return (math.prod(s),)


register(KindSpec(
    "flatten", "Flatten", "Shape", "Turn a sample of any shape into a flat feature vector.",
    shape=_flatten_shape,
))

# --------------------------------------------------------------------------- activations


def _same_shape(params: Params, shapes: list[Shape]) -> Shape:
    return shapes[0]


_ACTIVATION_DOCS = {
    "relu": ("ReLU", "max(0, x)."),
    "gelu": ("GELU", "Gaussian error linear unit, smooth ReLU used in transformers."),
    "silu": ("SiLU", "x·sigmoid(x) (swish)."),
    "tanh": ("Tanh", "Hyperbolic tangent, output in (−1, 1)."),
    "sigmoid": ("Sigmoid", "Logistic function, output in (0, 1)."),
    "leaky_relu": ("Leaky ReLU", "ReLU with a small slope for negative inputs."),
}
for _kind, (_title, _doc) in _ACTIVATION_DOCS.items():
    register(KindSpec(
        _kind, _title, "Activation", _doc, shape=_same_shape,
        params=(_p("negative_slope", "float", 0.01, "slope for x < 0", min=0.0, max=1.0),)
        if _kind == "leaky_relu" else (),
    ))

# --------------------------------------------------------------------------- regularisation and normalisation

register(KindSpec(
    "dropout", "Dropout", "Regularization", "Zero a random fraction of activations while training.",
    params=(_p("p", "float", 0.5, "probability of dropping an activation", min=0.0, max=0.99),),
    shape=_same_shape, key_params=("p",),
))


def _norm_state(params: Params, shapes: list[Shape]) -> TensorShapes:
    c = shapes[0][0]
    return {"weight": (c,), "bias": (c,)}


def _bn_buffers(params: Params, shapes: list[Shape]) -> TensorShapes:
    c = shapes[0][0]
    return {"running_mean": (c,), "running_var": (c,), "num_batches_tracked": ()}


def _bn_shape(dims: int) -> ShapeRule:
    ranks = (1, 2) if dims == 1 else (3,)
    layout = "features or channels×length" if dims == 1 else "channels×height×width"

    def shape(params: Params, shapes: list[Shape]) -> Shape:
        _need_rank(f"batchnorm{dims}d", shapes[0], ranks, layout)
        return shapes[0]

    return shape


for _dims in (1, 2):
    register(KindSpec(
        f"batchnorm{_dims}d", f"Batch norm {_dims}D", "Normalization",
        "Normalize each channel with batch statistics (running averages at test time).",
        shape=_bn_shape(_dims), tensors=_norm_state, buffers=_bn_buffers,
    ))


def _layernorm_shape(params: Params, shapes: list[Shape]) -> Shape:
    if not shapes[0]:
        raise ShapeError("layer norm needs at least one dimension")
    return shapes[0]


register(KindSpec(
    "layernorm", "Layer norm", "Normalization", "Normalize each sample over its last dimension.",
    shape=_layernorm_shape,
    tensors=lambda params, shapes: {"weight": (shapes[0][-1],), "bias": (shapes[0][-1],)},
))

# --------------------------------------------------------------------------- merge


def _add_shape(params: Params, shapes: list[Shape]) -> Shape:
    first = shapes[0]
    for other in shapes[1:]:
        if other != first:
            raise ShapeError(f"add needs equal shapes, got {fmt_shape(first)} and {fmt_shape(other)}")
    return first


def _concat_shape(params: Params, shapes: list[Shape]) -> Shape:
    first = shapes[0]
    dim = params["dim"]
    if dim >= len(first):
        raise ShapeError(f"concat axis {dim} does not exist in a {fmt_shape(first)} input")
    total = 0
    for other in shapes:
        if len(other) != len(first) or any(a != b for i, (a, b) in enumerate(zip(first, other)) if i != dim):
            raise ShapeError(
                f"concat along axis {dim} needs the other axes equal, got {fmt_shape(first)} and {fmt_shape(other)}"
            )
        total += other[dim]
    return (*first[:dim], total, *first[dim + 1:])


register(KindSpec(
    "add", "Add", "Merge", "Sum two or more inputs of the same shape (residual connections).",
    inputs=(PortSpec("in", multi=True, min_edges=2),), shape=_add_shape,
))
register(KindSpec(
    "concat", "Concatenate", "Merge", "Join two or more inputs along an axis, in the order they were connected.",
    params=(_p("dim", "int", 0, "axis to join along (0 = features/channels)", min=0, max=3),),
    inputs=(PortSpec("in", multi=True, min_edges=2),), shape=_concat_shape, key_params=("dim",),
))

# --------------------------------------------------------------------------- composite blocks

_ACTIVATION_PARAM = _p("activation", "choice", "relu", "non-linearity after each layer", choices=ACTIVATIONS)


def _activation_layer(name: str) -> tuple[str, Params]:
    return (name, get(name).default_params())


def _mlp_expand(params: Params, shapes: list[Shape]) -> Expansion:
    (s,) = shapes
    _need_rank("MLP block", s, (1,), "flat (features)")
    layers: Expansion = []
    for width in params["hidden"]:
        layers.append(("linear", {"out_features": width, "bias": True}))
        if params["norm"] == "batch":
            layers.append(("batchnorm1d", {}))
        elif params["norm"] == "layer":
            layers.append(("layernorm", {}))
        layers.append(_activation_layer(params["activation"]))
        if params["dropout"] > 0:
            layers.append(("dropout", {"p": params["dropout"]}))
    return layers


register(KindSpec(
    "mlp_block", "MLP block", "Blocks",
    "Several fully connected layers, each followed by optional norm, an activation and dropout.",
    params=(
        _p("hidden", "ints", [128, 128], "width of each layer, e.g. 256,128", min=1, max=1_000_000),
        _ACTIVATION_PARAM,
        _p("norm", "choice", "none", "normalization after each linear layer", choices=("none", "batch", "layer")),
        _p("dropout", "float", 0.0, "dropout after each activation (0 = none)", min=0.0, max=0.99),
    ),
    expand=_mlp_expand, key_params=("hidden", "activation"),
))


def _conv_block_expand(params: Params, shapes: list[Shape]) -> Expansion:
    (s,) = shapes
    if len(s) not in (2, 3):
        raise ShapeError(f"conv block expects channels×length or channels×height×width, got {fmt_shape(s)}")
    dims = len(s) - 1
    layers: Expansion = [(f"conv{dims}d", {
        "out_channels": params["out_channels"], "kernel_size": params["kernel_size"],
        "stride": params["stride"], "padding": params["padding"], "bias": params["norm"] == "none",
    })]
    if params["norm"] == "batch":
        layers.append((f"batchnorm{dims}d", {}))
    layers.append(_activation_layer(params["activation"]))
    if params["pool"] != "none":
        layers.append((f"{params['pool']}pool{dims}d", {"kernel_size": params["pool_size"], "stride": 0}))
    return layers


register(KindSpec(
    "conv_block", "Conv block", "Blocks",
    "Convolution → batch norm → activation → optional pooling; 1-D or 2-D from the input's shape.",
    params=(
        *_CONV_PARAMS[:3],
        replace(_CONV_PARAMS[3], default=1),
        _p("norm", "choice", "batch", "normalization after the convolution", choices=("none", "batch")),
        _ACTIVATION_PARAM,
        _p("pool", "choice", "max", "pooling at the end", choices=("none", "max", "avg")),
        _p("pool_size", "int", 2, "pooling window", min=1, max=1024),
    ),
    expand=_conv_block_expand, key_params=("out_channels", "kernel_size", "pool"),
))



# A residual block is no sequence (the skip runs beside the body), so it has no ``expand``: its three
# parts are sequences of primitives, and its rules and torch module are built from theirs.

RESIDUAL_KERNEL = 3


def residual_parts(params: Params, shapes: list[Shape]) -> tuple[Expansion, Expansion, tuple[str, Params]]:
    """``(body, skip, activation)``: conv → norm → act → conv → norm; the skip is empty (the
    identity) unless the channels or the stride change, then a 1×1 conv with the stride → norm; the
    activation follows the sum, as in ResNet's basic block."""
    (s,) = shapes
    if len(s) not in (2, 3):
        raise ShapeError(f"residual block expects channels×length or channels×height×width, got {fmt_shape(s)}")
    dims, out, stride, batch = len(s) - 1, params["out_channels"], params["stride"], params["norm"] == "batch"

    def conv(kernel: int, step: int) -> Expansion:
        layer = (f"conv{dims}d", {"out_channels": out, "kernel_size": kernel, "stride": step,
                                  "padding": kernel // 2, "bias": not batch})
        return [layer, (f"batchnorm{dims}d", {})] if batch else [layer]

    act = _activation_layer(params["activation"])
    body = [*conv(RESIDUAL_KERNEL, stride), act, *conv(RESIDUAL_KERNEL, 1)]
    skip = [] if (s[0], stride) == (out, 1) else conv(1, stride)
    return body, skip, act


def _residual_shape(params: Params, shapes: list[Shape]) -> Shape:
    body, skip, _ = residual_parts(params, shapes)
    out = layers_shape(body, shapes[0])
    assert layers_shape(skip, shapes[0]) == out  # padding 1 for 3, 0 for 1: both give ⌊(n − 1) / stride⌋ + 1
    return out


def _residual_state(method: str) -> TensorRule:
    def rule(params: Params, shapes: list[Shape]) -> TensorShapes:
        body, skip, _ = residual_parts(params, shapes)
        return {**layers_state(body, shapes[0], method, "body."), **layers_state(skip, shapes[0], method, "skip.")}

    return rule


register(KindSpec(
    "residual_block", "Residual block", "Blocks",
    "ResNet's basic block: 3×3 conv → norm → activation → 3×3 conv → norm, plus the input (through a "
    "1×1 conv when the channels or the stride change), then the activation; 1-D or 2-D from the input.",
    params=(
        replace(_CONV_PARAMS[0], default=64),
        _p("stride", "int", 1, "1 keeps the size, 2 halves it (rounding up)", min=1, max=2),
        _p("norm", "choice", "batch", "normalization after each convolution", choices=("none", "batch")),
        _ACTIVATION_PARAM,
    ),
    shape=_residual_shape, tensors=_residual_state("tensor_shapes"), buffers=_residual_state("buffer_shapes"),
    key_params=("out_channels", "stride"),
))
