"""Receptive-field rules: how a layer's output units see its input (spans, identity, global)."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

from cnncalc.arithmetic import Exact, exact_div

if TYPE_CHECKING:
    from fractions import Fraction

    from cnncalc.layers.tensors import Shape

FITTED_UNITS = 1 << 16  # past this many output units a side, a fitted window is bounded instead
FITTED_TOTAL = 1 << 18  # and past this many units fitted in one network (4 sides of 65,536)

Taps = Callable[[int], Iterable[int]]
Runs = Callable[[int, int], Sequence[range] | None]


class Span(NamedTuple):
    """How one spatial dimension of a layer's output sees the same dimension of its input.

    Output unit o sees input units inside the window [o·step − offset, o·step − offset + width]
    (in input units; fractions for upsampling layers), and exactly the units `taps(o)` —
    before clipping to the input's extent. `taps` returns a range or a short list, never a
    list whose length a spec writes. Where it is known in closed form, `runs(a, b)` gives
    every unit that outputs a … b read together, as a few ranges, so that a long stretch of
    units is traced without visiting each (None: not known for this stretch). `exact` is
    False where the window is only a bound (it holds every unit's taps, but a smaller one
    may too).
    """

    step: Exact
    offset: Exact
    width: Exact
    taps: Taps
    runs: Runs | None = None
    exact: bool = True
    # Where finding the smallest window costs a look at each of `fit_units` units, this span
    # is a bound and `fit()` gives the smallest; the receptive-field pass decides, within a
    # budget for the whole network, whether to pay for it.
    fit: Callable[[], Span] | None = None
    fit_units: int = 0

    @classmethod
    def window(cls, kernel: int, stride: int, pad_left: int, dilation: int = 1) -> Span:
        """A sliding window: convolution, pooling, padding (kernel 1)."""
        span = dilation * (kernel - 1)

        def taps(o: int) -> range:
            return range(o * stride - pad_left, o * stride - pad_left + span + 1, dilation)

        # Each unit's taps are one run and the next unit's touches or overlaps it; or, at
        # stride 1, a stretch of at least `dilation` units fills the gaps between the taps.
        solid = (dilation == 1 or kernel == 1) and stride <= (kernel if dilation == 1 else 1)

        def runs(a: int, b: int) -> Sequence[range] | None:
            if solid or (stride == 1 and b - a + 1 >= dilation):
                return (range(a * stride - pad_left, b * stride - pad_left + span + 1),)
            return None

        return cls(stride, pad_left, span, taps, runs)

    @classmethod
    def whole(cls, size: int) -> Span:
        """Every unit sees the whole dimension, wherever it stands (linear on the last
        dimension, softmax along one): step 0."""
        return cls(0, 0, size - 1, lambda o: range(size), lambda a, b: (range(size),))

    @classmethod
    def transposed(cls, kernel: int, stride: int, padding: int, dilation: int = 1) -> Span:
        """A transposed convolution: output o = i·stride − padding + j·dilation, 0 ≤ j < kernel.

        In closed form: j·dilation ≡ o + padding (mod stride) has a solution only where
        g = gcd(dilation, stride) divides o + padding, and then the j are j0, j0 + stride/g,
        ... below kernel, so the i form a range with step dilation/g.
        """
        span = dilation * (kernel - 1)
        g = math.gcd(dilation, stride)
        period, inverse = stride // g, pow(dilation // g, -1, stride // g)

        def taps(o: int) -> range:
            x = o + padding
            if x % g:
                return range(0)
            j0 = (x // g) * inverse % period
            if j0 >= kernel:
                return range(0)
            j1 = j0 + (kernel - 1 - j0) // period * period
            return range(
                (x - j1 * dilation) // stride, (x - j0 * dilation) // stride + 1, dilation // g
            )

        def runs(a: int, b: int) -> Sequence[range] | None:
            # One run where each unit's taps are one (dilation 1), or where, at stride 1, a
            # stretch of at least `dilation` units fills the gaps between them.
            if dilation == 1 or kernel == 1 or (stride == 1 and b - a + 1 >= dilation):
                return (range(-(-(a + padding - span) // stride), (b + padding) // stride + 1),)
            return None

        return cls(
            exact_div(1, stride),
            exact_div(span - padding, stride),
            exact_div(span, stride),
            taps,
            runs,
        )

    @classmethod
    def fitted(cls, step: Exact, taps: Callable[[int], Sequence[int]], units: int) -> Span:
        """The smallest window that moves by `step` and holds every one of the `units` units'
        taps, found by looking at each (at most FITTED_UNITS): for resampling, whose taps keep
        no fixed distance from o·step. Its `runs` joins a stretch of units whose taps are runs
        that follow each other without a gap (noted while looking)."""
        assert units <= FITTED_UNITS
        # In units of 1/den, so that the loop adds integers: centre o·step = o·num/den.
        num, den = (step, 1) if isinstance(step, int) else (step.numerator, step.denominator)
        before = after = None
        broken = array("q")  # o: its taps are not one run, or o + 1's do not join on
        last: tuple[int, int] | None = None
        for o in range(units):
            seen = taps(o)
            if seen:
                first, end = min(seen), max(seen)
                centre = o * num
                if before is None or after is None:
                    before, after = centre - first * den, end * den - centre
                else:
                    before = max(before, centre - first * den)
                    after = max(after, end * den - centre)
                joined = last is not None and last[0] <= first <= last[1] + 1 and last[1] <= end
                if (o and not joined) or (
                    not isinstance(seen, range) and end - first + 1 != len(set(seen))
                ):
                    broken.append(o)
                last = (first, end)
            else:
                broken.append(o)
                last = None

        def runs(a: int, b: int) -> Sequence[range] | None:
            # No break inside a … b (a's own join with a − 1 does not count).
            i = bisect_left(broken, a)
            if i < len(broken) and broken[i] == a and last_run(a):
                i += 1
            if i < len(broken) and broken[i] <= b:
                return None
            return (range(min(taps(a)), max(taps(b)) + 1),)

        def last_run(o: int) -> bool:  # o's taps are one run: only its join is broken
            seen = set(taps(o))
            return bool(seen) and max(seen) - min(seen) + 1 == len(seen)

        if before is None or after is None:
            return cls(step, 0, 0, taps, runs)
        return cls(step, exact_div(before, den), exact_div(before + after, den), taps, runs)

    @classmethod
    def resample(
        cls,
        factor: Fraction,
        taps: Taps,
        reach: Exact = 0,
        runs: Runs | None = None,
        exact: bool = False,
    ) -> Span:
        """Upsampling by `factor`: unit o reads near o / factor (±reach more for interpolation).

        Nearest neighbour reads ⌊o / factor⌋, which lies in [o/f − (N−1)/N, o/f] for
        factor = N/D in lowest terms. A bound unless the caller knows it is the smallest.
        """
        slack = exact_div(factor.numerator - 1, factor.numerator)
        return cls(
            exact_div(factor.denominator, factor.numerator),
            slack + reach,
            slack + 2 * reach,
            taps,
            runs,
            exact,
        )


IDENTITY: Literal["identity"] = "identity"  # each output unit sees the same unit of its input
GLOBAL: Literal["global"] = "global"  # each output unit sees the whole input
MERGE: Literal["merge"] = "merge"  # the union of the inputs' fields


@dataclass(frozen=True)
class Moved:
    """A layer that reorders axes (permute, transpose): output axis i is input axis
    `order[i]`, counted per sample from 0 (the channels of [C, H, W]). Each unit sees its
    own input unit; the spatial axes move, and the layers after them are followed there."""

    order: tuple[int, ...]


Rule = tuple[Span, ...] | Moved | Literal["identity", "global", "merge"]


def along(index: int, shape: Shape) -> Rule:
    """The rule of a layer that mixes values along dimension `index` of a batch-less shape
    (0 = channels) and nowhere else: each unit sees that whole dimension, its own place in the
    other spatial ones."""
    if index == 0:
        return IDENTITY
    return tuple(
        Span.whole(n) if d == index else Span.window(1, 1, 0)
        for d, n in enumerate(shape[1:], start=1)
    )


def adaptive_span(n: int, o: int) -> Span:
    """PyTorch's adaptive windows: unit i of n → o covers ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ − 1. When o
    divides n they are plain windows; else they differ in size and place, and the field is
    the smallest window that moves by n/o and holds them all, in closed form.

    With g = gcd(n, o), i·n mod o runs over every multiple of g below o, so a window starts
    at most (o − g)/o before i·n/o, and ends at most (o − g)/o + n/o − 1 after it.
    """
    if n % o == 0:
        return Span.window(n // o, n // o, 0)
    slack = exact_div(o - math.gcd(n, o), o)
    step = exact_div(n, o)

    def taps(i: int) -> range:
        return range(i * n // o, -(-(i + 1) * n // o))

    def runs(a: int, b: int) -> tuple[range]:  # neighbouring windows touch or overlap
        return (range(a * n // o, -(-(b + 1) * n // o)),)

    return Span(step, slack, 2 * slack + step - 1, taps, runs)
