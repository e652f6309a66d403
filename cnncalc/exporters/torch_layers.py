"""One layer → the PyTorch constructor that builds it: every cnncalc layer type, its arguments
as PyTorch's keywords, and the sizes cnncalc infers (in_channels, ...) from the input shapes.

The merges (add, multiply, subtract, divide, concat) and `parameter` are not modules: the
module writer (pytorch.py) writes them into `forward` and `__init__` itself. Where PyTorch has
no class that does exactly what cnncalc computes, a small helper class is written into the
generated file (HELPERS): TensorFlow-style 'same' padding at a stride above 1, sequence layers
that keep the batch first, reshapes and tensor operations as modules (so that forward hooks and
`print(model)` see them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from cnncalc.exporters import ExportError
from cnncalc.graph import Layer
from cnncalc.layers import TYPES, Shape
from cnncalc.layers.args import REQUIRED
from cnncalc.safetext import python_string


class Ctor(NamedTuple):
    """How to build one layer: the constructor expression and the helper classes it uses."""

    code: str
    helpers: tuple[str, ...] = ()


# cnncalc type → PyTorch class, for the types whose arguments are PyTorch's keywords as they are.
_CLASSES: dict[str, str] = {
    **{
        f"{k}{d}d": f"nn.{c}{d}d"
        for d in (1, 2, 3)
        for k, c in (
            ("maxpool", "MaxPool"),
            ("avgpool", "AvgPool"),
            ("adaptiveavgpool", "AdaptiveAvgPool"),
            ("adaptivemaxpool", "AdaptiveMaxPool"),
            ("zeropad", "ZeroPad"),
            ("constantpad", "ConstantPad"),
            ("reflectionpad", "ReflectionPad"),
            ("replicationpad", "ReplicationPad"),
            ("circularpad", "CircularPad"),
            ("dropout", "Dropout"),
        )
    },
    "relu": "nn.ReLU",
    "relu6": "nn.ReLU6",
    "leakyrelu": "nn.LeakyReLU",
    "prelu": "nn.PReLU",
    "elu": "nn.ELU",
    "celu": "nn.CELU",
    "selu": "nn.SELU",
    "gelu": "nn.GELU",
    "silu": "nn.SiLU",
    "mish": "nn.Mish",
    "sigmoid": "nn.Sigmoid",
    "logsigmoid": "nn.LogSigmoid",
    "tanh": "nn.Tanh",
    "hardtanh": "nn.Hardtanh",
    "hardswish": "nn.Hardswish",
    "hardsigmoid": "nn.Hardsigmoid",
    "softplus": "nn.Softplus",
    "softsign": "nn.Softsign",
    "tanhshrink": "nn.Tanhshrink",
    "threshold": "nn.Threshold",
    "softmax": "nn.Softmax",
    "logsoftmax": "nn.LogSoftmax",
    "softmin": "nn.Softmin",
    "glu": "nn.GLU",
    "dropout": "nn.Dropout",
    "alphadropout": "nn.AlphaDropout",
    "featurealphadropout": "nn.FeatureAlphaDropout",
    "identity": "nn.Identity",
    "flatten": "nn.Flatten",
    "unflatten": "nn.Unflatten",
    "pixelshuffle": "nn.PixelShuffle",
    "pixelunshuffle": "nn.PixelUnshuffle",
    "channelshuffle": "nn.ChannelShuffle",
    "localresponsenorm": "nn.LocalResponseNorm",
    "embedding": "Embedding",
    "reshape": "Reshape",
    "chunk": "Chunk",
    "split": "Split",
    "unbind": "Unbind",
    "narrow": "Narrow",
    "permute": "Permute",
    "transpose": "Transpose",
    "mean": "Mean",
    "sum": "Sum",
    "amax": "Amax",
    "matmul": "Matmul",
    "einsum": "Einsum",
}

# Arguments written positionally, in this order; the rest are keywords where not the default.
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "threshold": ("threshold", "value"),
    "unflatten": ("dim", "unflattened_size"),
    "pixelshuffle": ("upscale_factor",),
    "pixelunshuffle": ("downscale_factor",),
    "channelshuffle": ("groups",),
    "localresponsenorm": ("size",),
    "embedding": ("num_embeddings", "embedding_dim"),
    "reshape": ("shape",),
    **{f"{k}pad{d}d": ("padding",) for d in (1, 2, 3) for k in ("zero", "reflection")},
    **{f"{k}pad{d}d": ("padding",) for d in (1, 2, 3) for k in ("replication", "circular")},
    **{f"constantpad{d}d": ("padding", "value") for d in (1, 2, 3)},
    **{f"adaptive{k}pool{d}d": ("output_size",) for d in (1, 2, 3) for k in ("avg", "max")},
    **{f"{k}pool{d}d": ("kernel_size",) for d in (1, 2, 3) for k in ("avg", "max")},
}
# Where cnncalc's default is not PyTorch's (softmax's dim), or the argument is required anyway.
_ALWAYS = frozenset({"dim", "dims", "chunks", "split_size_or_sections", "start", "length"})
_ALWAYS_FOR = {"dim0", "dim1", "equation"}


def as_tuple(v: Sequence[int]) -> str:
    """A tuple of ints as Python source, never collapsed to one value."""
    return f"({', '.join(map(str, v))}{',' if len(v) == 1 else ''})"


# Per-dimension arguments: `(3, 3)` is written `3`, as PyTorch takes it for every dimension.
PER_DIM = frozenset(
    {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size"}
)


class Source(str):
    """A positional argument written already (not a value to write)."""


def value(v: Any, per_dim: bool = False) -> str:
    """A parsed argument as Python source: strings quoted safely, infinities float('inf'),
    and a per-dimension tuple of one value repeated as that value."""
    if isinstance(v, (tuple, list)):
        if per_dim and len(v) > 1 and all(x == v[0] for x in v) and type(v[0]) is int:
            return value(v[0])
        inner = ", ".join(value(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, float) and not math.isfinite(v):
        return f"float({python_string(str(v))})"
    if isinstance(v, str):
        return python_string(v)
    if isinstance(v, (bool, int, float)) or v is None:
        return repr(v)
    raise TypeError(f"no Python source for {type(v).__name__}")  # parsed values are plain


def _same(a: Any, b: Any) -> bool:
    """Whether a parsed value is the type's default (`(1, 1)` is `1`)."""
    return value(a, per_dim=True) == value(b, per_dim=True)


