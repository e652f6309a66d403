"""Max, average and adaptive pooling in 1, 2 and 3 dimensions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc import arithmetic
from cnncalc.errors import LayerError
from cnncalc.layers.base import (
    GLOBAL,
    REQUIRED,
    Arg,
    Cost,
    Explanation,
    LayerType,
    Result,
    Rule,
    Shape,
    Span,
    boolean,
    expect_rank,
    fail,
    integer,
    numel,
    optional,
    padding,
    per_dim,
    per_dim_lines,
)
from cnncalc.layers.conv import check_window, spatial_layout, window_formula
from cnncalc.layers.registry import register


class Pool(LayerType):
    """MaxPoolNd (with dilation) and AvgPoolNd (without)."""

    family = "pool"

    def __init__(self, kind: str, dims: int) -> None:
        self.dims = dims
        self.kind = kind
        self.name = f"{kind}pool{dims}d"
        self.flops_rule = (
            "kernel elements − 1 comparisons per output element"
            if kind == "max"
            else "kernel elements per output element: adds and a divide"
        )
        self.doc = f"{dims}-d {kind} pooling over {spatial_layout(dims)}"
        args = [
            Arg("kernel_size", per_dim(), REQUIRED, "window size", "int | list"),
            Arg(
                "stride",
                optional(per_dim()),
                None,
                "step of the window (default: kernel_size)",
                "int | list",
            ),
            Arg(
                "padding",
                padding(),
                0,
                "implicit padding on both sides, or same | valid",
                "int | list | same | valid",
            ),
        ]
        if kind == "max":
            args += [
                Arg("dilation", per_dim(), 1, "spacing between window taps", "int | list"),
                Arg("return_indices", boolean(), False, "no effect on shapes", "bool"),
            ]
        args.append(Arg("ceil_mode", boolean(), False, "round the output size up", "bool"))
        if kind == "avg":
            args.append(Arg("count_include_pad", boolean(), True, "no effect on shapes", "bool"))
            if dims > 1:
                args.append(
                    Arg(
                        "divisor_override",
                        optional(integer(lo=1)),
                        None,
                        "no effect on shapes",
                        "int",
                    )
                )
        self.args = tuple(args)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        expect_rank(shape, self.dims + 1, spatial_layout(self.dims))
        spatial = shape[1:]
        kernel = a["kernel_size"]
        stride = a["stride"] or kernel
        dilation = a.get("dilation") or (1,) * self.dims
        if a["padding"] == "same":
            if a["ceil_mode"]:
                raise fail(
                    "ceil_mode cannot be combined with padding 'same' (the output is"
                    " already ⌈input/stride⌉)",
                    "ceil_mode",
                )
            pads = [
                arithmetic.same_padding(n, k, s, d)
                for n, k, s, d in zip(spatial, kernel, stride, dilation, strict=True)
            ]
            check_window(spatial, kernel, dilation, pads)
            out = [
                arithmetic.conv_out(n, k, s, left, right, d)
                for n, k, s, d, (left, right) in zip(
                    spatial, kernel, stride, dilation, pads, strict=True
                )
            ]
            return Result((shape[0], *out))
        for k, p in zip(kernel, a["padding"], strict=True):
            if p > k // 2:
                raise fail(
                    f"padding {p} is more than half the kernel_size {k}"
                    " (PyTorch allows at most kernel_size // 2)",
                    "padding",
                )
        if self.kind == "avg" and self.dims == 3:
            # PyTorch's AvgPool3d (and only it) also wants the input itself to hold a window.
            for n, k in zip(spatial, kernel, strict=True):
                if n < k:
                    raise fail(
                        f"kernel_size {k} is larger than the input {n} (AvgPool3d does"
                        " not count padding here)",
                        "kernel_size",
                    )
        if not a["ceil_mode"]:
            check_window(spatial, kernel, dilation, [(p, p) for p in a["padding"]])
        out = [
            arithmetic.pool_out(n, k, s, p, d, a["ceil_mode"])
            for n, k, s, p, d in zip(spatial, kernel, stride, a["padding"], dilation, strict=True)
        ]
        for n, o in zip(spatial, out, strict=True):
            # With ceil_mode one window may hang past the input: PyTorch only needs an output.
            if o < 1:
                raise fail(
                    f"the window does not fit: the output size would be {o} for the input {n}",
                    "kernel_size",
                )
        return Result((shape[0], *out))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        spatial = inputs[0][1:]
        kernel = a["kernel_size"]
        stride = a["stride"] or kernel
        dilation = a.get("dilation") or (1,) * self.dims
        if a["padding"] == "same":
            lefts = [
                arithmetic.same_padding(n, k, s, d)[0]
                for n, k, s, d in zip(spatial, kernel, stride, dilation, strict=True)
            ]
        else:
            lefts = list(a["padding"])
        return tuple(
            Span.window(k, s, p, d)
            for k, s, p, d in zip(kernel, stride, lefts, dilation, strict=True)
        )

    def explain(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Explanation:
        spatial = inputs[0][1:]
        kernel = a["kernel_size"]
        stride = a["stride"] or kernel
        dilation = a.get("dilation") or (1,) * self.dims
        if a["padding"] == "same":
            pads = [
                arithmetic.same_padding(n, k, s, d)
                for n, k, s, d in zip(spatial, kernel, stride, dilation, strict=True)
            ]
        else:
            pads = [(p, p) for p in a["padding"]]
        return Explanation(
            per_dim_lines(
                [
                    window_formula(n, k, s, d, left, right, o, a["ceil_mode"])
                    for n, k, s, d, (left, right), o in zip(
                        spatial, kernel, stride, dilation, pads, out[1:], strict=True
                    )
                ]
            )
        )

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        window = math.prod(a["kernel_size"])  # a full window per output, padding included
        return Cost(0, numel(out) * (window - 1 if self.kind == "max" else window))


class AdaptivePool(LayerType):
    family = "pool"

    def __init__(self, kind: str, dims: int) -> None:
        self.dims = dims
        self.kind = kind
        self.name = f"adaptive{kind}pool{dims}d"
        self.flops_rule = (
            "window elements − 1 comparisons per output element"
            if kind == "max"
            else "window elements per output element: adds and a divide"
        )
        self.doc = f"{dims}-d adaptive {kind} pooling to a fixed output size"
        args = [
            Arg(
                "output_size",
                per_dim_or_none(),
                REQUIRED,
                "output size; null in a list keeps that input size",
                "int | list",
            )
        ]
        if kind == "max":
            args.append(Arg("return_indices", boolean(), False, "no effect on shapes", "bool"))
        self.args = tuple(args)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        expect_rank(shape, self.dims + 1, spatial_layout(self.dims))
        out = [n if o is None else o for n, o in zip(shape[1:], a["output_size"], strict=True)]
        return Result((shape[0], *out))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return adaptive_rule(inputs[0][1:], out[1:])

    def explain(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Explanation:
        return Explanation(
            per_dim_lines(
                [
                    f"{n} (kept)" if o is None else f"{o} (output_size)"
                    for n, o in zip(inputs[0][1:], a["output_size"], strict=True)
                ]
            )
        )

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        reads = out[0] * adaptive_reads(inputs[0][1:], out[1:])
        return Cost(0, reads - numel(out) if self.kind == "max" else reads)


def adaptive_rule(sizes: Sequence[int], outs: Sequence[int]) -> Rule:
    """Pooling to one unit is global pooling; otherwise a window per dimension."""
    if all(o == 1 for o in outs):
        return GLOBAL
    return tuple(adaptive_span(n, o) for n, o in zip(sizes, outs, strict=True))


def adaptive_span(n: int, o: int) -> Span:
    """PyTorch's adaptive windows: unit i of n → o covers ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ − 1. When o
    divides n they are plain windows; else they differ in size and place, and the field is
    the smallest window that moves by n/o and holds them all, in closed form.

    With g = gcd(n, o), i·n mod o runs over every multiple of g below o, so a window starts
    at most (o − g)/o before i·n/o, and ends at most (o − g)/o + n/o − 1 after it.
    """
    if n % o == 0:
        return Span.window(n // o, n // o, 0)
    slack = arithmetic.exact_div(o - math.gcd(n, o), o)
    step = arithmetic.exact_div(n, o)

    def taps(i: int) -> range:
        return range(i * n // o, -(-(i + 1) * n // o))

    def runs(a: int, b: int) -> tuple[range]:  # neighbouring windows touch or overlap
        return (range(a * n // o, -(-(b + 1) * n // o)),)

    return Span(step, slack, 2 * slack + step - 1, taps, runs)


def adaptive_reads(sizes: Sequence[int], outs: Sequence[int]) -> int:
    """Input elements summed over all of one channel's adaptive windows (PyTorch's windows:
    unit i of n → o covers ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ − 1): per dimension n + o − gcd(n, o),
    since ⌈(i+1)·n/o⌉ exceeds ⌊(i+1)·n/o⌋ by one except for the gcd(n, o) units where o
    divides (i+1)·n, and the floors telescope to n."""
    total = 1
    for n, o in zip(sizes, outs, strict=True):
        total *= n + o - math.gcd(n, o)
    return total


def per_dim_or_none() -> Any:
    """Like per_dim, but a list may hold null for 'keep the input size' (PyTorch's None)."""
    ints = per_dim()

    def parse(v: Any, dims: int) -> tuple[int | None, ...]:
        if isinstance(v, list) and len(v) == dims:
            if dims == 1 and v[0] is None:
                raise LayerError("cannot be null for 1-d pooling (PyTorch needs a size)")
            return tuple(None if x is None else ints(x, 1)[0] for x in v)
        return ints(v, dims)  # type: ignore[no-any-return]

    return parse


register(
    *(Pool(kind, d) for kind in ("max", "avg") for d in (1, 2, 3)),
    *(AdaptivePool(kind, d) for kind in ("avg", "max") for d in (1, 2, 3)),
)
