"""A worked numeric convolution: small 1-D and 2-D arrays in, every output element's sum out.

Cross-correlation by default, as torch.nn.functional.conv1d/conv2d compute it; true
convolution (the kernel flipped on every axis) on request. Numbers are exact: integers stay
ints and decimals are Fractions, so 0.1·3 is 3/10, never 0.30000000000000004. Sizes and
work are bounded before anything is computed, since the arrays may be anyone's input.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from typing import Any

from cnncalc.arithmetic import Exact, conv_out, effective_kernel
from cnncalc.errors import Pos, SpecError, UsageError, quoted

# Limits on anyone's input, checked before the work they bound.
MAX_TEXT = 100_000  # characters in one array argument
MAX_NUMBER = 30  # characters in one number
MAX_INPUT_SIDE = 64  # values along each axis of the input
MAX_KERNEL_SIDE = 16  # values along each axis of the kernel
MAX_SETTING = 64  # stride, padding and dilation, each
MAX_WORK = 100_000  # multiply-adds: output elements × kernel elements

AXES = {1: ("length",), 2: ("rows", "columns")}


class Mode(str, enum.Enum):
    """What the kernel does: slides as given (frameworks' 'convolution'), or flipped first."""

    CROSS_CORRELATION = "cross-correlation"
    CONVOLUTION = "convolution"


@dataclass(frozen=True)
class Array:
    """A 1-D or 2-D array of exact numbers, stored flat in row-major order."""

    shape: tuple[int, ...]
    values: tuple[Exact, ...]

    def __getitem__(self, index: tuple[int, ...]) -> Exact:
        flat = 0
        for i, n in zip(index, self.shape, strict=True):
            flat = flat * n + i
        return self.values[flat]

    def nested(self) -> list[Any]:
        """The values as nested lists: one list for 1-D, a list of rows for 2-D."""
        if len(self.shape) == 1:
            return list(self.values)
        w = self.shape[1]
        return [list(self.values[r * w : (r + 1) * w]) for r in range(self.shape[0])]

    def flipped(self) -> Array:
        """The array reversed along every axis (row-major flat order reversed)."""
        return Array(self.shape, self.values[::-1])


@dataclass(frozen=True)
class Term:
    """One product of a sum: an input value (0 for padding) times a kernel weight."""

    value: Exact
    weight: Exact
    at: tuple[int, ...] | None  # the input index the value comes from; None: a padding zero


@dataclass(frozen=True)
class Element:
    """One output element: its index, its products in kernel order, and their sum."""

    index: tuple[int, ...]
    terms: tuple[Term, ...]
    total: Exact


@dataclass(frozen=True)
class Convolution:
    """A worked convolution: the settings, the kernel as applied, and every element's sum."""

    mode: Mode
    input: Array
    kernel: Array  # as given
    applied: Array  # as slid over the input: flipped for true convolution
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    output_shape: tuple[int, ...]
    elements: tuple[Element, ...]

    @property
    def result(self) -> Array:
        return Array(self.output_shape, tuple(e.total for e in self.elements))


# ---------------------------------------------------------------------------------------------
# Reading arrays: "4 1 -1 3", "[4, 1, -1, 3]", "1 2; 3 4", "[1 2; 3 4]", "[[1, 2], [3, 4]]"

_TOKEN = re.compile(r"(\s+)|([\[\],;])|([^\s\[\],;]+)")
_NUMBER = re.compile(r"([+\-\u2212]?)([0-9]+)?(?:\.([0-9]*))?")
_NOT_FINITE = {"nan", "inf", "infinity"}


@dataclass(frozen=True)
class _Token:
    text: str
    column: int  # 1-based


def parse_array(text: str, name: str = "input") -> Array:
    """An array written on a command line → Array; a SpecError at `<name>:1:COL` if it is
    not a 1-D or 2-D array of finite decimal numbers within the limits."""
    where = f"<{name}>"
    side = MAX_INPUT_SIDE if name == "input" else MAX_KERNEL_SIDE

    def fail(message: str, column: int) -> SpecError:
        return SpecError(message, Pos(where, 1, column))

    if len(text) > MAX_TEXT:
        raise fail(f"the {name} is {len(text):,} characters long; at most {MAX_TEXT:,}", 1)
    if "\n" in text or "\r" in text:
        column = min(i for i in (text.find("\n"), text.find("\r")) if i >= 0) + 1
        raise fail(f"the {name} is one line; separate rows with ';'", column)
    tokens = [_Token(m.group(), m.start() + 1) for m in _TOKEN.finditer(text) if not m.group(1)]
    if not tokens:
        raise fail(f'the {name} is empty; write it like "4 1 -1 3" or "1 2; 3 4"', 1)
    nested = len(tokens) > 1 and tokens[0].text == "[" and tokens[1].text == "["
    rows = _nested_rows(tokens, fail) if nested else _flat_rows(tokens, fail)
    if len(rows) > side:
        raise fail(f"the {name} has more than {side} rows (the limit)", rows[side][0].column)
    width = len(rows[0][1])
    for r, (start, numbers) in enumerate(rows, start=1):
        if not numbers:
            raise fail(f"row {r} of the {name} is empty", start.column)
        if len(numbers) > side:
            raise fail(
                f"the {name} has a row of more than {side} numbers (the limit)",
                numbers[side].column,
            )
    for r, (_, numbers) in enumerate(rows[1:], start=2):
        if len(numbers) != width:
            raise fail(
                f"row {r} of the {name} has {_count(len(numbers))}, but row 1 has"
                f" {_count(width)}; every row needs the same length",
                numbers[0].column,
            )
    values = tuple(_number(t, name, fail) for _, numbers in rows for t in numbers)
    shape = (len(rows), width) if nested or len(rows) > 1 else (width,)
    return Array(shape, values)


_Rows = list[tuple[_Token, list[_Token]]]  # (where the row starts, its numbers)
_Fail = Callable[[str, int], SpecError]  # a message and a column → the error to raise


def _flat_rows(tokens: list[_Token], fail: _Fail) -> _Rows:
    """'1 2; 3 4' or '[1 2; 3 4]': rows split by ';', numbers by spaces or commas."""
    if tokens[0].text == "[":
        if tokens[-1].text != "]" or len(tokens) == 1:
            raise fail("'[' is not closed with ']'", tokens[0].column)
        tokens = tokens[1:-1]
        if not tokens:
            raise fail("the array is empty", 1)
    rows: _Rows = [(tokens[0], [])]
    previous = ";"
    for t in tokens:
        if t.text == ";":
            if previous == ",":
                raise fail("a ',' with no number after it", t.column)
            rows.append((t, []))
        elif t.text == ",":
            if previous in ",;":
                raise fail("a ',' with no number before it", t.column)
        elif t.text in "[]":
            raise fail(_bracket_message(t.text), t.column)
        else:
            rows[-1][1].append(t)
        previous = t.text
    if previous == ",":
        raise fail("a ',' with no number after it", tokens[-1].column)
    return rows


def _nested_rows(tokens: list[_Token], fail: _Fail) -> _Rows:
    """'[[1, 2], [3, 4]]': each row in brackets; a third level is 3-D, refused."""
    rows: _Rows = []
    i = 1  # past the outer '['
    while True:
        t = tokens[i]
        if t.text == "]" and (rows or i == 1):
            break
        if t.text != "[":
            raise fail(
                f"expected '[' to start row {len(rows) + 1}, found {quoted(t.text)}", t.column
            )
        numbers: list[_Token] = []
        i += 1
        previous = "["
        while True:
            if i >= len(tokens):
                raise fail("'[' is not closed with ']'", t.column)
            u = tokens[i]
            if u.text == "]":
                if previous == ",":
                    raise fail("a ',' with no number after it", u.column)
                break
            if u.text == "[":
                raise fail(
                    '3-D arrays are not supported; give a 1-D array ("1 2 3") or a 2-D one'
                    ' ("1 2; 3 4" or "[[1, 2], [3, 4]]")',
                    u.column,
                )
            if u.text == ";":
                raise fail(
                    "';' separates rows in \"1 2; 3 4\"; here write [[1, 2], [3, 4]]", u.column
                )
            if u.text == ",":
                if previous in "[,":
                    raise fail("a ',' with no number before it", u.column)
            else:
                numbers.append(u)
                if len(numbers) > MAX_INPUT_SIDE:  # enough to report; no need to read on
                    break
            previous = u.text
            i += 1
        rows.append((t, numbers))
        if len(rows) > MAX_INPUT_SIDE or len(numbers) > MAX_INPUT_SIDE:
            return rows  # over the limit: parse_array says so
        i += 1
        if i < len(tokens) and tokens[i].text == ",":
            i += 1
        if i >= len(tokens):
            raise fail("'[' is not closed with ']'", tokens[0].column)
    if i != len(tokens) - 1:
        raise fail(
            f"unexpected {quoted(tokens[i + 1].text)} after the closing ']'", tokens[i + 1].column
        )
    if not rows:
        raise fail("the array is empty", tokens[0].column)
    return rows


def _count(n: int) -> str:
    return f"{n} number" if n == 1 else f"{n} numbers"


def _bracket_message(bracket: str) -> str:
    if bracket == "[":
        return '\'[\' inside a row; write 2-D arrays as "1 2; 3 4" or "[[1, 2], [3, 4]]"'
    return "']' with no '[' before it"


def _number(t: _Token, name: str, fail: _Fail) -> Exact:
    """'−1.25' → Fraction(-5, 4); '3' → 3. Decimals are read exactly."""
    if len(t.text) > MAX_NUMBER:
        raise fail(
            f"a number of {len(t.text)} characters in the {name}; at most {MAX_NUMBER}", t.column
        )
    m = _NUMBER.fullmatch(t.text)
    if m is None or (m.group(2) is None and not m.group(3)):
        if t.text.lstrip("+-\u2212").lower() in _NOT_FINITE:
            raise fail(f"{quoted(t.text)} is not a finite number", t.column)
        raise fail(
            f"{quoted(t.text)} is not a number; write numbers like 3, -1.5 or 0.25", t.column
        )
    sign, whole, decimals = m.group(1), m.group(2) or "0", m.group(3) or ""
    value: Exact = int(whole + decimals)
    if decimals:
        value = Fraction(value, 10 ** len(decimals))
        if value.denominator == 1:
            value = value.numerator
    return -value if sign in ("-", "\u2212") else value


# ---------------------------------------------------------------------------------------------
# Settings and the computation


def parse_setting(text: str, option: str, ndim: int, lo: int) -> tuple[int, ...]:
    """'2' or '1,2' (one per axis) → a whole number per axis, each in lo..MAX_SETTING."""
    parts = [p.strip() for p in text.strip(" []()").split(",")]
    if not all(re.fullmatch("[0-9]{1,6}", p) for p in parts):
        raise UsageError(f"{option} {quoted(text)} is not a whole number, or one per axis like 1,2")
    numbers = tuple(int(p) for p in parts)
    if len(numbers) == 1:
        numbers *= ndim
    if len(numbers) != ndim:
        per_axis = f", or {ndim} ({', '.join(AXES[ndim])})" if ndim > 1 else ""
        raise UsageError(
            f"{option} {quoted(text)} gives {len(numbers)} values for a {ndim}-D array;"
            f" give one{per_axis}"
        )
    for n in numbers:
        if not lo <= n <= MAX_SETTING:
            raise UsageError(f"{option} {n} is outside {lo}..{MAX_SETTING}")
    return numbers


def convolve(
    input: Array,
    kernel: Array,
    *,
    stride: Sequence[int] | int = 1,
    padding: Sequence[int] | int = 0,
    dilation: Sequence[int] | int = 1,
    mode: Mode = Mode.CROSS_CORRELATION,
) -> Convolution:
    """Slide `kernel` over the zero-padded `input` and record every output element's sum.

    Raises UsageError, before any work, for arrays of different ranks, settings out of range,
    a kernel larger than the padded input, or more than MAX_WORK multiply-adds.
    """
    ndim = len(input.shape)
    _check_arrays(input, kernel)
    s = _per_axis(stride, ndim, "stride", 1)
    p = _per_axis(padding, ndim, "padding", 0)
    d = _per_axis(dilation, ndim, "dilation", 1)
    out_shape = _output_shape(input.shape, kernel.shape, s, p, d)
    applied = kernel.flipped() if mode is Mode.CONVOLUTION else kernel
    elements = _slide(input, applied, out_shape, s, p, d)
    return Convolution(mode, input, kernel, applied, s, p, d, out_shape, elements)


def _check_arrays(input: Array, kernel: Array) -> None:
    """Both arrays 1-D or 2-D alike, and within the size limits."""
    ndim = len(input.shape)
    if ndim not in AXES:
        raise UsageError(f"the input is {ndim}-D; only 1-D and 2-D arrays are supported")
    if len(kernel.shape) != ndim:
        raise UsageError(
            f"the input is {ndim}-D ({_dims(input.shape)}) but the kernel is"
            f" {len(kernel.shape)}-D ({_dims(kernel.shape)}); give both the same rank"
        )
    for side, limit, what in (
        (input.shape, MAX_INPUT_SIDE, "input"),
        (kernel.shape, MAX_KERNEL_SIDE, "kernel"),
    ):
        if max(side) > limit:
            raise UsageError(f"the {what} is {_dims(side)}; at most {limit} along each axis")


def _output_shape(
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    s: tuple[int, ...],
    p: tuple[int, ...],
    d: tuple[int, ...],
) -> tuple[int, ...]:
    """The output's size on each axis; refused when the kernel does not fit or the work is
    past MAX_WORK."""
    ndim = len(shape)
    out_shape = []
    for axis, n, k, si, pi, di in zip(AXES[ndim], shape, kernel, s, p, d, strict=True):
        extent = effective_kernel(k, di)
        if extent > n + 2 * pi:
            prefix = f"{axis}: " if ndim > 1 else ""
            size = f"dilated size {extent} ({k}, dilation {di})" if di > 1 else f"size {k}"
            padded = f"input {n} + 2×{pi} padding" if pi else "no padding"
            raise UsageError(
                f"{prefix}the kernel's {size} is larger than the padded input"
                f" {n + 2 * pi} ({padded})"
            )
        out_shape.append(conv_out(n, k, si, pi, pi, di))
    work = math.prod(out_shape) * math.prod(kernel)
    if work > MAX_WORK:
        raise UsageError(
            f"this takes {work:,} multiply-adds ({_dims(tuple(out_shape))} outputs × "
            f"{_dims(kernel)} kernel); at most {MAX_WORK:,}"
        )
    return tuple(out_shape)


def _slide(
    input: Array,
    applied: Array,
    out_shape: tuple[int, ...],
    s: tuple[int, ...],
    p: tuple[int, ...],
    d: tuple[int, ...],
) -> tuple[Element, ...]:
    """Every output element's terms (padding zeros included) and their sum."""
    offsets = list(product(*(range(k) for k in applied.shape)))
    elements = []
    for index in product(*(range(o) for o in out_shape)):
        terms = []
        for offset, weight in zip(offsets, applied.values, strict=True):
            at = tuple(
                o * si - pi + k * di
                for o, k, si, pi, di in zip(index, offset, s, p, d, strict=True)
            )
            inside = all(0 <= a < n for a, n in zip(at, input.shape, strict=True))
            terms.append(Term(input[at], weight, at) if inside else Term(0, weight, None))
        total: Exact = sum((t.value * t.weight for t in terms), start=0)
        if isinstance(total, Fraction) and total.denominator == 1:
            total = total.numerator
        elements.append(Element(index, tuple(terms), total))
    return tuple(elements)


def _per_axis(value: Sequence[int] | int, ndim: int, name: str, lo: int) -> tuple[int, ...]:
    values = (value,) * ndim if isinstance(value, int) else tuple(value)
    if len(values) != ndim:
        raise UsageError(f"{name} has {len(values)} values for a {ndim}-D array; give {ndim}")
    for v in values:
        if not lo <= v <= MAX_SETTING:
            raise UsageError(f"{name} {v} is outside {lo}..{MAX_SETTING}")
    return values


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))
