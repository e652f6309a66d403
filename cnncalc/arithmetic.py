"""Pure formulas for output sizes, one spatial dimension at a time (PyTorch's definitions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from fractions import Fraction

# An exact number: an int where it is whole (the common case, and fast), else a Fraction.
Exact = Union[int, "Fraction"]


def effective_kernel(kernel: int, dilation: int) -> int:
    """The span of a dilated kernel: d·(k−1)+1."""
    return dilation * (kernel - 1) + 1


def conv_out(
    size: int, kernel: int, stride: int, pad_left: int, pad_right: int, dilation: int = 1
) -> int:
    """Convolution output size: ⌊(in + pads − d·(k−1) − 1) / s⌋ + 1."""
    return (size + pad_left + pad_right - effective_kernel(kernel, dilation)) // stride + 1


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding: output ⌈in/s⌉, the odd pixel of padding on the right."""
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return total // 2, total - total // 2


def pool_out(
    size: int, kernel: int, stride: int, pad: int, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """Pooling output size, PyTorch's rule.

    With ceil_mode the division rounds up, but a last window that would start in the right
    padding (at or past in + left padding) is dropped.
    """
    span = size + 2 * pad - effective_kernel(kernel, dilation)
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def conv_transpose_out(
    size: int, kernel: int, stride: int, pad: int, dilation: int = 1, output_padding: int = 0
) -> int:
    """Transposed convolution output size: (in−1)·s − 2p + d·(k−1) + output_padding + 1."""
    return (size - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1


def fraction_text(x: Exact) -> str:
    """An exact number as people write it: 3, -1/2, 7/4."""
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def exact_div(a: Exact, b: Exact) -> Exact:
    """a / b without rounding: an int when it divides, else a Fraction (imported only then)."""
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    from fractions import Fraction

    q = Fraction(a) / b
    return q.numerator if q.denominator == 1 else q
