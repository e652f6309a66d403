"""Sliding-window geometry that convolution and pooling share: padding, fit, sizes, formulas."""

from __future__ import annotations

from collections.abc import Sequence

from cnncalc import arithmetic
from cnncalc.layers.checks import fail
from cnncalc.layers.tensors import Shape

Pads = list[tuple[int, int]]  # (left, right) padding per spatial dimension


def window_pads(
    padding: Sequence[int] | str,
    spatial: Shape,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> Pads:
    """(left, right) padding per spatial dimension, resolving 'same' against the input size."""
    if isinstance(padding, str):  # 'same': the parser has turned 'valid' into zeros
        return [
            arithmetic.same_padding(n, k, s, d)
            for n, k, s, d in zip(spatial, kernel, stride, dilation, strict=True)
        ]
    return [(p, p) for p in padding]


def window_out(
    spatial: Shape,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    pads: Pads,
) -> tuple[int, ...]:
    """The output size per spatial dimension of a window that slides over padded input."""
    return tuple(
        arithmetic.conv_out(n, k, s, left, right, d)
        for n, k, s, d, (left, right) in zip(spatial, kernel, stride, dilation, pads, strict=True)
    )


def check_window(
    spatial: Shape, kernel: Sequence[int], dilation: Sequence[int], pads: Sequence[tuple[int, int]]
) -> None:
    """Fail when a (dilated) window does not fit into the padded input, naming the numbers."""
    for n, k, d, (left, right) in zip(spatial, kernel, dilation, pads, strict=True):
        span = arithmetic.effective_kernel(k, d)
        if span > n + left + right:
            what = (
                f"kernel_size {k}"
                if d == 1
                else f"dilated kernel {span} (kernel_size {k}, dilation {d})"
            )
            if left == right == 0:
                raise fail(f"{what} is larger than the input {n} (no padding)", "kernel_size")
            pad = f"{left}+{right}" if left != right else f"2×{left}"
            raise fail(
                f"{what} is larger than the padded input {n + left + right}"
                f" (input {n} + {pad} padding)",
                "kernel_size",
            )


def _pad_text(left: int, right: int) -> str:
    return f"2·{left}" if left == right else f"{left} + {right}"


def window_formula(
    n: int, k: int, s: int, d: int, left: int, right: int, out: int, ceil: bool = False
) -> str:
    """⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64, with PyTorch's ceil-mode correction."""
    lo, hi = ("⌈", "⌉") if ceil else ("⌊", "⌋")
    text = f"{lo}({n} + {_pad_text(left, right)} − {d}·({k}−1) − 1) / {s}{hi} + 1"
    raw = -(-(n + left + right - d * (k - 1) - 1) // s) + 1 if ceil else out
    # 'same' pads unevenly: say which side has which, since 0 + 1 reads like a typo.
    uneven = f"     (padding {left} before, {right} after)" if left != right else ""
    if raw != out:  # the last window would start in the right padding: PyTorch drops it
        return f"{text} − 1 = {out}{uneven}     (the last window would start in the padding)"
    return f"{text} = {out}{uneven}"
