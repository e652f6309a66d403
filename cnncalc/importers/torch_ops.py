"""One torch.fx node → the cnncalc layers it stands for (the PyTorch importer's op table).

A node is a module call (`call_module`: the module's class names the layer type and its
attributes give the arguments), a function or a method (`torch.cat`, `x.view`, `+`), or a
parameter read (`get_attr`). Shapes come from running the traced graph once (`Shapes`): a
reshape's target is the shape it produced, never arithmetic on the symbols that built it.
Nothing here imports torch at module level; the caller has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from cnncalc.layers import TYPES

Src = tuple[Any, int]  # (fx node, output index), or (SELF, k): the k-th op of this same node
SELF = "\0self"


class Op(NamedTuple):
    """One cnncalc layer: its type, its arguments (every one, defaults included, so that
    instances of a block line up), and the tensors it reads."""

    type: str
    args: dict[str, Any]
    inputs: tuple[Src, ...]


class Alias(NamedTuple):
    """A node that makes no layer: it is another node's tensor (a tuple's item, `contiguous`)."""

    src: Src


class Unsupported(Exception):
    """A node with no cnncalc counterpart: `what` names the op, `hint` what the user can do."""

    def __init__(self, what: str, hint: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint


class TShape(tuple[int, ...]):
    """One tensor's shape, batch first (a tuple of ints that is not a torch.Size value)."""


Translation = list[Op] | Alias | None  # None: the node is no tensor (x.shape, sizes)
Shapes = Mapping[Any, Any]  # node → its value's shape: a TShape, a tuple of them, or None

WRITE_BY_HAND = "write that part of the spec by hand"
PER_DIM = frozenset(
    {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size"}
)


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def plain(value: Any, name: str = "") -> Any:
    """A torch attribute as a spec value: tuples become lists, equal per-dimension sizes one."""
    if isinstance(value, (tuple, list)):
        items = [plain(v) for v in value]
        if name in PER_DIM and items and all(v == items[0] for v in items):
            return items[0]
        return items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "__name__"):  # an activation given as a function (transformer layers)
        return str(value.__name__)
    raise Unsupported(f"argument {name} = {value!r}")


def defaults(kind: str) -> dict[str, Any]:
    """Every argument a layer type takes that is not read from the input, with its default
    (required ones map to themselves as a marker)."""
    return {a.name: a.default for a in TYPES[kind].args if not a.inferred}


def module_args(kind: str, m: Any) -> dict[str, Any]:
    """A module's arguments for cnncalc type `kind`, read from its attributes by their
    PyTorch names (cnncalc's names are PyTorch's)."""
    args: dict[str, Any] = {}
    for name in defaults(kind):
        if name == "bias" and hasattr(m, "bias"):
            args[name] = m.bias is not None
        elif hasattr(m, name):
            args[name] = plain(getattr(m, name), name)
    return args


# --------------------------------------------------------------------------------------------
# Modules
# --------------------------------------------------------------------------------------------

RENAMED = {"Upsample": "upsample", "UpsamplingNearest2d": "upsample"}
NO_COUNTERPART_HINT = "write that layer in the spec by hand, or replace it in the model"


def forward_class(m: Any) -> type:
    """The class whose forward a module runs (a subclass that only changes __init__ runs its
    torch.nn base's)."""
    return next(c for c in type(m).__mro__ if "forward" in c.__dict__)


def module_kind(m: Any) -> str:
    """The cnncalc type of a module: its torch.nn class's (a subclass that keeps the forward
    of nn.Conv2d is a conv2d), or Unsupported."""
    for c in type(m).__mro__:
        kind = RENAMED.get(c.__name__, c.__name__.lower())
        if kind in TYPES and c.__module__.startswith("torch.nn"):
            return kind
    name = type(m).__name__
    raise Unsupported(f"module class {name} has no cnncalc layer type", NO_COUNTERPART_HINT)


