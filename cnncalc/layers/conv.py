"""Convolutions and transposed convolutions in 1, 2 and 3 dimensions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc import arithmetic
from cnncalc.errors import Display
from cnncalc.layers.args import (
    BIAS,
    REQUIRED,
    Arg,
    choice,
    inferred_size,
    integer,
    padding,
    per_dim,
)
from cnncalc.layers.base import LayerType, Result
from cnncalc.layers.checks import check_given, expect_rank, fail
from cnncalc.layers.costs import (
    WEIGHTED_BACKWARD,
    WEIGHTED_FLOPS,
    Cost,
    Grads,
    weighted_backward,
    weighted_cost,
)
from cnncalc.layers.formulas import Explanation, filter_taps, per_dim_lines, tensor_product
from cnncalc.layers.registry import register
from cnncalc.layers.spans import Rule, Span
from cnncalc.layers.tensors import Shape, fmt, numel, spatial_layout
from cnncalc.layers.window import Pads, check_window, window_formula, window_out, window_pads


def _channels(
    dims: int, a: Mapping[str, Any], inputs: Sequence[Shape]
) -> tuple[int, Shape, int, int]:
    """The checks every convolution starts with; in and out channels, spatial size, groups."""
    (shape,) = inputs
    expect_rank(shape, dims + 1, spatial_layout(dims))
    c_in, c_out, groups = shape[0], a["out_channels"], a["groups"]
    check_given(a, "in_channels", c_in, "channel")
    if c_in % groups:
        raise fail(f"in_channels {c_in} is not divisible by groups {groups}", "groups")
    if c_out % groups:
        raise fail(f"out_channels {c_out} is not divisible by groups {groups}", "groups")
    return c_in, shape[1:], c_out, groups


def _pads(a: Mapping[str, Any], spatial: Shape) -> Pads:
    """(left, right) padding per spatial dimension, resolving 'same' against the input size."""
    return window_pads(a["padding"], spatial, a["kernel_size"], a["stride"], a["dilation"])


_DILATION = Arg("dilation", per_dim(), 1, "spacing between kernel taps", "int | list")
_IN_CHANNELS = inferred_size("in_channels")


def per_group(channels: int, groups: int) -> str:
    """Channels one filter sees: 96, or (96/2) with groups."""
    return str(channels) if groups == 1 else f"({channels}/{groups})"


class Conv(LayerType):
    family = "conv"
    flops_rule = WEIGHTED_FLOPS

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.name = f"conv{dims}d"
        self.doc = f"{dims}-d convolution over {spatial_layout(dims)}"
        self.args = (
            Arg("out_channels", integer(lo=1), REQUIRED, "number of filters", "int"),
            Arg("kernel_size", per_dim(), REQUIRED, "window size", "int | list"),
            Arg("stride", per_dim(), 1, "step of the window", "int | list"),
            Arg(
                "padding",
                padding(),
                0,
                "zeros added on both sides, or same | valid",
                "int | list | same | valid",
            ),
            _DILATION,
            Arg(
                "groups", integer(lo=1), 1, "blocked connections (in_channels for depthwise)", "int"
            ),
            BIAS,
            Arg(
                "padding_mode",
                choice("zeros", "reflect", "replicate", "circular"),
                "zeros",
                "padding values; no effect on counts",
                "str",
            ),
            _IN_CHANNELS,
        )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        c_in, spatial, c_out, groups = _channels(self.dims, a, inputs)
        pads = _pads(a, spatial)
        mode = a["padding_mode"]
        for n, (left, right) in zip(spatial, pads, strict=True):
            # reflect mirrors at most n − 1 values; circular wraps around once at most.
            if (mode == "reflect" and max(left, right) >= n) or (
                mode == "circular" and max(left, right) > n
            ):
                limit = "smaller than" if mode == "reflect" else "at most"
                raise fail(
                    f"padding {max(left, right)} with padding_mode '{mode}' must be"
                    f" {limit} the input size {n}",
                    "padding",
                )
        check_window(spatial, a["kernel_size"], a["dilation"], pads)
        out = window_out(spatial, a["kernel_size"], a["stride"], a["dilation"], pads)
        weight = c_out * (c_in // groups) * math.prod(a["kernel_size"])
        return Result((c_out, *out), {"weight": weight, "bias": c_out if a["bias"] else 0})

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        pads = _pads(a, inputs[0][1:])
        return tuple(
            Span.window(k, s, left, d)
            for k, s, d, (left, _) in zip(
                a["kernel_size"], a["stride"], a["dilation"], pads, strict=True
            )
        )

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        c_in, spatial = inputs[0][0], inputs[0][1:]
        pads = _pads(a, spatial)
        shape = per_dim_lines(
            [
                window_formula(n, k, s, d, left, right, o)
                for n, k, s, d, (left, right), o in zip(
                    spatial,
                    a["kernel_size"],
                    a["stride"],
                    a["dilation"],
                    pads,
                    out[1:],
                    strict=True,
                )
            ]
        )
        taps = filter_taps(per_group(c_in, a["groups"]), a["kernel_size"], show)
        params = f"({taps} + 1)·{out[0]}" if a["bias"] else f"{taps}·{out[0]}"
        return Explanation(shape, params, macs=f"{tensor_product(out, show)} · {taps}")

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        # Every output element is a dot product over in_channels/groups × kernel taps.
        macs = numel(out) * (inputs[0][0] // a["groups"]) * math.prod(a["kernel_size"])
        return weighted_cost(macs, out, a["bias"])

    backward_rule = WEIGHTED_BACKWARD
    saves_rule = "its input, frozen or not (PyTorch's one formula for all its gradients)"

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return weighted_backward(forward.macs, out, a["bias"], grads)


class ConvTranspose(LayerType):
    family = "conv"
    flops_rule = WEIGHTED_FLOPS

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.name = f"convtranspose{dims}d"
        self.doc = f"{dims}-d transposed convolution over {spatial_layout(dims)}"
        self.args = (
            Arg("out_channels", integer(lo=1), REQUIRED, "number of output channels", "int"),
            Arg("kernel_size", per_dim(), REQUIRED, "window size", "int | list"),
            Arg("stride", per_dim(), 1, "upsampling step", "int | list"),
            Arg("padding", per_dim(lo=0), 0, "removed from both sides of the output", "int | list"),
            Arg(
                "output_padding", per_dim(lo=0), 0, "added to one side of the output", "int | list"
            ),
            _DILATION,
            Arg("groups", integer(lo=1), 1, "blocked connections", "int"),
            BIAS,
            Arg("padding_mode", choice("zeros"), "zeros", "only zeros, as PyTorch", "str"),
            _IN_CHANNELS,
        )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        c_in, spatial, c_out, groups = _channels(self.dims, a, inputs)
        out = []
        for n, k, s, p, op, d in zip(
            spatial,
            a["kernel_size"],
            a["stride"],
            a["padding"],
            a["output_padding"],
            a["dilation"],
            strict=True,
        ):
            if op >= s and op >= d:
                raise fail(
                    f"output_padding {op} must be smaller than stride {s} or dilation {d}",
                    "output_padding",
                )
            size = arithmetic.conv_transpose_out(n, k, s, p, d, op)
            if size < 1:
                raise fail(
                    f"output size {size} is not positive: padding {p} removes more than"
                    f" the {size + 2 * p} the input {fmt(spatial)} expands to",
                    "padding",
                )
            out.append(size)
        weight = c_in * (c_out // groups) * math.prod(a["kernel_size"])
        return Result((c_out, *out), {"weight": weight, "bias": c_out if a["bias"] else 0})

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return tuple(
            Span.transposed(k, s, p, d)
            for k, s, p, d in zip(
                a["kernel_size"], a["stride"], a["padding"], a["dilation"], strict=True
            )
        )

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        c_in, spatial = inputs[0][0], inputs[0][1:]
        shape = per_dim_lines(
            [
                f"({n}−1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1 = {o}"
                for n, k, s, p, op, d, o in zip(
                    spatial,
                    a["kernel_size"],
                    a["stride"],
                    a["padding"],
                    a["output_padding"],
                    a["dilation"],
                    out[1:],
                    strict=True,
                )
            ]
        )
        taps = filter_taps(per_group(out[0], a["groups"]), a["kernel_size"], show)
        params = f"{c_in}·{taps}" + (f" + {out[0]}" if a["bias"] else "")
        return Explanation(shape, params, macs=f"{tensor_product(inputs[0], show)} · {taps}")

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        # Every *input* element is scattered through out_channels/groups × kernel taps; counting
        # on the output instead over-counts by stride² (4× for a DCGAN layer).
        macs = numel(inputs[0]) * (a["out_channels"] // a["groups"]) * math.prod(a["kernel_size"])
        return weighted_cost(macs, out, a["bias"])

    backward_rule = WEIGHTED_BACKWARD
    saves_rule = "its input, frozen or not (PyTorch's one formula for all its gradients)"

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return weighted_backward(forward.macs, out, a["bias"], grads)


register(*(Conv(d) for d in (1, 2, 3)), *(ConvTranspose(d) for d in (1, 2, 3)))
