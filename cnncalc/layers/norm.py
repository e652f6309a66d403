"""Normalization layers: batch, instance, group and layer norm (also over the channels of
[C, H, W], torchvision's LayerNorm2d), and local response norm."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cnncalc.errors import Display
from cnncalc.layers.args import (
    EPS,
    MOMENTUM,
    REQUIRED,
    Arg,
    boolean,
    inferred_size,
    int_list,
    integer,
    number,
    optional,
)
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import check_given, fail, several
from cnncalc.layers.costs import Cost, Grads
from cnncalc.layers.formulas import Explanation
from cnncalc.layers.registry import register
from cnncalc.layers.spans import IDENTITY, Rule
from cnncalc.layers.tensors import Shape, fmt, in_pytorch_order, numel, tensor

# BatchNorm1d takes [C] or [C, L]; the others exactly [C, *spatial].
_BN_RANKS = {1: ((1, 2), "[C] or [C, L]"), 2: ((3,), "[C, H, W]"), 3: ((4,), "[C, D, H, W]")}
_IN_RANKS = {1: ((2,), "[C, L]"), 2: ((3,), "[C, H, W]"), 3: ((4,), "[C, D, H, W]")}


def _check_rank(shape: Shape, ranks: tuple[tuple[int, ...], str]) -> None:
    allowed, layout = ranks
    if len(shape) not in allowed:
        raise fail(
            lambda show: (
                f"expects an input {layout} (without the batch),"
                f" got {tensor(shape, show)} ({len(shape)}-d)"
            )
        )


def _order(shape: Shape, show: Display) -> str:
    """' (4×8×8 in PyTorch's channels-first order)' where `show` writes the shape otherwise."""
    order = in_pytorch_order(shape, show)
    return f" ({order})" if order else ""


def _stat_buffers(channels: int, tracked: bool) -> dict[str, int]:
    # PyTorch also keeps a one-element int64 `num_batches_tracked` step counter per layer; it is
    # not a statistic and, like Keras, cnncalc does not count it.
    return {"running_mean": channels, "running_var": channels} if tracked else {}


def _affine(channels: int, on: bool) -> dict[str, int]:
    return {"weight": channels, "bias": channels} if on else {}