def from_module(node: Any, m: Any, shapes: Shapes) -> list[Op]:
    """The layer a module call makes."""
    kind = module_kind(m)
    special = _SPECIAL_MODULES.get(kind)
    args = special(m) if special else module_args(kind, m)
    inputs = tuple(tensor_inputs(node, shapes))
    if kind == "multiheadattention":
        inputs = _attention_inputs(node, inputs)
    return [Op(kind, args, inputs)]


def _attention_args(m: Any) -> dict[str, Any]:
    args = module_args("multiheadattention", m)
    args["bias"] = m.in_proj_bias is not None
    args["add_bias_kv"] = m.bias_k is not None
    args["kdim"] = None if m.kdim == m.embed_dim else m.kdim
    args["vdim"] = None if m.vdim == m.embed_dim else m.vdim
    return args


def _attention_inputs(node: Any, inputs: tuple[Src, ...]) -> tuple[Src, ...]:
    """query, key, value; one input where the three are the same tensor (self-attention)."""
    for key in ("key_padding_mask", "attn_mask"):
        if node.kwargs.get(key) is not None:
            raise Unsupported(f"multi-head attention with {key}", "drop the mask from the trace")
    if len(inputs) == 3 and inputs[0] == inputs[1] == inputs[2]:
        return inputs[:1]
    return inputs


def _encoder_args(m: Any) -> dict[str, Any]:
    """nn.TransformerEncoderLayer keeps its arguments in its submodules."""
    activation = m.activation
    name = getattr(activation, "__name__", type(activation).__name__).lower()
    return {
        "nhead": m.self_attn.num_heads,
        "dim_feedforward": m.linear1.out_features,
        "dropout": m.dropout.p,
        "activation": name,
        "layer_norm_eps": m.norm1.eps,
        "batch_first": m.self_attn.batch_first,
        "norm_first": m.norm_first,
        "bias": m.linear1.bias is not None,
    }


def _upsample_args(m: Any) -> dict[str, Any]:
    args = module_args("upsample", m)
    if type(m).__name__ == "UpsamplingNearest2d":
        args["mode"] = "nearest"
    return args


def _layernorm_args(m: Any) -> dict[str, Any]:
    """nn.LayerNorm's: a normalized_shape of one size is the last dimension's, which cnncalc
    reads from the input (and checks)."""
    args = module_args("layernorm", m)
    if len(args.get("normalized_shape") or ()) == 1:
        args["normalized_shape"] = None
    return args


_SPECIAL_MODULES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "layernorm": _layernorm_args,
    "multiheadattention": _attention_args,
    "transformerencoderlayer": _encoder_args,
    "transformerdecoderlayer": _encoder_args,
    "upsample": _upsample_args,
}


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def is_tensor(shape: Any) -> bool:
    """Whether a recorded shape is one tensor's."""
    return isinstance(shape, TShape)


def tensor_inputs(node: Any, shapes: Shapes) -> list[Src]:
    """The tensors a node reads, in argument order (nested lists flattened)."""
    found: list[Src] = []

    def visit(a: Any) -> None:
        if isinstance(a, (list, tuple)):
            for x in a:
                visit(x)
        elif hasattr(a, "op") and hasattr(a, "users") and is_tensor(shapes.get(a)):
            found.append((a, 0))

    for a in (*node.args, *node.kwargs.values()):
        visit(a)
    return found


def arg(node: Any, index: int, name: str, default: Any = None) -> Any:
    """A call's argument by position or keyword."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def out_shape(node: Any, shapes: Shapes) -> tuple[int, ...]:
    """A node's output shape without the batch; the batch must be first and unchanged."""
    shape = shapes[node]
    if not is_tensor(shape) or not shape or shape[0] != 1:
        raise Unsupported(
            f"{node.target} makes a tensor of shape {list(shape)} whose first dimension is not"
            " the batch",
            "keep the batch as the first dimension of every tensor",
        )
    return tuple(shape[1:])


