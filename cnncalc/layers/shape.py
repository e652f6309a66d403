"""Layers that only move elements around: flatten, reshape, padding, upsampling, pixel shuffle."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from cnncalc.arithmetic import exact_div
from cnncalc.errors import Display, shown
from cnncalc.layers.args import REQUIRED, Arg, anything, choice, int_list, integer, number, optional
from cnncalc.layers.base import LayerType, Result, Saved
from cnncalc.layers.checks import expect_rank, fail, resolve_dim, several
from cnncalc.layers.costs import Cost, Grads, adaptive_reads
from cnncalc.layers.formulas import Explanation, per_dim_lines, product
from cnncalc.layers.registry import register
from cnncalc.layers.spans import FITTED_UNITS, IDENTITY, Rule, Span, adaptive_span
from cnncalc.layers.tensors import Shape, numel, spatial_layout, tensor


class Flatten(LayerType):
    name = "flatten"
    family = "shape"
    doc = "merges dimensions start_dim..end_dim into one (PyTorch numbering, 0 = batch)"
    view = True
    args = (
        Arg("start_dim", integer(), 1, "first dimension merged", "int"),
        Arg("end_dim", integer(), -1, "last dimension merged", "int"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if not shape:
            return Result(shape)
        start = resolve_dim(a["start_dim"], len(shape), "start_dim")
        end = resolve_dim(a["end_dim"], len(shape), "end_dim")
        if start > end:
            raise fail(
                f"start_dim {a['start_dim']} comes after end_dim {a['end_dim']}", "start_dim"
            )
        return Result((*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :]))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (shape,) = inputs
        if not shape:
            return Explanation()
        start = resolve_dim(a["start_dim"], len(shape), "start_dim")
        end = resolve_dim(a["end_dim"], len(shape), "end_dim")
        return Explanation((f"{product(shape[start : end + 1])} = {out[start]}",))


def _fill_wildcard(sizes: Sequence[int], total: int, arg: str) -> tuple[int, ...]:
    """Replace one -1 so the sizes multiply to `total`, or fail naming the sizes."""
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if total % known:
            raise fail(f"{arg} {list(sizes)} cannot hold {several(total, 'element')}", arg)
        return tuple(total // known if s == -1 else s for s in sizes)
    if known != total:
        raise fail(
            f"{arg} {list(sizes)} holds {several(known, 'element')}, the input has {total}", arg
        )
    return tuple(sizes)


class Unflatten(LayerType):
    name = "unflatten"
    family = "shape"
    doc = "splits dimension dim into unflattened_size (PyTorch numbering)"
    view = True
    args = (
        Arg("dim", integer(), REQUIRED, "dimension split", "int"),
        Arg("unflattened_size", int_list(wildcard=True), REQUIRED, "the new sizes", "list"),
    )

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        i = resolve_dim(a["dim"], len(shape), "dim")
        sizes = _fill_wildcard(a["unflattened_size"], shape[i], "unflattened_size")
        return Result((*shape[:i], *sizes, *shape[i + 1 :]))


class Reshape(LayerType):
    name = "reshape"
    family = "shape"
    doc = "any shape with the same number of elements (without the batch; one -1 allowed)"
    view = True
    args = (Arg("shape", int_list(wildcard=True), REQUIRED, "the new shape", "list"),)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        return Result(_fill_wildcard(a["shape"], math.prod(shape), "shape"))


class Pad(LayerType):
    """ZeroPadNd, ConstantPadNd, ReflectionPadNd, ReplicationPadNd, CircularPadNd."""

    family = "shape"

    def __init__(self, kind: str, dims: int) -> None:
        self.kind = kind
        self.dims = dims
        self.name = f"{kind}pad{dims}d"
        order = ["left, right", "top, bottom", "front, back"][:dims]
        self.doc = (
            f"{kind} padding of {spatial_layout(dims)}; padding is an int or"
            f" [{', '.join(order)}] (last dimension first, as PyTorch)"
        )
        args = [
            Arg(
                "padding",
                _pad_parser(),
                REQUIRED,
                "sizes; negative crops (zero/constant)",
                "int | list",
            )
        ]
        if kind == "constant":
            args.append(Arg("value", number(), REQUIRED, "the fill value", "float"))
        self.args = tuple(args)

    @property
    def saves_rule(self) -> str:  # type: ignore[override]
        if self.kind in ("reflection", "replication"):
            return "its input"
        return "nothing (backward slices the gradient)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return (Saved("input"),) if self.kind in ("reflection", "replication") else ()

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        expect_rank(shape, self.dims + 1, spatial_layout(self.dims))
        pads = a["padding"]
        if len(pads) == 1:
            pads = pads * (2 * self.dims)
        if len(pads) != 2 * self.dims:
            raise fail(f"padding needs 1 or {2 * self.dims} values, got {len(pads)}", "padding")
        out = list(shape)
        for j in range(self.dims):  # pads run from the last dimension backwards
            left, right = pads[2 * j], pads[2 * j + 1]
            i = len(shape) - 1 - j
            n = shape[i]
            # PyTorch's rules: zero/constant padding crops first, so negative pads may not
            # remove more than the input; reflection mirrors at most n − 1 values; circular
            # wraps once (and cnncalc does not accept it negative).
            if self.kind in ("zero", "constant") and n + min(left, 0) + min(right, 0) < 0:
                raise fail(f"padding {left}, {right} crops more than the input size {n}", "padding")
            if self.kind == "reflection" and max(left, right) >= n:
                raise fail(
                    f"reflection padding {max(left, right)} must be smaller than the"
                    f" input size {n}",
                    "padding",
                )
            if self.kind == "circular" and min(left, right) < 0:
                raise fail("circular padding cannot be negative", "padding")
            if self.kind == "circular" and max(left, right) > n:
                raise fail(
                    f"circular padding {max(left, right)} must not exceed the input size {n}",
                    "padding",
                )
            out[i] = shape[i] + left + right
            if out[i] < 1:
                raise fail(
                    f"padding {left}, {right} crops a size-{shape[i]} dimension to {out[i]}",
                    "padding",
                )
        return Result(tuple(out))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        pads = a["padding"] * (2 * self.dims) if len(a["padding"]) == 1 else a["padding"]
        lines = []
        for i in range(self.dims):  # first spatial dimension first; pads run last-first
            j = self.dims - 1 - i
            n = inputs[0][1 + i]
            lines.append(f"{n} + {pads[2 * j]} + {pads[2 * j + 1]} = {out[1 + i]}")
        return Explanation(per_dim_lines(lines))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        pads = a["padding"] * (2 * self.dims) if len(a["padding"]) == 1 else a["padding"]
        lefts = [pads[2 * j] for j in reversed(range(self.dims))]  # back to first-dim order
        # Reflection, replication and circular padding copy input values into the border, so
        # a border unit sees an input unit elsewhere; its window is still the unit it extends.
        return tuple(Span.window(1, 1, left) for left in lefts)


def _pad_parser() -> Any:
    def parse(v: Any, dims: int) -> tuple[int, ...]:
        values = v if isinstance(v, list) else [v]
        for x in values:
            if isinstance(x, bool) or not isinstance(x, int):
                raise fail(f"must be an integer or a list of {2 * dims}, got {shown(x)}")
        return tuple(values)

    return parse


class Upsample(LayerType):
    name = "upsample"
    family = "shape"
    doc = (
        "resize the spatial dimensions by size or scale_factor, or to a second input's"
        " spatial size (from: [x, like])"
    )
    max_inputs = 2  # the second input only lends its spatial size (FPN, U-Net)
    flops_rule = (
        "nearest 0; linear modes 2 per neighbour read, 2^d of them, per output"
        " element, bicubic 2·4^d; area as adaptive average pooling"
    )
    args = (
        Arg(
            "size",
            optional(int_list()),
            None,
            "output size (one value, or one per dim)",
            "int | list",
        ),
        Arg(
            "scale_factor",
            optional(anything()),
            None,
            "multiplier (one, or one per dim)",
            "float | list",
        ),
        Arg(
            "mode",
            choice(
                "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"
            ),
            "nearest",
            "nearest, nearest-exact, linear (1-d), bilinear or bicubic (2-d), trilinear (3-d),"
            " area; sets FLOPs and the receptive field",
            "str",
        ),
        Arg(
            "align_corners",
            optional(anything()),
            None,
            "interpolating modes only; moves the receptive field",
            "bool",
        ),
        Arg("recompute_scale_factor", optional(anything()), None, "no effect on counts", "bool"),
    )

    saves_rule = "nothing (backward only moves values back)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return ()

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        shape = inputs[0]
        mode = a["mode"]
        if not 2 <= len(shape) <= 4:
            raise fail(
                lambda show: (
                    f"expects an input [C, L], [C, H, W] or [C, D, H, W], got {tensor(shape, show)}"
                )
            )
        needs = _MODE_RANK.get(mode)
        if needs is not None and len(shape) != needs[0]:
            raise fail(
                lambda show: f"mode '{mode}' needs an input {needs[1]}, got {tensor(shape, show)}",
                "mode",
            )
        if a["align_corners"] is not None and mode in ("nearest", "nearest-exact", "area"):
            raise fail(
                f"align_corners only applies to the interpolating modes, not '{mode}'",
                "align_corners",
            )
        spatial = shape[1:]
        size, scale = a["size"], a["scale_factor"]
        if len(inputs) == 2:
            return Result((shape[0], *_like(a, shape, inputs[1])))
        if (size is None) == (scale is None):
            raise fail(
                "give exactly one of size and scale_factor", "size" if size is not None else None
            )
        if size is not None and a["recompute_scale_factor"]:
            raise fail(
                "recompute_scale_factor goes with scale_factor, not size", "recompute_scale_factor"
            )
        if size is not None:
            return Result((shape[0], *_per_dim(size, len(spatial), "size")))
        factors = _per_dim(
            scale if isinstance(scale, list) else [scale], len(spatial), "scale_factor"
        )
        out = []
        for n, f in zip(spatial, factors, strict=True):
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 1e6:
                raise fail(
                    f"scale_factor must be a positive number, got {shown(f)}", "scale_factor"
                )
            # PyTorch computes ⌊in · scale⌋ in double precision; so do we, to agree exactly.
            size_out = math.floor(n * float(f))
            if size_out < 1:
                raise fail(f"scale_factor {f} shrinks size {n} to nothing", "scale_factor")
            out.append(size_out)
        return Result((shape[0], *out))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        if len(inputs) == 2:
            return Explanation(per_dim_lines([f"{o} (the second input's)" for o in out[1:]]))
        if a["size"] is not None:
            return Explanation(per_dim_lines([f"{o} (size)" for o in out[1:]]))
        scales = a["scale_factor"]
        scales = scales if isinstance(scales, list) else [scales] * (len(out) - 1)
        return Explanation(
            per_dim_lines(
                [f"⌊{n}·{f}⌋ = {o}" for n, f, o in zip(inputs[0][1:], scales, out[1:], strict=True)]
            )
        )

    def flops_applied(self, a: Mapping[str, Any]) -> str:
        mode = a["mode"]
        if mode.startswith("nearest"):
            return "0: a copy"
        if mode == "area":
            return "as adaptive average pooling: window elements per output element"
        reads = _neighbour_reads(mode, _MODE_RANK[mode][0] - 1)
        return f"2 per neighbour read, {reads} of them, per output element"

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        mode = a["mode"]
        if mode == "area":
            return Cost(0, out[0] * adaptive_reads(inputs[0][1:], out[1:]))
        return Cost(0, 2 * _neighbour_reads(mode, len(out) - 1) * numel(out))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        from fractions import Fraction

        spatial = inputs[0][1:]
        scales = a["scale_factor"]
        if scales is not None:
            scales = _per_dim(
                scales if isinstance(scales, list) else [scales], len(spatial), "scale_factor"
            )
        spans: list[Span] = []
        for i, (n, m) in enumerate(zip(spatial, out[1:], strict=True)):
            scale = None if scales is None else float(scales[i])
            mode = a["mode"]
            if mode == "area":  # adaptive average pooling, exact in closed form
                spans.append(adaptive_span(n, m))
                continue
            if mode in ("nearest", "nearest-exact"):
                factor = Fraction(str(scale)) if scale else Fraction(m, n)
                reach = Fraction(1, 2) if mode == "nearest-exact" else Fraction(0)
                taps = _nearest_taps(n, m, scale, mode)
            else:
                corners = bool(a["align_corners"])
                factor = (
                    Fraction(m - 1, n - 1)
                    if corners and n > 1 and m > 1
                    else Fraction(str(scale))
                    if scale
                    else Fraction(m, n)
                )
                reach = Fraction(5, 2) if mode == "bicubic" else Fraction(3, 2)
                taps = _linear_taps(n, m, scale, corners, mode == "bicubic")
            # The window that fits every unit's taps, found by looking at each of the m (a
            # cost the receptive-field pass budgets, see Span.fit); until then, and past
            # FITTED_UNITS, a bound of the same step (interpolation reads within `reach`).
            bound = Span.resample(factor, taps, reach)
            if m <= FITTED_UNITS:
                step = exact_div(factor.denominator, factor.numerator)
                bound = bound._replace(fit=partial(Span.fitted, step, taps, m), fit_units=m)
            spans.append(bound)
        return tuple(spans)


def _like(a: Mapping[str, Any], shape: Shape, like: Shape) -> Shape:
    """The spatial size a second input lends (F.interpolate(x, size=like.shape[2:]))."""
    given = next((k for k in ("size", "scale_factor") if a[k] is not None), None)
    if given is not None:
        raise fail(f"with a second input the output takes its spatial size: give no {given}", given)
    if a["recompute_scale_factor"]:
        raise fail(
            "recompute_scale_factor goes with scale_factor, not a second input",
            "recompute_scale_factor",
        )
    if len(like) != len(shape):
        raise fail(
            lambda show: (
                f"the second input {tensor(like, show)} ({len(like)}-d) must have the rank of"
                f" the first, {tensor(shape, show)} ({len(shape)}-d), to lend its spatial size"
            )
        )
    return like[1:]


_MODE_RANK = {
    "linear": (2, "[C, L]"),
    "bilinear": (3, "[C, H, W]"),
    "bicubic": (3, "[C, H, W]"),
    "trilinear": (4, "[C, D, H, W]"),
}


def _neighbour_reads(mode: str, dims: int) -> int:
    """Input values one output value of a d-dimensional upsample interpolates."""
    return 0 if mode.startswith("nearest") else 4**dims if mode == "bicubic" else 2**dims


def _f32(x: float) -> float:
    """Round to single precision, as PyTorch's upsampling kernels compute source indices."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _source_scale(n: int, m: int, scale: float | None) -> float:
    return _f32(1.0 / scale) if scale else _f32(n / m)