def call(
    cls: str,
    positional: Sequence[Any],
    layer: Layer,
    skip: Sequence[str] = (),
    over: Mapping[str, Any] | None = None,
) -> str:
    """`cls(positional..., keyword=value...)`: the keywords are the layer's arguments (or their
    values in `over`) that are not the default, in the order the type declares them."""
    t = TYPES[layer.type]
    parts = [v if isinstance(v, Source) else value(v) for v in positional]
    args = {**layer.args, **(over or {})}
    for arg in t.args:
        if arg.inferred or arg.name in skip or arg.name not in args:
            continue
        v = args[arg.name]
        always = arg.name in _ALWAYS or arg.name in _ALWAYS_FOR or arg.default is REQUIRED
        if always or not _same(v, arg.default):
            parts.append(f"{arg.name}={value(v, arg.name in PER_DIM)}")
    return f"{cls}({', '.join(parts)})"


def _simple(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    """A type whose PyTorch class (or helper) takes cnncalc's arguments as they are."""
    names = _POSITIONAL.get(layer.type, ())
    args = layer.args
    if "pad" in layer.type:  # zeropad2d, constantpad1d, ...: a list of one is every side
        args = {**args, "padding": _pad(args["padding"])}
    cls = _CLASSES[layer.type]
    helpers = () if cls.startswith("nn.") else (cls,)
    positional = [Source(value(args[n], n in PER_DIM)) for n in names]
    return Ctor(call(cls, positional, layer, skip=names, over=args), helpers)


def _pad(p: Any) -> Any:
    """A padding list of one value is that value for every side, as cnncalc reads it."""
    return p[0] if isinstance(p, tuple) and len(p) == 1 else p


def _conv(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    a = layer.args
    kind = layer.type.replace("convtranspose", "ConvTranspose").replace("conv", "Conv")
    cls = f"nn.{kind}"
    positional = [ins[0][0], a["out_channels"], Source(value(a["kernel_size"], per_dim=True))]
    skip = ("out_channels", "kernel_size")
    padding = 0 if a["padding"] == "valid" else a["padding"]
    if padding == "same" and any(s != 1 for s in a["stride"]):
        pads = same_pads(ins[0][1:], a["kernel_size"], a["stride"], a["dilation"])
        mode = {"zeros": "constant"}.get(a["padding_mode"], a["padding_mode"])
        head = [as_tuple(pads), value(mode), "0.0" if mode == "constant" else "None"]
        body = call(cls, positional, layer, skip, {"padding": 0})
        return Ctor(f"Same{kind}({', '.join(head)}, {body[len(cls) + 1 :]}", (f"Same{kind}",))
    return Ctor(call(cls, positional, layer, skip, {"padding": padding}))


def same_pads(
    spatial: Sequence[int], kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> tuple[int, ...]:
    """TensorFlow's 'same' padding as nn.functional.pad takes it (last dimension first):
    output ⌈input / stride⌉, the odd pixel on the right and bottom, as cnncalc pads."""
    pads: list[int] = []
    for n, k, s, d in reversed(list(zip(spatial, kernel, stride, dilation, strict=True))):
        total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def _pool(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    a = layer.args
    padding = a["padding"]
    if padding != "same":
        return _simple(
            layer._replace(args={**a, "padding": 0 if padding == "valid" else padding}), ins
        )
    kind = _CLASSES[layer.type][3:]
    kernel = a["kernel_size"]
    stride = kernel if a["stride"] is None else a["stride"]
    dims = len(kernel)
    dilation = a.get("dilation", (1,) * dims)
    pads = same_pads(ins[0][1:], kernel, stride, dilation)
    fill = "float('-inf')" if layer.type.startswith("max") else "0.0"
    size = Source(value(kernel, per_dim=True))
    body = call(f"nn.{kind}", [size], layer, ("kernel_size",), {"padding": 0})
    head = f"Same{kind}({as_tuple(pads)}, 'constant', {fill}, "
    return Ctor(head + body[len(kind) + 4 :], (f"Same{kind}",))


def _norm(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    t = layer.type
    if t.startswith(("batchnorm", "instancenorm")):
        kind = "BatchNorm" if t.startswith("batch") else "InstanceNorm"
        return Ctor(call(f"nn.{kind}{t[-2:]}", [ins[0][0]], layer))
    if t == "groupnorm":
        return Ctor(
            call("nn.GroupNorm", [layer.args["num_groups"], ins[0][0]], layer, ("num_groups",))
        )
    if t == "layernorm2d":
        return Ctor(call("LayerNorm2d", [ins[0][0]], layer), ("LayerNorm2d",))
    shape = layer.args["normalized_shape"] or (ins[0][-1],)
    return Ctor(call("nn.LayerNorm", [tuple(shape)], layer, ("normalized_shape",)))


def _linear(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    return Ctor(
        call("nn.Linear", [ins[0][-1], layer.args["out_features"]], layer, ("out_features",))
    )


def _upsample(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    if len(ins) == 2:
        return Ctor(call("UpsampleLike", [], layer, ("size", "scale_factor")), ("UpsampleLike",))
    return Ctor(call("nn.Upsample", [], layer))


_BATCH_FIRST = {"batch_first": True}  # the exported network keeps the batch first everywhere


def _attention(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    """Attention and transformer layers, batch first; the width is the input's last size."""
    a = layer.args
    if layer.type == "multiheadattention":
        positional = [ins[0][-1], a["num_heads"]]
        code = call("MultiheadAttention", positional, layer, ("num_heads",), _BATCH_FIRST)
        return Ctor(code, ("MultiheadAttention",))
    cls = "nn.TransformerEncoderLayer"
    if layer.type == "transformerdecoderlayer":
        cls = "nn.TransformerDecoderLayer"
    return Ctor(call(cls, [ins[0][-1], a["nhead"]], layer, ("nhead",), _BATCH_FIRST))


def _recurrent(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    """LSTM, GRU, RNN: the helper subclass that returns every output batch first."""
    cls = layer.type.upper()
    positional = [ins[0][-1], layer.args["hidden_size"]]
    return Ctor(call(cls, positional, layer, ("hidden_size",), _BATCH_FIRST), (cls,))


_BUILDERS: dict[str, Callable[[Layer, Sequence[Shape]], Ctor]] = {
    **{t: _conv for t in TYPES if t.startswith("conv")},
    **{t: _pool for t in TYPES if t[:7] in ("maxpool", "avgpool")},
    **{t: _norm for t in TYPES if "norm" in t and t != "localresponsenorm"},
    "linear": _linear,
    "upsample": _upsample,
    "multiheadattention": _attention,
    "transformerencoderlayer": _attention,
    "transformerdecoderlayer": _attention,
    "lstm": _recurrent,
    "gru": _recurrent,
    "rnn": _recurrent,
}
MERGES: Mapping[str, str] = {"add": "+", "multiply": "*", "subtract": "-", "divide": "/"}
INLINE = frozenset({*MERGES, "concat", "parameter"})  # written into forward, not modules


def constructor(layer: Layer, ins: Sequence[Shape]) -> Ctor:
    """The expression that builds a layer's module; ExportError for a type PyTorch cannot
    build exactly."""
    build = _BUILDERS.get(layer.type)
    if build is not None:
        return build(layer, ins)
    if layer.type in _CLASSES:
        return _simple(layer, ins)
    raise ExportError(f"type '{layer.type}' has no exact PyTorch export", layer.pos, layer.name)