def _dim(value: Any, what: str) -> Any:
    """A dimension argument: never the batch (0)."""
    dims = value if isinstance(value, (list, tuple)) else [value]
    if any(d == 0 for d in dims):
        raise Unsupported(f"{what} over the batch dimension (dim 0)")
    return list(value) if isinstance(value, (list, tuple)) else value


# --------------------------------------------------------------------------------------------
# Functions and methods
# --------------------------------------------------------------------------------------------

MERGES = {
    "add": "add",
    "iadd": "add",
    "sub": "subtract",
    "isub": "subtract",
    "rsub": "subtract",
    "mul": "multiply",
    "imul": "multiply",
    "truediv": "divide",
    "div": "divide",
    "itruediv": "divide",
}
ACTIVATIONS = {
    "relu": ("relu", ()),
    "relu_": ("relu", ()),
    "relu6": ("relu6", ()),
    "sigmoid": ("sigmoid", ()),
    "tanh": ("tanh", ()),
    "gelu": ("gelu", ("approximate",)),
    "silu": ("silu", ()),
    "mish": ("mish", ()),
    "elu": ("elu", ("alpha",)),
    "selu": ("selu", ()),
    "celu": ("celu", ("alpha",)),
    "hardswish": ("hardswish", ()),
    "hardsigmoid": ("hardsigmoid", ()),
    "hardtanh": ("hardtanh", ("min_val", "max_val")),
    "leaky_relu": ("leakyrelu", ("negative_slope",)),
    "softplus": ("softplus", ("beta", "threshold")),
    "softsign": ("softsign", ()),
    "logsigmoid": ("logsigmoid", ()),
    "softmax": ("softmax", ("dim",)),
    "log_softmax": ("logsoftmax", ("dim",)),
    "softmin": ("softmin", ("dim",)),
    "glu": ("glu", ("dim",)),
    "dropout": ("dropout", ("p",)),
    "dropout1d": ("dropout1d", ("p",)),
    "dropout2d": ("dropout2d", ("p",)),
    "dropout3d": ("dropout3d", ("p",)),
}
ALIASES = frozenset({"contiguous", "clone", "detach", "float"})
POOLS = {f"{kind}_pool{d}d": f"{kind}pool{d}d" for kind in ("max", "avg") for d in (1, 2, 3)} | {
    f"adaptive_{kind}_pool{d}d": f"adaptive{kind}pool{d}d"
    for kind in ("max", "avg")
    for d in (1, 2, 3)
}


def function_name(node: Any) -> str:
    """The name of a call_function's or call_method's target: `add`, `cat`, `view`."""
    target = node.target
    return target if isinstance(target, str) else str(getattr(target, "__name__", target))


def from_call(node: Any, shapes: Shapes) -> Translation:
    """The layers a function or method call makes; None for one that makes no tensor."""
    name = function_name(node)
    shape = shapes.get(node)
    if name == "getitem":
        return _getitem(node, shapes)
    if shape is None:
        return None
    if not is_tensor(shape) and name not in ("chunk", "split", "unbind"):
        raise Unsupported(f"function {name}, which returns several values", WRITE_BY_HAND)
    inputs = tensor_inputs(node, shapes)
    if name in ALIASES and len(inputs) == 1:
        return Alias(inputs[0])
    if name in MERGES:
        return _merge(node, MERGES[name], inputs, shapes)
    if name == "matmul" or name == "bmm":
        return [Op("matmul", {}, tuple(inputs))]
    if name in ACTIVATIONS:
        kind, names = ACTIVATIONS[name]
        return [Op(kind, _call_args(node, kind, names), tuple(inputs[:1]))]
    if name in POOLS:
        return [Op(POOLS[name], _pool_args(node, POOLS[name]), tuple(inputs[:1]))]
    handler = _CALLS.get(name)
    if handler is None:
        raise Unsupported(f"function {name}", WRITE_BY_HAND)
    return handler(node, inputs, shapes)


