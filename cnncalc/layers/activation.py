"""Element-wise activations, softmax-like layers and the dropout family: shapes pass through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.errors import Display, LayerError
from cnncalc.layers.args import INPLACE, REQUIRED, Arg, choice, integer, number, optional
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import fail, resolve_dim
from cnncalc.layers.costs import Cost, Grads
from cnncalc.layers.formulas import Explanation
from cnncalc.layers.registry import register
from cnncalc.layers.spans import IDENTITY, Rule, Span, along
from cnncalc.layers.tensors import Shape, numel, tensor


class Elementwise(LayerType):
    """A layer that keeps its input's shape and has no parameters."""

    def __init__(
        self,
        name: str,
        family: str,
        doc: str,
        *args: Arg,
        rank: tuple[int, str] | None = None,
        flops: int = 1,
        view: bool = False,
        keeps: str = "input",
    ) -> None:
        self.name = name
        self.family = family
        self.doc = doc
        self.args = args
        self.rank = rank
        self.flops = flops
        self.view = view
        self.flops_rule = f"{flops} per element" if flops else "0"
        self.keeps = keeps
        self.saves_rule = "nothing (a view)" if view else KEEPS[keeps]

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        rank = self.rank
        if rank is not None and len(shape) != rank[0]:
            raise fail(
                lambda show: (
                    f"expects a {rank[0]}-d input {rank[1]} (without the batch),"
                    f" got {tensor(shape, show)}"
                )
            )
        if "dim" in a and a["dim"] is not None:
            resolve_dim(a["dim"], len(shape), "dim")
        return Result(shape)

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return _along(a.get("dim"), inputs[0])

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        return Cost(0, self.flops * numel(out))

    def in_place(self, a: Mapping[str, Any]) -> bool:
        """Dropout at p = 0 hands its input back (PyTorch returns it unchanged)."""
        return super().in_place(a) or ("p" in a and a["p"] == 0)

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        """By KEEPS: what autograd's formula for the function reads in backward."""
        n, keeps = numel(inputs[0]), self.keeps
        inplace = bool(a.get("inplace"))
        if self.view or ("p" in a and a["p"] in (0, 1)):  # p = 1 multiplies by a scalar 0
            return ()
        if keeps == "output" or (keeps == "input/output" and inplace):
            return (Saved("output"),)
        if keeps == "input/copy" and inplace:
            return (Saved("copy", elements=n),)
        if keeps == "mask":
            return (Saved("mask", elements=n),)
        if keeps == "noise":  # one value per channel for the feature dropouts
            per = inputs[0][0] if self.rank or self.name.startswith("feature") else n
            return (Saved("noise", elements=per),)
        if keeps == "input+other":
            return (Saved("input"), Saved("other", elements=n))
        if keeps == "other":
            return (Saved("other", elements=n),)
        return (Saved("input"),)


# What each activation's backward keeps (PyTorch's derivatives.yaml and the functions' own code).
KEEPS = {
    "output": "its output",
    "input": "its input",
    "input/output": "its input; in place, its output (the same storage)",
    "input/copy": "its input; in place, a copy of its input (the in-place kernel saves one)",
    "mask": "a mask of its size, 1 byte an element (CUDA's fused dropout; on the CPU PyTorch"
    " keeps it in the activation dtype); nothing at p = 0 or 1",
    "noise": "a mask in the activation dtype: one value per element (alpha dropout) or per"
    " channel (feature dropouts); nothing at p = 0 or 1",
    "input+other": "its input and 1 + |x|, a new tensor of its size",
    "other": "tanh(x), a new tensor of its size",
}


def _along(dim: int | None, shape: Shape) -> Rule:
    """Pointwise, unless the layer mixes values along a spatial dimension (softmax over W):
    then each unit sees that whole dimension and only its own place in the others."""
    return IDENTITY if dim is None else along(resolve_dim(dim, len(shape), "dim"), shape)