def _nearest_taps(n: int, m: int, scale: float | None, mode: str) -> Callable[[int], Sequence[int]]:
    """The input unit each output unit copies, computed the way PyTorch computes it."""
    s = _source_scale(n, m, scale)

    def taps(o: int) -> Sequence[int]:
        if mode == "nearest-exact":
            return [min(math.floor(_f32((o + 0.5) * s)), n - 1)]
        if m == n:
            return [o]
        if m == 2 * n:
            return [o >> 1]
        return [min(math.floor(_f32(o * s)), n - 1)]

    return taps


def _linear_taps(
    n: int, m: int, scale: float | None, corners: bool, cubic: bool
) -> Callable[[int], Sequence[int]]:
    """The input units an interpolating upsample reads for each output unit (a superset for
    bicubic, whose outer taps can carry zero weight)."""
    s = _f32((n - 1) / (m - 1) if m > 1 else 0.0) if corners else _source_scale(n, m, scale)

    def taps(o: int) -> Sequence[int]:
        # In float32, rounded once (PyTorch's kernels fuse the multiply and the subtraction):
        # at ×3, unit 1 reads 1.5·fl32(1/3) − 0.5 = 1.5e-8, a second pixel with a tiny weight.
        src = (
            _f32(o * s) if corners else max(_f32((o + 0.5) * s - 0.5), -math.inf if cubic else 0.0)
        )
        i0 = math.floor(src)
        if cubic:
            return sorted({min(max(i, 0), n - 1) for i in range(i0 - 1, i0 + 3)})
        i1 = min(i0 + 1, n - 1)
        return [i0] if i1 == i0 or src == i0 else [i0, i1]

    return taps