def _call_args(node: Any, kind: str, names: Sequence[str]) -> dict[str, Any]:
    """Arguments of a functional call (`F.softmax(x, dim=1)`), positions after the input."""
    args = defaults(kind)
    for i, key in enumerate(names, start=1):
        value = arg(node, i, key, args.get(key))
        if key == "dim" and value is None:
            raise Unsupported(f"{function_name(node)} without dim", "give dim explicitly")
        args[key] = plain(value, key)
    if "dim" in args:
        _dim(args["dim"], function_name(node))
    return args


def _pool_args(node: Any, kind: str) -> dict[str, Any]:
    names = [a.name for a in TYPES[kind].args if not a.inferred]
    args = defaults(kind)
    for i, key in enumerate(names, start=1):
        value = arg(node, i, key, None)
        if value is not None:
            args[key] = plain(value, key)
    return args


def _merge(node: Any, kind: str, inputs: list[Src], shapes: Shapes) -> list[Op]:
    operands = [a for a in node.args if not (isinstance(a, (int, float)) and a == 1)]
    if len(inputs) != 2 or len(operands) != 2 or node.kwargs.get("alpha", 1) != 1:
        raise Unsupported(
            f"{function_name(node)} with a number ({node.args})",
            "cnncalc merges tensors; a scalar add or scale changes no shape: " + WRITE_BY_HAND,
        )
    if function_name(node) == "rsub":
        inputs = inputs[::-1]
    return [Op(kind, {}, tuple(inputs))]


def _getitem(node: Any, shapes: Shapes) -> Translation:
    source, index = node.args
    shape = shapes.get(source)
    if shape is None:
        return None  # x.shape[0] and the like
    if not is_tensor(shape):  # an item of a tuple of tensors
        return Alias((source, index)) if isinstance(index, int) else None
    return _slice(node, source, index, shapes)


def _slice(node: Any, source: Any, index: Any, shapes: Shapes) -> list[Op]:
    """`x[:, 0]`, `x[..., 1:3]`: narrow each sliced dimension, then reshape where the index
    dropped (an int) or added (None) a dimension."""
    items = list(index) if isinstance(index, tuple) else [index]
    shape = shapes[source]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        fill = len(shape) - (len(items) - 1 - sum(i is None for i in items))
        items[at : at + 1] = [slice(None)] * fill
    ops: list[Op] = []
    dim = 0
    for item in items:
        if item is None:
            continue
        size = shape[dim]
        if isinstance(item, int) and not isinstance(item, bool):
            start, length = item % size, 1
        elif isinstance(item, slice) and item.step in (None, 1):
            start, stop, _ = item.indices(size)
            length = max(stop - start, 0)
        else:
            raise Unsupported(f"indexing with {item!r}", WRITE_BY_HAND)
        if (start, length) != (0, size):
            if dim == 0:
                raise Unsupported("indexing the batch dimension")
            src: Src = (SELF, len(ops) - 1) if ops else (source, 0)
            ops.append(Op("narrow", {"dim": dim, "start": start, "length": length}, (src,)))
        dim += 1
    out = out_shape(node, shapes)
    if not ops or shape_after(ops, shape) != (1, *out):
        src = (SELF, len(ops) - 1) if ops else (source, 0)
        ops.append(Op("reshape", {"shape": list(out)}, (src,)))
    return ops