class PReLU(LayerType):
    name = "prelu"
    family = "activation"
    saves_rule = KEEPS["input"]
    flops_rule = "1 per element"
    doc = "leaky ReLU with a learned slope (one, or one per channel)"
    args = (
        Arg("num_parameters", integer(lo=1), 1, "1, or the number of channels", "int"),
        Arg("init", number(), 0.25, "no effect on counts", "float"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        n = a["num_parameters"]
        if n != 1 and (not shape or shape[0] != n):
            channels = shape[0] if shape else "no"
            raise fail(
                f"num_parameters {n} must be 1 or the number of channels ({channels})",
                "num_parameters",
            )
        return Result(shape, {"weight": n})

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return IDENTITY

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        return Cost(0, numel(out))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        n = a["num_parameters"]
        return Explanation(
            params=str(n), params_note="one slope" + (" per channel" if n > 1 else "")
        )


class GLU(LayerType):
    name = "glu"
    family = "activation"
    saves_rule = KEEPS["input"]
    doc = "gated linear unit: halves dimension dim"
    flops_rule = "2 per output element: a sigmoid and a product"
    args = (Arg("dim", integer(), -1, "dimension split in two (PyTorch numbering)", "int"),)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        i = resolve_dim(a["dim"], len(shape), "dim")
        if shape[i] % 2:
            raise fail(f"dimension {a['dim']} has odd size {shape[i]}; glu halves it", "dim")
        return Result((*shape[:i], shape[i] // 2, *shape[i + 1 :]))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        """Along a spatial dim, unit o is the product of units o and o + half."""
        shape = inputs[0]
        i = resolve_dim(a["dim"], len(shape), "dim")
        if i == 0:
            return IDENTITY
        half = shape[i] // 2

        def taps(o: int) -> tuple[int, int]:
            return o, o + half

        def runs(a: int, b: int) -> tuple[range, range]:
            return range(a, b + 1), range(a + half, b + half + 1)

        return tuple(
            Span(1, 0, half, taps, runs) if d == i else Span.window(1, 1, 0)
            for d in range(1, len(shape))
        )

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        return Cost(0, 2 * numel(out))


def nonzero() -> Any:
    inner = number()

    def parse(v: Any, dims: int) -> float:
        value = inner(v, dims)
        if value == 0:
            raise LayerError("cannot be 0 (CELU divides by it)")
        return float(value)

    return parse


class Hardtanh(Elementwise):
    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        if a["max_val"] <= a["min_val"]:
            raise fail(
                f"max_val {a['max_val']} must be greater than min_val {a['min_val']}", "max_val"
            )
        return super().infer(a, inputs)


def _act(name: str, doc: str, *args: Arg, flops: int = 1, keeps: str = "input") -> Elementwise:
    return Elementwise(name, "activation", doc, *args, flops=flops, keeps=keeps)


_SLOPE = Arg("negative_slope", number(), 0.01, "slope for negative inputs", "float")
_ALPHA = Arg("alpha", number(), 1.0, "no effect on counts", "float")
_DIM = Arg("dim", optional(integer()), 1, "dimension normalized over (PyTorch numbering)", "int")
_P = Arg("p", number(0, 1), 0.5, "drop probability", "float")

register(
    _act("relu", "max(0, x)", INPLACE, keeps="output"),
    _act("relu6", "min(max(0, x), 6)", INPLACE, keeps="input/copy"),
    _act("leakyrelu", "x, or negative_slope·x below 0", _SLOPE, INPLACE, keeps="input/output"),
    PReLU(),
    _act("elu", "exponential linear unit", _ALPHA, INPLACE, keeps="input/output"),
    _act(
        "celu",
        "continuously differentiable ELU",
        Arg("alpha", nonzero(), 1.0, "no effect on counts; not 0", "float"),
        INPLACE,
        keeps="input/output",
    ),
    _act("selu", "scaled ELU", INPLACE, keeps="input/output"),
    _act(
        "gelu",
        "Gaussian error linear unit",
        Arg("approximate", choice("none", "tanh"), "none", "no effect on counts", "str"),
    ),
    _act("silu", "x·sigmoid(x) (swish)", INPLACE, keeps="input/copy"),
    _act("mish", "x·tanh(softplus(x))", INPLACE, keeps="input/copy"),
    _act("sigmoid", "1 / (1 + e^−x)", keeps="output"),
    _act("logsigmoid", "log(sigmoid(x))"),
    _act("tanh", "hyperbolic tangent", keeps="output"),
    Hardtanh(
        "hardtanh",
        "activation",
        "clamp to [min_val, max_val]",
        Arg("min_val", number(), -1.0, "lower bound", "float"),
        Arg("max_val", number(), 1.0, "upper bound", "float"),
        INPLACE,
        keeps="input/copy",
    ),
    _act("hardswish", "x·relu6(x+3)/6", INPLACE, keeps="input/copy"),
    _act("hardsigmoid", "relu6(x+3)/6", INPLACE, keeps="input/copy"),
    _act(
        "softplus",
        "log(1 + e^x)",
        Arg("beta", number(), 1.0, "no effect on counts", "float"),
        Arg("threshold", number(), 20.0, "no effect on counts", "float"),
    ),
    _act("softsign", "x / (1 + |x|)", keeps="input+other"),
    _act("tanhshrink", "x − tanh(x)", keeps="other"),
    _act(
        "threshold",
        "x above threshold, else value",
        Arg("threshold", number(), REQUIRED, "the threshold", "float"),
        Arg("value", number(), REQUIRED, "the replacement", "float"),
        INPLACE,
        keeps="input/copy",
    ),
    _act("softmax", "softmax over dim", _DIM, flops=3, keeps="output"),  # exp, sum, divide
    _act("logsoftmax", "log-softmax over dim", _DIM, flops=3, keeps="output"),
    _act("softmin", "softmin over dim", _DIM, flops=3, keeps="output"),
    GLU(),
    Elementwise("identity", "shape", "passes its input through unchanged", flops=0, view=True),
    # Dropout is counted as at inference, where it is the identity: no FLOPs.
    Elementwise(
        "dropout",
        "dropout",
        "zeroes elements with probability p in training",
        _P,
        INPLACE,
        flops=0,
        keeps="mask",
    ),
    Elementwise(
        "alphadropout",
        "dropout",
        "dropout that keeps SELU's statistics",
        _P,
        INPLACE,
        flops=0,
        keeps="noise",
    ),
    Elementwise(
        "featurealphadropout",
        "dropout",
        "alpha dropout of whole channels",
        _P,
        INPLACE,
        flops=0,
        keeps="noise",
    ),
    Elementwise(
        "dropout1d",
        "dropout",
        "zeroes whole channels of [C, L]",
        _P,
        INPLACE,
        rank=(2, "[C, L]"),
        flops=0,
        keeps="noise",
    ),
    Elementwise(
        "dropout2d",
        "dropout",
        "zeroes whole channels of [C, H, W]",
        _P,
        INPLACE,
        rank=(3, "[C, H, W]"),
        flops=0,
        keeps="noise",
    ),
    Elementwise(
        "dropout3d",
        "dropout",
        "zeroes whole channels of [C, D, H, W]",
        _P,
        INPLACE,
        rank=(4, "[C, D, H, W]"),
        flops=0,
        keeps="noise",
    ),
)