def _per_dim(values: Sequence[Any], dims: int, arg: str) -> Sequence[Any]:
    if len(values) == 1:
        return list(values) * dims
    if len(values) != dims:
        raise fail(f"{arg} needs 1 or {dims} values for this input, got {len(values)}", arg)
    return values


class PixelShuffle(LayerType):
    family = "shape"

    def __init__(self, inverse: bool) -> None:
        self.inverse = inverse
        self.arg_name = "downscale_factor" if inverse else "upscale_factor"
        self.name = "pixelunshuffle" if inverse else "pixelshuffle"
        self.doc = (
            "[C, H·r, W·r] → [C·r², H, W]"
            if inverse
            else "[C·r², H, W] → [C, H·r, W·r] (sub-pixel convolution)"
        )
        self.args = (Arg(self.arg_name, integer(lo=1), REQUIRED, "the factor r", "int"),)

    saves_rule = "nothing (backward only moves values back)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return ()

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        expect_rank(shape, 3, "[C, H, W]")
        r = a[self.arg_name]
        c, h, w = shape
        if not self.inverse:
            if c % (r * r):
                raise fail(
                    f"channels {c} are not divisible by upscale_factor² = {r * r}", self.arg_name
                )
            return Result((c // (r * r), h * r, w * r))
        if h % r or w % r:
            raise fail(
                f"height {h} and width {w} must be divisible by downscale_factor {r}", self.arg_name
            )
        return Result((c * r * r, h // r, w // r))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (c, h, w), r = inputs[0], a[self.arg_name]
        if self.inverse:
            return Explanation(
                (
                    f"C_out = {c}·{r}² = {out[0]}",
                    *per_dim_lines(
                        [f"{n} / {r} = {o}" for n, o in zip((h, w), out[1:], strict=True)]
                    ),
                )
            )
        return Explanation(
            (
                f"C_out = {c} / {r}² = {out[0]}",
                *per_dim_lines([f"{n}·{r} = {o}" for n, o in zip((h, w), out[1:], strict=True)]),
            )
        )

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        from fractions import Fraction

        r = a[self.arg_name]
        if self.inverse:
            return (Span.window(r, r, 0),) * 2
        # Unit o reads o // r: the window [o/r − (r−1)/r, o/r] is the smallest that holds it.
        return (
            Span.resample(
                Fraction(r),
                lambda o: [o // r],
                runs=lambda a, b: (range(a // r, b // r + 1),),
                exact=True,
            ),
        ) * 2


class ChannelShuffle(LayerType):
    name = "channelshuffle"
    family = "shape"
    doc = "interleaves channel groups (ShuffleNet)"
    args = (Arg("groups", integer(lo=1), REQUIRED, "number of groups", "int"),)

    saves_rule = "nothing (backward only moves values back)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return ()

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        if len(shape) < 2:
            raise fail(
                lambda show: (
                    "expects an input [C, ...] with at least 2 dimensions,"
                    f" got {tensor(shape, show)}"
                )
            )
        if shape[0] % a["groups"]:
            raise fail(
                lambda show: (
                    f"channels of {tensor(shape, show)} are not divisible by groups {a['groups']}"
                ),
                "groups",
            )
        return Result(shape)

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        return IDENTITY


register(
    Flatten(),
    Unflatten(),
    Reshape(),
    *(
        Pad(kind, d)
        for kind in ("zero", "constant", "reflection", "replication", "circular")
        for d in (1, 2, 3)
    ),
    Upsample(),
    PixelShuffle(False),
    PixelShuffle(True),
    ChannelShuffle(),
)
