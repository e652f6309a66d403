"""What every layer type is: a descriptor with arguments, a shape rule and parameter counts."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from cnncalc.arithmetic import Exact, exact_div

if TYPE_CHECKING:
    from fractions import Fraction

from cnncalc.errors import LayerError, shown
from cnncalc.notation import SPATIAL_AXES
from cnncalc.notation import shape as fmt

Shape = tuple[int, ...]
EMPTY: Mapping[str, int] = MappingProxyType({})  # a shared default no one can change
Parser = Callable[[Any, int], Any]  # (raw value, spatial dims of the layer) -> normalized value


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


class Arg(NamedTuple):
    """One keyword argument of a layer type."""

    name: str
    parse: Parser
    default: Any = REQUIRED
    help: str = ""
    kind: str = ""  # how the value is written, for `cnncalc layers`
    inferred: bool = False  # a size the input implies (in_channels): writing it only checks


def inferred_size(name: str) -> Arg:
    """in_channels, in_features, num_features: read from the input, checked when written."""
    return Arg(
        name, optional(integer(lo=1)), None, "inferred; checked when given", "int", inferred=True
    )


class Result(NamedTuple):
    """What a layer produces: its output shape and the sizes of its tensors, by name."""

    shape: Shape
    params: Mapping[str, int] = EMPTY
    buffers: Mapping[str, int] = EMPTY

    @property
    def param_count(self) -> int:
        return sum(self.params.values())

    @property
    def buffer_count(self) -> int:
        return sum(self.buffers.values())


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


class Cost(NamedTuple):
    """Work for one sample: multiply-accumulates of weights, and floating-point operations."""

    macs: int = 0
    flops: int = 0


# Convolutions and linear layers: a multiply and an add per MAC, and a bias add per output.
WEIGHTED_FLOPS = "2·MACs, + 1 per output element with bias"


def weighted_cost(macs: int, out: Shape, bias: bool) -> Cost:
    """The cost of a layer of weights, by WEIGHTED_FLOPS."""
    return Cost(macs, 2 * macs + (numel(out) if bias else 0))


class Explanation(NamedTuple):
    """Worked formulas with the numbers substituted, as a student writes them in an exam."""

    shape: tuple[str, ...] = ()  # lines such as "H_out = ⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64"
    params: str | None = None  # the product before "= 602,240", e.g. "(96·7·7 + 1)·128"
    buffers: str | None = None
    macs: str | None = None  # e.g. "128·64·64 · 96·7·7"
    params_note: str = ""  # what the parameters are, where the formula does not say: "γ and β"
    buffers_note: str = ""


IDENTITY: Literal["identity"] = "identity"  # each output unit sees the same unit of its input
GLOBAL: Literal["global"] = "global"  # each output unit sees the whole input
MERGE: Literal["merge"] = "merge"  # the union of the inputs' fields
Rule = tuple[Span, ...] | Literal["identity", "global", "merge"]


class LayerType:
    """Base class of layer descriptors. Subclasses set the class attributes and `infer`."""

    name: str = ""
    family: str = ""
    doc: str = ""
    args: tuple[Arg, ...] = ()
    dims: int = 0  # spatial dimensions, for per-dimension arguments; 0 = not spatial
    min_inputs: int = 1
    max_inputs: int | None = 1
    view: bool = False  # the output is a view of the input: no new memory (flatten, ...)
    flops_rule: str = "0"  # FLOPs per sample, as documented: "1 per output element"

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        """The output shape and tensor sizes for inputs of these shapes."""
        raise NotImplementedError

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        """How output units see the input's spatial dimensions; unless a type says, 'global'."""
        return GLOBAL

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        """MACs and FLOPs for one sample; zero unless a type says (reshapes, dropout, ...)."""
        return Cost()

    def explain(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Explanation:
        """The formulas behind shape, parameters and MACs; unless a type says, none."""
        return Explanation()

    def flops_applied(self, a: Mapping[str, Any]) -> str:
        """The part of flops_rule that these arguments select, for explain."""
        return self.flops_rule

    def in_place(self, a: Mapping[str, Any]) -> bool:
        """Whether the output overwrites the input (no new memory): `inplace: true`, views."""
        return self.view or bool(a.get("inplace"))

    def arg(self, name: str) -> Arg | None:
        for a in self.args:
            if a.name == name:
                return a
        return None


def fail(message: str, arg: str | None = None) -> LayerError:
    """A LayerError to raise; `arg` names the argument whose value is at fault."""
    return LayerError(message, arg)


# How a message writes a whole tensor's shape: in the spec's layout, which the graph sets
# while it infers shapes (a channels_last spec's user wrote 28×28×1, not 1×28×28).
SHOWN_AS: ContextVar[Callable[[Shape], Shape] | None] = ContextVar("shown_as", default=None)


def tensor(shape: Shape) -> str:
    """A whole tensor's shape (channels first inside) as its spec writes it: 28×28×1."""
    show = SHOWN_AS.get()
    return fmt(shape if show is None else show(shape))


def in_pytorch_order(shape: Shape) -> str:
    """For a message that counts dimensions as PyTorch does: '4×8×8 in PyTorch's
    channels-first order' where the spec writes the shape otherwise, else ''."""
    return "" if tensor(shape) == fmt(shape) else f"{fmt(shape)} in PyTorch's channels-first order"


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


def product(values: Sequence[int | str]) -> str:
    """128·64·64"""
    return "·".join(str(v) for v in values)


def tensor_product(shape: Shape) -> str:
    """A whole tensor's element count as a product, in its spec's layout: 128·64·64, or
    64·64·128 where the spec writes channels last."""
    show = SHOWN_AS.get()
    return product(shape if show is None else show(shape))


def filter_taps(channels: str, kernel: Sequence[int]) -> str:
    """One filter's weights: in·k·k as PyTorch stores them, or k·k·in (a 5×5×3 filter) where
    the spec writes channels last, as Keras and most course material count."""
    show = SHOWN_AS.get()
    last = show is not None and show((1, 2)) != (1, 2)
    return f"{product(kernel)}·{channels}" if last else f"{channels}·{product(kernel)}"


def per_dim_lines(formulas: Sequence[str]) -> tuple[str, ...]:
    """`H_out = ... = 64     (W the same)` when every dimension's formula reads alike."""
    dims = len(formulas)
    names = SPATIAL_AXES.get(dims, tuple(f"d{i + 1}" for i in range(dims)))
    if dims > 1 and len(set(formulas)) == 1:
        rest = " and ".join(names[1:])
        return (f"{names[0]}_out = {formulas[0]}     ({rest} the same)",)
    return tuple(f"{n}_out = {f}" for n, f in zip(names, formulas, strict=True))


def expect_rank(shape: Shape, rank: int, layout: str) -> None:
    """Fail unless the (batch-less) input has exactly `rank` dimensions, as [C, H, W] etc."""
    if len(shape) != rank:
        raise fail(
            f"expects a {rank}-d input {layout} (without the batch), got {tensor(shape)}"
            f" ({len(shape)}-d)"
        )


def check_given(a: Mapping[str, Any], arg: str, actual: int, noun: str, note: str = "") -> None:
    """When an inferred size (in_channels, ...) was written in the spec, it must match.
    `noun` is singular ("channel"); `note` follows it ("in_features is 3 but the input has
    4 features (its last dimension)")."""
    given = a.get(arg)
    if given is not None and given != actual:
        raise fail(f"{arg} is {given} but the input has {several(actual, noun)}{note}", arg)


def several(n: int, noun: str) -> str:
    """'1 channel', '3 channels'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


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


def resolve_dim(dim: int, rank: int, arg: str) -> int:
    """PyTorch dim numbering (0 = batch, negatives from the end) → index into a batch-less shape."""
    full = rank + 1
    if not -full <= dim < full:
        raise fail(
            f"{arg} {dim} is out of range for a {rank}-d input (with the batch,"
            f" dims run from 0 to {rank}, or -{full} to -1)",
            arg,
        )
    index = dim % full
    if index == 0:
        raise fail(f"{arg} {dim} is the batch dimension; name a dimension from 1 to {rank}", arg)
    return index - 1


# ---- argument parsers -------------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _describe(v: Any) -> str:
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, (list, dict)):
        return f"a {'list' if isinstance(v, list) else 'mapping'}"
    if v is None:
        return "empty"
    return shown(v)


def _in_range(v: float, lo: float | None, hi: float | None) -> None:
    if lo is not None and v < lo:
        raise LayerError(f"must be at least {lo}, got {v}")
    if hi is not None and v > hi:
        raise LayerError(f"must be at most {hi}, got {v}")


def integer(lo: int | None = None, hi: int | None = None) -> Parser:
    def parse(v: Any, dims: int) -> int:
        if not _is_int(v):
            raise LayerError(f"must be an integer, got {_describe(v)}")
        _in_range(v, lo, hi)
        return int(v)

    return parse


def per_dim(lo: int = 1) -> Parser:
    """An int for every spatial dimension, or a list with one value per dimension."""

    def parse(v: Any, dims: int) -> tuple[int, ...]:
        values = v if isinstance(v, list) else [v] * max(dims, 1)
        if isinstance(v, list) and len(v) != dims:
            raise LayerError(f"needs one value per spatial dimension ({dims}), got {len(v)}")
        for x in values:
            if not _is_int(x):
                raise LayerError(f"must be an integer or a list of {dims}, got {_describe(x)}")
            if x < lo:
                raise LayerError(f"must be at least {lo}, got {x}")
        return tuple(int(x) for x in values)

    return parse


def padding() -> Parser:
    """Explicit per-dimension padding, or 'valid' (none) or 'same' (TensorFlow's rule)."""
    ints = per_dim(lo=0)

    def parse(v: Any, dims: int) -> tuple[int, ...] | str:
        if isinstance(v, str):
            if v.lower() == "valid":
                return (0,) * dims
            if v.lower() == "same":
                return "same"
            raise LayerError(f"must be an integer, a list, 'same' or 'valid', got {shown(v)}")
        return ints(v, dims)  # type: ignore[no-any-return]

    return parse


def boolean() -> Parser:
    def parse(v: Any, dims: int) -> bool:
        if not isinstance(v, bool):
            raise LayerError(f"must be true or false, got {_describe(v)}")
        return v

    return parse


def number(lo: float | None = None, hi: float | None = None) -> Parser:
    def parse(v: Any, dims: int) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise LayerError(f"must be a number, got {_describe(v)}")
        _in_range(v, lo, hi)
        return float(v)

    return parse


def choice(*options: str) -> Parser:
    def parse(v: Any, dims: int) -> str:
        if not isinstance(v, str) or v not in options:
            raise LayerError(f"must be one of {', '.join(options)}; got {_describe(v)}")
        return v

    return parse


def optional(inner: Parser) -> Parser:
    def parse(v: Any, dims: int) -> Any:
        return None if v is None else inner(v, dims)

    return parse


def int_list(lo: int = 1, wildcard: bool = False) -> Parser:
    """A non-empty list of sizes (or one int); with `wildcard`, one -1 may stand for the rest."""

    def parse(v: Any, dims: int) -> tuple[int, ...]:
        values = v if isinstance(v, list) else [v]
        if not values:
            raise LayerError("must not be an empty list")
        for x in values:
            if not _is_int(x):
                raise LayerError(f"must be a list of integers, got {_describe(x)}")
            if x < lo and not (wildcard and x == -1):
                raise LayerError(f"sizes must be at least {lo}, got {x}")
        if wildcard and values.count(-1) > 1:
            raise LayerError("at most one size may be -1")
        return tuple(int(x) for x in values)

    return parse


def anything() -> Parser:
    """Accepted and ignored: it changes values, not shapes or counts (init, inplace, ...)."""
    return lambda v, dims: v


# Arguments that many layer types share.
INPLACE = Arg("inplace", boolean(), False, "ignored: in-place changes no count", "bool")
BIAS = Arg("bias", boolean(), True, "learn an additive bias", "bool")
EPS = Arg("eps", number(lo=0), 1e-5, "ignored: changes values only", "float")
MOMENTUM = Arg("momentum", optional(number(0, 1)), 0.1, "ignored: changes values only", "float")