def shape_after(ops: Sequence[Op], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a chain of narrows leaves."""
    dims = list(shape)
    for op in ops:
        dims[op.args["dim"]] = op.args["length"]
    return tuple(dims)


def _cat(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    dim = arg(node, 1, "dim", 0)
    return [Op("concat", {"dim": _dim(dim, "concatenation")}, tuple(inputs))]


def _flatten(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    method = isinstance(node.target, str)
    start = arg(node, 1, "start_dim", 0)
    end = arg(node, 2, "end_dim", -1)
    if start == 0:
        what = "x.flatten()" if method else "torch.flatten(x)"
        raise Unsupported(f"{what} flattens the batch", "flatten from dim 1: torch.flatten(x, 1)")
    return [Op("flatten", {"start_dim": start, "end_dim": end}, tuple(inputs[:1]))]


def _reshape(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    return [Op("reshape", {"shape": list(out_shape(node, shapes))}, tuple(inputs[:1]))]


def _permute(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    dims = node.args[1:] if len(node.args) > 2 else arg(node, 1, "dims")
    dims = [int(d) % len(shapes[node]) for d in dims]
    if dims[0] != 0:
        raise Unsupported("a permute that moves the batch dimension")
    return [Op("permute", {"dims": dims}, tuple(inputs[:1]))]


def _transpose(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    rank = len(shapes[node])
    dim0, dim1 = (int(arg(node, 1, "dim0")) % rank, int(arg(node, 2, "dim1")) % rank)
    if 0 in (dim0, dim1):
        raise Unsupported("a transpose that moves the batch dimension")
    return [Op("transpose", {"dim0": dim0, "dim1": dim1}, tuple(inputs[:1]))]


def _pieces(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    name = function_name(node)
    first = "chunks" if name == "chunk" else "split_size_or_sections"
    if name == "unbind":
        return [Op("unbind", {"dim": _dim(arg(node, 1, "dim", 0), name)}, tuple(inputs[:1]))]
    size = plain(arg(node, 1, first))
    dim = _dim(arg(node, 2, "dim", 0), name)
    return [Op(name, {first: size, "dim": dim}, tuple(inputs[:1]))]


def _reduce(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    name = function_name(node)
    dim = arg(node, 1, "dim")
    if dim is None:
        raise Unsupported(f"{name} over every dimension (the batch too)", "give dim")
    keepdim = bool(arg(node, 2, "keepdim", False))
    return [Op(name, {"dim": _dim(plain(dim), name), "keepdim": keepdim}, tuple(inputs[:1]))]


def _squeeze(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    return _reshape(node, inputs, shapes)


def _narrow(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    dim, start, length = (arg(node, i, k) for i, k in ((1, "dim"), (2, "start"), (3, "length")))
    size = shapes[node.args[0]][dim]
    args = {"dim": _dim(dim, "narrow"), "start": int(start) % size, "length": int(length)}
    return [Op("narrow", args, tuple(inputs[:1]))]


def _einsum(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    return [Op("einsum", {"equation": str(node.args[0])}, tuple(inputs))]


def _layer_norm(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    """F.layer_norm with the module's own weight and bias (a subclass of nn.LayerNorm that
    overrides forward): the weight and bias are the layer's, not separate parameters."""
    normalized = list(plain(arg(node, 1, "normalized_shape")))
    weight, bias = arg(node, 2, "weight"), arg(node, 3, "bias")
    args = defaults("layernorm")
    args.update(
        {
            "normalized_shape": normalized if len(normalized) > 1 else None,
            "eps": float(arg(node, 4, "eps", 1e-5)),
            "elementwise_affine": weight is not None,
            "bias": bias is not None,
        }
    )
    return [Op("layernorm", args, (inputs[0],))]


