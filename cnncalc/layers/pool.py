"""Max, average and adaptive pooling in 1, 2 and 3 dimensions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc import arithmetic
from cnncalc.errors import Display, LayerError
from cnncalc.layers.args import REQUIRED, Arg, boolean, integer, optional, padding, per_dim
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import expect_rank, fail
from cnncalc.layers.costs import Cost, Grads, adaptive_reads
from cnncalc.layers.formulas import Explanation, per_dim_lines
from cnncalc.layers.registry import register
from cnncalc.layers.spans import GLOBAL, Rule, Span, adaptive_span
from cnncalc.layers.tensors import Shape, numel, spatial_layout
from cnncalc.layers.window import Pads, check_window, window_formula, window_out, window_pads


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

    def _window(
        self, a: Mapping[str, Any], spatial: Shape
    ) -> tuple[Sequence[int], Sequence[int], Sequence[int], Pads]:
        """Kernel, stride (the kernel unless given), dilation (1 unless given) and padding."""
        kernel = a["kernel_size"]
        stride = a["stride"] or kernel
        dilation = a.get("dilation") or (1,) * self.dims
        return (
            kernel,
            stride,
            dilation,
            window_pads(a["padding"], spatial, kernel, stride, dilation),
        )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        expect_rank(shape, self.dims + 1, spatial_layout(self.dims))
        spatial = shape[1:]
        kernel, stride, dilation, pads = self._window(a, spatial)
        if a["padding"] == "same":
            if a["ceil_mode"]:
                raise fail(
                    "ceil_mode cannot be combined with padding 'same' (the output is"
                    " already ⌈input/stride⌉)",
                    "ceil_mode",
                )
            check_window(spatial, kernel, dilation, pads)
            return Result((shape[0], *window_out(spatial, kernel, stride, dilation, pads)))
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
            check_window(spatial, kernel, dilation, pads)
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
        kernel, stride, dilation, pads = self._window(a, inputs[0][1:])
        return tuple(
            Span.window(k, s, left, d)
            for k, s, (left, _), d in zip(kernel, stride, pads, dilation, strict=True)
        )

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        spatial = inputs[0][1:]
        kernel, stride, dilation, pads = self._window(a, spatial)
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

    @property
    def saves_rule(self) -> str:  # type: ignore[override]
        return _MAX_SAVES if self.kind == "max" else "its input"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        if self.kind == "max":
            return (Saved("input"), Saved("indices", elements=numel(result.shape)))
        return (Saved("input"),)


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

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
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

    @property
    def saves_rule(self) -> str:  # type: ignore[override]
        if self.kind == "max":
            return _MAX_SAVES
        return "its input; nothing when every output size is 1 (PyTorch takes a mean)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        if self.kind == "max":
            return (Saved("input"), Saved("indices", elements=numel(result.shape)))
        if all(o == 1 for o in result.shape[1:]):
            return ()
        return (Saved("input"),)


_MAX_SAVES = "its input, and the argmax of every output element (int64, 8 bytes each)"


def adaptive_rule(sizes: Sequence[int], outs: Sequence[int]) -> Rule:
    """Pooling to one unit is global pooling; otherwise a window per dimension."""
    if all(o == 1 for o in outs):
        return GLOBAL
    return tuple(adaptive_span(n, o) for n, o in zip(sizes, outs, strict=True))


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