class _Pointwise(LayerType):
    """Normalization is treated as pointwise for receptive fields: the statistics it divides by
    (running ones at inference; per-sample ones for instance, group and layer norm) are not
    counted as part of the field, as in Araujo et al. (2019)."""

    flops_rule = (
        "5 per element: mean 1, variance 2, normalize 2; + 1 for a scale, + 1 for a"
        " shift; 2 when running statistics are tracked and so used at inference"
    )

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return IDENTITY

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        c = out[0] if out else 0
        affine = a.get("affine", a.get("elementwise_affine", False))
        tracked = a.get("track_running_stats", False)
        return Explanation(
            params=f"2·{c}" if affine else None,
            buffers=f"2·{c}" if tracked else None,
            params_note="γ and β: a scale and a shift per channel",
            buffers_note="running mean and variance per channel",
        )

    def flops_applied(self, a: Mapping[str, Any]) -> str:
        per_element = _per_element(a)
        if per_element is None:
            return "2 per element: the running statistics and affine fold into a scale and shift"
        extra = {0: "", 1: "; + 1 for the scale", 2: "; + 1 for the scale, + 1 for the shift"}
        return f"5 per element: mean 1, variance 2, normalize 2{extra[per_element - 5]}"

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        per_element = _per_element(a)
        return Cost(0, numel(out) * (2 if per_element is None else per_element))

    backward_rule = (
        "as many FLOPs as a forward with batch statistics: 5 per element, + 1 for a scale,"
        " + 1 for a shift"
    )

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        if not grads.any:
            return Cost()
        return Cost(0, numel(out) * (_per_element({**a, "track_running_stats": False}) or 5))

    saves_rule = "its input, and a mean and an inverse deviation per statistic (float32)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        """The input (the one storage that scales) and the statistics the kernel computed."""
        return (Saved("input"), self.stats(a, inputs[0]))

    def stats(self, a: Mapping[str, Any], shape: Shape) -> Saved:
        """The saved mean and inverse deviation: two per normalized group, per sample."""
        raise NotImplementedError


def _per_element(a: Mapping[str, Any]) -> int | None:
    """FLOPs per element when statistics are computed at inference: 5 (mean 1, variance 2,
    normalize 2), + 1 for a scale and + 1 for a shift (layernorm's bias: false has none).
    None when tracked running statistics fold, with the affine, into one scale and shift."""
    if a.get("track_running_stats"):
        return None
    scale = bool(a.get("affine", a.get("elementwise_affine", False)))
    shift = scale and a.get("bias", True) is not False
    return 5 + scale + shift


class BatchNorm(_Pointwise):
    family = "norm"
    # Training divides by the batch variance + eps: PyTorch refuses eps 0 there.
    positive_eps = Arg(
        "eps", number(lo=1e-300), 1e-5, "added to the variance; must be > 0", "float"
    )
    # At inference the running statistics fold into one scale and one shift per channel.
    flops_rule = (
        "2 per element: running statistics and affine fold into one scale and"
        " shift; without running statistics, 5 + 2 with affine, as instance norm"
    )

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.name = f"batchnorm{dims}d"
        self.doc = f"batch normalization over the channels of {_BN_RANKS[dims][1]}"
        self.args = (
            self.positive_eps,
            MOMENTUM,
            Arg("affine", boolean(), True, "learn a scale γ and shift β per channel", "bool"),
            Arg(
                "track_running_stats",
                boolean(),
                True,
                "keep running mean and variance (buffers)",
                "bool",
            ),
            inferred_size("num_features"),
        )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        _check_rank(shape, _BN_RANKS[self.dims])
        c = shape[0]
        check_given(a, "num_features", c, "channel")
        return Result(shape, _affine(c, a["affine"]), _stat_buffers(c, a["track_running_stats"]))

    saves_rule = (
        "its input, and the batch's mean and inverse deviation per channel (2·C float32,"
        " whatever the batch)"
    )

    def stats(self, a: Mapping[str, Any], shape: Shape) -> Saved:
        return Saved("stats", fixed=2 * shape[0])


class InstanceNorm(_Pointwise):
    family = "norm"

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.name = f"instancenorm{dims}d"
        self.doc = f"instance normalization of {_IN_RANKS[dims][1]}"
        self.args = (
            EPS,
            MOMENTUM,
            Arg("affine", boolean(), False, "learn a scale and shift per channel", "bool"),
            Arg("track_running_stats", boolean(), False, "keep running statistics", "bool"),
            inferred_size("num_features"),
        )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        _check_rank(shape, _IN_RANKS[self.dims])
        c = shape[0]
        check_given(a, "num_features", c, "channel")
        if math.prod(shape[1:]) == 1:
            raise fail(
                f"normalizes each channel over its {fmt(shape[1:])} spatial elements;"
                " PyTorch needs more than 1"
            )
        return Result(shape, _affine(c, a["affine"]), _stat_buffers(c, a["track_running_stats"]))

    saves_rule = "its input, and a mean and inverse deviation per channel of each sample (2·C)"

    def stats(self, a: Mapping[str, Any], shape: Shape) -> Saved:
        return Saved("stats", elements=2 * shape[0])


class GroupNorm(_Pointwise):
    name = "groupnorm"
    family = "norm"
    doc = "group normalization: channels split into num_groups groups"
    args = (
        Arg("num_groups", integer(lo=1), REQUIRED, "groups the channels are split into", "int"),
        EPS,
        Arg("affine", boolean(), True, "learn a scale and shift per channel", "bool"),
        inferred_size("num_channels"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if not shape:
            raise fail("expects an input with a channel dimension")
        c = shape[0]
        check_given(a, "num_channels", c, "channel")
        if c % a["num_groups"]:
            raise fail(
                f"{several(c, 'channel')} {'is' if c == 1 else 'are'} not divisible by"
                f" num_groups {a['num_groups']}",
                "num_groups",
            )
        return Result(shape, _affine(c, a["affine"]))

    saves_rule = "its input, and a mean and inverse deviation per group of each sample (2·G)"

    def stats(self, a: Mapping[str, Any], shape: Shape) -> Saved:
        return Saved("stats", elements=2 * a["num_groups"])


class LayerNorm(_Pointwise):
    name = "layernorm"
    family = "norm"
    doc = "layer normalization over the trailing dimensions"
    args = (
        Arg(
            "normalized_shape",
            optional(int_list()),
            None,
            "trailing dimensions normalized over (default: the last one); checked",
            "int | list",
        ),
        EPS,
        Arg("elementwise_affine", boolean(), True, "learn a scale (and shift) per element", "bool"),
        Arg("bias", boolean(), True, "learn the shift too", "bool"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if not shape:
            raise fail("expects an input with at least one dimension")
        norm = a["normalized_shape"] or shape[-1:]
        if len(norm) > len(shape) or tuple(shape[len(shape) - len(norm) :]) != tuple(norm):
            raise fail(
                lambda show: (
                    f"normalized_shape {fmt(norm)} does not match the trailing"
                    f" dimensions of the input {tensor(shape, show)}{_order(shape, show)}"
                ),
                "normalized_shape",
            )
        n = math.prod(norm)
        params = {}
        if a["elementwise_affine"]:
            params = {"weight": n, "bias": n if a["bias"] else 0}
        return Result(shape, params)

    saves_rule = "its input, and a mean and inverse deviation per normalized vector (2 each)"

    def stats(self, a: Mapping[str, Any], shape: Shape) -> Saved:
        norm = a["normalized_shape"] or shape[-1:]
        return Saved("stats", elements=2 * (numel(shape) // math.prod(norm)))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        norm = a["normalized_shape"] or out[-1:]
        n = "·".join(map(str, norm))
        if not a["elementwise_affine"]:
            return Explanation()
        if a["bias"]:
            return Explanation(params=f"2·{n}", params_note="γ and β per normalized element")
        return Explanation(params=n, params_note="γ per normalized element")


class LayerNorm2d(_Pointwise):
    """torchvision's LayerNorm2d (ConvNeXt): nn.LayerNorm over the channels of [C, H, W],
    applied at every place (torchvision permutes to channels last and back)."""

    name = "layernorm2d"
    family = "norm"
    doc = "torchvision's LayerNorm2d: layer normalization over the channels of [C, H, W]"
    args = (
        inferred_size("num_channels"),
        EPS,
        Arg("elementwise_affine", boolean(), True, "learn a scale (and shift) per channel", "bool"),
        Arg("bias", boolean(), True, "learn the shift too", "bool"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        _check_rank(shape, ((3,), "[C, H, W]"))
        c = shape[0]
        check_given(a, "num_channels", c, "channel")
        params = {}
        if a["elementwise_affine"]:
            params = {"weight": c, "bias": c if a["bias"] else 0}
        return Result(shape, params)

    saves_rule = "its input, and a mean and inverse deviation per place (2·H·W)"

    def stats(self, a: Mapping[str, Any], shape: Shape) -> Saved:
        return Saved("stats", elements=2 * math.prod(shape[1:]))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        c = out[0]
        if not a["elementwise_affine"]:
            return Explanation()
        if a["bias"]:
            return Explanation(params=f"2·{c}", params_note="γ and β per channel")
        return Explanation(params=str(c), params_note="γ per channel")


class LocalResponseNorm(_Pointwise):
    name = "localresponsenorm"
    family = "norm"
    doc = "local response normalization across neighbouring channels (AlexNet's original)"
    args = (
        Arg("size", integer(lo=1), REQUIRED, "neighbouring channels used", "int"),
        Arg("alpha", number(), 1e-4, "no effect on counts", "float"),
        Arg("beta", number(), 0.75, "no effect on counts", "float"),
        Arg("k", number(), 1.0, "no effect on counts", "float"),
    )

    flops_rule = "2·size + 3 per element: squares and a sum over size channels, a scale, a power"

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if len(shape) < 2:
            raise fail(
                lambda show: (
                    f"expects an input [C, ...] with at least 2 dims, got {tensor(shape, show)}"
                )
            )
        return Result(shape)

    def flops_applied(self, a: Mapping[str, Any]) -> str:
        return self.flops_rule

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        return Cost(0, numel(out) * (2 * a["size"] + 3))

    backward_rule = "as many FLOPs as forward"

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return Cost(0, forward.flops) if any(grads.inputs) else Cost()

    saves_rule = (
        "its input; the squares padded across channels, (C + size − 1)·H·W; and two new"
        " tensors of its size (PyTorch computes it from pad, avg_pool, pow and div)"
    )

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        shape = inputs[0]
        padded = (shape[0] + a["size"] - 1) * math.prod(shape[1:])
        n = numel(shape)
        return (Saved("input"), Saved("other", elements=padded + 2 * n))


register(
    *(BatchNorm(d) for d in (1, 2, 3)),
    *(InstanceNorm(d) for d in (1, 2, 3)),
    GroupNorm(),
    LayerNorm(),
    LayerNorm2d(),
    LocalResponseNorm(),
)