def _interpolate(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    args = defaults("upsample")
    for i, key in enumerate(("size", "scale_factor", "mode", "align_corners"), start=1):
        value = arg(node, i, key, args.get(key))
        args[key] = plain(value, key)
    return [Op("upsample", args, tuple(inputs[:1]))]


def _abs(node: Any, inputs: list[Src], shapes: Shapes) -> list[Op]:
    """|a − b| as relu(a − b) + relu(b − a), the way the Siamese spec writes it; cnncalc has
    no abs of a single tensor."""
    source = node.args[0]
    if function_name(source) != "sub" or len(tensor_inputs(source, shapes)) != 2:
        raise Unsupported("abs of anything but a difference of two tensors", WRITE_BY_HAND)
    a, b = tensor_inputs(source, shapes)
    return [
        Op("relu", {}, ((source, 0),)),
        Op("subtract", {}, (b, a)),
        Op("relu", {}, ((SELF, 1),)),
        Op("add", {}, ((SELF, 0), (SELF, 2))),
    ]


def _expand(node: Any, inputs: list[Src], shapes: Shapes) -> Translation:
    """`p.expand(n, -1, -1)` of a parameter with a leading 1: the parameter itself, which
    cnncalc already broadcasts over the batch."""
    source = node.args[0]
    have, out = shapes[source], shapes[node]
    if source.op == "get_attr" and len(have) == len(out) and have[0] == 1 and have[1:] == out[1:]:
        return Alias((source, 0))
    raise Unsupported("expand of anything but a parameter over the batch", WRITE_BY_HAND)


_CALLS: dict[str, Callable[[Any, list[Src], Shapes], Translation]] = {
    "cat": _cat,
    "concat": _cat,
    "concatenate": _cat,
    "flatten": _flatten,
    "reshape": _reshape,
    "view": _reshape,
    "squeeze": _squeeze,
    "unsqueeze": _squeeze,
    "permute": _permute,
    "transpose": _transpose,
    "chunk": _pieces,
    "split": _pieces,
    "unbind": _pieces,
    "mean": _reduce,
    "sum": _reduce,
    "amax": _reduce,
    "narrow": _narrow,
    "einsum": _einsum,
    "layer_norm": _layer_norm,
    "interpolate": _interpolate,
    "abs": _abs,
    "expand": _expand,
}


def parameter_op(node: Any, shapes: Shapes, users_rank: int | None, trainable: bool) -> Op:
    """A parameter read (`self.class_token`): its shape without a leading 1 that lines up
    with the batch of the tensor it meets."""
    shape = list(shapes[node])
    if users_rank is not None and len(shape) >= users_rank:
        if shape[0] != 1:
            raise Unsupported(f"parameter {node.target} of shape {shape} spans the batch dimension")
        shape = shape[1:]
    return Op("parameter", {"shape": shape, "trainable": trainable}, ())


def _permutes(node: Any, dims: list[int], shapes: Shapes) -> bool:
    """Whether a node is `x.permute(*dims)` of a rank-4 tensor (`torch.permute` too)."""
    if function_name(node) != "permute" or not is_tensor(shapes.get(node)):
        return False
    given = node.args[1:] if len(node.args) > 2 else arg(node, 1, "dims")
    return [int(d) % 4 for d in given] == dims and len(shapes[node]) == 4


def fuse_layernorm2d(nodes: Sequence[Any], trans: dict[Any, Any], shapes: Shapes) -> None:
    """permute to channels last → F.layer_norm over the channels → permute back (the
    LayerNorm2d of ConvNeXt and torchvision) becomes one `layernorm2d`."""
    for back in nodes:
        if not _permutes(back, [0, 3, 1, 2], shapes):
            continue
        norm = back.args[0]
        ops = trans.get(norm)
        if not (isinstance(ops, list) and len(ops) == 1 and ops[0].type == "layernorm"):
            continue
        there = norm.args[0]
        if norm.op != "call_function" or ops[0].args["normalized_shape"] is not None:
            continue
        if len(norm.users) != 1 or len(there.users) != 1:
            continue
        if not _permutes(there, [0, 2, 3, 1], shapes):
            continue
        keep = ("eps", "elementwise_affine", "bias")
        args = {**defaults("layernorm2d"), **{k: ops[0].args[k] for k in keep}}
        trans[back] = [Op("layernorm2d", args, ((there.args[0], 0),))]
        trans[norm] = trans[there] = None
