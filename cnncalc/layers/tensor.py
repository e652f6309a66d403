"""Tensor operations: split a tensor into pieces (chunk, split, unbind, narrow), reorder its
dimensions (permute, transpose), reduce it (mean, sum, amax), and multiply two (matmul).

Every `dim` counts the batch as PyTorch does (dim 0 is the batch and is refused; negative
dims count from the end); shapes stay per-sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

from cnncalc.errors import Display, LayerError, shown
from cnncalc.layers.args import REQUIRED, Arg, boolean, integer
from cnncalc.layers.base import MAX_OUTPUTS, LayerType, Result, Saved, saved_inputs
from cnncalc.layers.checks import fail, resolve_dim, several
from cnncalc.layers.costs import Cost, Grads
from cnncalc.layers.formulas import Explanation, product
from cnncalc.layers.registry import register
from cnncalc.layers.spans import GLOBAL, IDENTITY, Moved, Rule, Span
from cnncalc.layers.tensors import Shape, axis_name, fmt, numel, tensor

_DIM_HELP = "dimension (PyTorch numbering: 0 is the batch, negatives from the end)"


def _ints(v: Any, dims: int) -> tuple[int, ...]:
    """A non-empty list of integers, any sign (dims of permute)."""
    if not isinstance(v, list) or not v:
        raise LayerError(f"must be a non-empty list of integers, got {_what(v)}")
    for x in v:
        if isinstance(x, bool) or not isinstance(x, int):
            raise LayerError(f"must be a list of integers, got {_what(x)}")
    return tuple(v)


def _int_or_ints(v: Any, dims: int) -> int | tuple[int, ...]:
    """One integer, or a non-empty list of them (dim of the reductions)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, list) and not v:
        raise LayerError(
            "must not be an empty list: PyTorch reads dim: [] as every dimension, the batch too"
        )
    return _ints(v, dims)


def _what(v: Any) -> str:
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, dict):
        return "a mapping"
    return "empty" if v is None else shown(v)


def _too_many(count: int, arg: str) -> LayerError:
    return fail(f"makes {count:,} outputs; a layer makes at most {MAX_OUTPUTS:,} (see {arg})", arg)


def _along(i: int, rank: int) -> str:
    """'along W (dim 3)': the dimension a layer works on, by name and PyTorch number."""
    return f"along {axis_name(i, rank)} (dim {i + 1})"


# ---- splitting into pieces ----------------------------------------------------------------------


class _Pieces(LayerType):
    """A layer that cuts its input along `dim` into pieces, each a view of it."""

    family = "tensor"
    view = True
    outputs = "one tensor per piece, in order along dim"

    def pieces(self, a: Mapping[str, Any], n: int) -> list[int]:
        """The sizes of the pieces of a dimension of size n, in order."""
        raise NotImplementedError

    def _cut(self, a: Mapping[str, Any], shape: Shape) -> tuple[int, list[int]]:
        i = resolve_dim(a["dim"], len(shape), "dim")
        return i, self.pieces(a, shape[i])

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        i, sizes = self._cut(a, shape)
        outs = tuple((*shape[:i], s, *shape[i + 1 :]) for s in sizes)
        return Result(outs[0], more=outs[1:])

    def output_rules(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result
    ) -> tuple[Rule, ...]:
        """Along the channels each piece is the identity; along a spatial axis piece k
        starts at its offset there, so its unit o is the input's unit o + offset."""
        (shape,) = inputs
        i, sizes = self._cut(a, shape)
        if i == 0:
            return (IDENTITY,) * len(sizes)
        starts = [0, *accumulate(sizes)][:-1]
        return tuple(
            tuple(Span.window(1, 1, -start if d == i else 0) for d in range(1, len(shape)))
            for start in starts
        )

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (shape,) = inputs
        i, sizes = self._cut(a, shape)
        return Explanation((f"{_along(i, len(shape))}: {self.formula(a, shape[i], sizes)}",))

    def formula(self, a: Mapping[str, Any], n: int, sizes: list[int]) -> str:
        """How the pieces' sizes follow from the arguments."""
        return f"{n} = {' + '.join(map(str, sizes))}"


def _even_pieces(n: int, size: int) -> list[int]:
    """Pieces of `size` and a shorter last one, as PyTorch's chunk and split cut."""
    count = -(-n // size)
    return [size] * (count - 1) + [n - size * (count - 1)]


class Chunk(_Pieces):
    name = "chunk"
    doc = (
        "cuts dim into pieces of ⌈size / chunks⌉ (the last shorter), as torch.chunk:"
        " possibly fewer than chunks"
    )
    args = (
        Arg("chunks", integer(lo=1), REQUIRED, "how many pieces at most", "int"),
        Arg("dim", integer(), REQUIRED, _DIM_HELP, "int"),
    )

    def pieces(self, a: Mapping[str, Any], n: int) -> list[int]:
        size = -(-n // a["chunks"])
        if -(-n // size) > MAX_OUTPUTS:
            raise _too_many(-(-n // size), "chunks")
        return _even_pieces(n, size)

    def formula(self, a: Mapping[str, Any], n: int, sizes: list[int]) -> str:
        size, count = sizes[0], len(sizes)
        pieces = (
            f"{count} of {size}" if sizes[-1] == size else f"{count - 1} of {size} + {sizes[-1]}"
        )
        return f"pieces of ⌈{n} / {a['chunks']}⌉ = {size}: {pieces}"


class Split(_Pieces):
    name = "split"
    doc = "cuts dim into pieces of split_size (the last shorter) or of the sizes listed"
    args = (
        Arg(
            "split_size_or_sections",
            lambda v, dims: integer(lo=1)(v, dims) if not isinstance(v, list) else _sizes(v),
            REQUIRED,
            "a piece size, or a list of sizes that add up to the dimension",
            "int | list",
        ),
        Arg("dim", integer(), REQUIRED, _DIM_HELP, "int"),
    )

    def pieces(self, a: Mapping[str, Any], n: int) -> list[int]:
        arg = "split_size_or_sections"
        sizes = a[arg]
        if isinstance(sizes, int):
            if -(-n // sizes) > MAX_OUTPUTS:
                raise _too_many(-(-n // sizes), arg)
            return _even_pieces(n, sizes)
        if sum(sizes) != n:
            raise fail(
                f"split_size_or_sections {list(sizes)} adds up to {sum(sizes)}, the dimension"
                f" is {n}",
                arg,
            )
        return list(sizes)

    def formula(self, a: Mapping[str, Any], n: int, sizes: list[int]) -> str:
        if isinstance(a["split_size_or_sections"], int) and len(sizes) > 2:
            size, count = sizes[0], len(sizes)
            pieces = f"{count}·{size}" if sizes[-1] == size else f"{count - 1}·{size} + {sizes[-1]}"
            return f"{n} = {pieces}"
        return super().formula(a, n, sizes)


def _sizes(v: list[Any]) -> tuple[int, ...]:
    if not v:
        raise LayerError("must not be an empty list")
    if len(v) > MAX_OUTPUTS:
        raise LayerError(f"lists {len(v):,} pieces; a layer makes at most {MAX_OUTPUTS:,}")
    for x in v:
        if isinstance(x, bool) or not isinstance(x, int):
            raise LayerError(f"must be an integer or a list of integers, got {_what(x)}")
        if x < 1:
            raise LayerError(f"sizes must be at least 1, got {x} (an empty piece)")
    return tuple(v)


class Unbind(LayerType):
    name = "unbind"
    family = "tensor"
    doc = "one output per index along dim, that dimension removed"
    outputs = "one tensor per index along dim"
    view = True
    args = (Arg("dim", integer(), REQUIRED, _DIM_HELP, "int"),)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        i = resolve_dim(a["dim"], len(shape), "dim")
        if shape[i] > MAX_OUTPUTS:
            raise _too_many(shape[i], "dim")
        out = (*shape[:i], *shape[i + 1 :])
        return Result(out, more=(out,) * (shape[i] - 1))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (shape,) = inputs
        i = resolve_dim(a["dim"], len(shape), "dim")
        return Explanation((f"{_along(i, len(shape))}: {several(shape[i], 'output')}",))


class Narrow(LayerType):
    name = "narrow"
    family = "tensor"
    doc = "the slice start … start + length − 1 of dim (a negative start counts from the end)"
    view = True
    args = (
        Arg("dim", integer(), REQUIRED, _DIM_HELP, "int"),
        Arg("start", integer(), REQUIRED, "first index kept; negative counts from the end", "int"),
        Arg("length", integer(lo=1), REQUIRED, "how many indices kept", "int"),
    )

    def _start(self, a: Mapping[str, Any], shape: Shape) -> tuple[int, int]:
        i = resolve_dim(a["dim"], len(shape), "dim")
        n, start, length = shape[i], a["start"], a["length"]
        if not -n <= start <= n:
            raise fail(
                f"start {start} is out of range for a dimension of {n} (-{n} to {n})", "start"
            )
        first = start + n if start < 0 else start
        if first + length > n:
            raise fail(
                f"start {start} + length {length} runs past the dimension's {n}"
                + (f" (start counts from index {first})" if start < 0 else ""),
                "length",
            )
        return i, first

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        i, _ = self._start(a, shape)
        return Result((*shape[:i], a["length"], *shape[i + 1 :]))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        (shape,) = inputs
        i, first = self._start(a, shape)
        if i == 0:
            return IDENTITY
        return tuple(Span.window(1, 1, -first if d == i else 0) for d in range(1, len(shape)))

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (shape,) = inputs
        i, first = self._start(a, shape)
        last = first + a["length"] - 1
        return Explanation((f"{_along(i, len(shape))}: indices {first} … {last} of {shape[i]}",))


# ---- reordering dimensions ----------------------------------------------------------------------


class _Reorder(LayerType):
    """A view with its dimensions in another order; `axes` says which."""

    family = "tensor"
    view = True

    def axes(self, a: Mapping[str, Any], rank: int) -> tuple[int, ...]:
        """The per-sample permutation: output axis i is input axis axes[i] (0 = channels)."""
        raise NotImplementedError

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        return Result(tuple(shape[j] for j in self.axes(a, len(shape))))

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        """Each unit sees its own input unit; the receptive-field pass follows the spatial
        axes to where `axes` moves them."""
        rank = len(inputs[0])
        order = self.axes(a, rank)
        return IDENTITY if order == tuple(range(rank)) else Moved(order)

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (shape,) = inputs
        axes = self.axes(a, len(shape))
        outs = ", ".join(str(i + 1) for i in range(len(axes)))
        ins = ", ".join(str(j + 1) for j in axes)
        return Explanation((f"[{fmt(shape)}] → [{fmt(out)}]: dims {outs} are input dims {ins}",))


class Permute(_Reorder):
    name = "permute"
    doc = "reorders the dimensions; dims lists them all, the batch first (PyTorch numbering)"
    args = (Arg("dims", _ints, REQUIRED, "every dimension once, 0 (the batch) first", "list"),)

    def axes(self, a: Mapping[str, Any], rank: int) -> tuple[int, ...]:
        dims, full = a["dims"], rank + 1
        if len(dims) != full:
            raise fail(
                f"dims lists {several(len(dims), 'dimension')}; the input has {full} with"
                " the batch",
                "dims",
            )
        for d in dims:
            if not -full <= d < full:
                raise fail(
                    f"dims names {d}, out of range for a {rank}-d input (with the batch,"
                    f" dims run from 0 to {rank}, or -{full} to -1)",
                    "dims",
                )
        resolved = [d % full for d in dims]
        if len(set(resolved)) != full:
            twice = next(d for d in dims if resolved.count(d % full) > 1)
            raise fail(f"dims names dimension {twice % full} twice", "dims")
        if resolved[0] != 0:
            raise fail(
                f"dims must keep the batch (0) first, got {list(dims)}: shapes stay per-sample",
                "dims",
            )
        return tuple(d - 1 for d in resolved[1:])


class Transpose(_Reorder):
    name = "transpose"
    doc = "swaps two dimensions (PyTorch numbering, the batch not among them)"
    args = (
        Arg("dim0", integer(), REQUIRED, _DIM_HELP, "int"),
        Arg("dim1", integer(), REQUIRED, _DIM_HELP, "int"),
    )

    def axes(self, a: Mapping[str, Any], rank: int) -> tuple[int, ...]:
        i, j = resolve_dim(a["dim0"], rank, "dim0"), resolve_dim(a["dim1"], rank, "dim1")
        order = list(range(rank))
        order[i], order[j] = j, i
        return tuple(order)


# ---- reductions ---------------------------------------------------------------------------------


class Reduce(LayerType):
    """mean, sum, amax over one dimension or several."""

    family = "tensor"
    args = (
        Arg(
            "dim", _int_or_ints, REQUIRED, "dimension or list reduced (not the batch)", "int | list"
        ),
        Arg("keepdim", boolean(), False, "keep each reduced dimension with size 1", "bool"),
    )

    def __init__(self, name: str, doc: str, flops_rule: str, divide: bool) -> None:
        self.name = name
        self.doc = doc
        self.flops_rule = flops_rule
        self.divide = divide  # mean: one divide per output element after the sum

    def reduced(self, a: Mapping[str, Any], shape: Shape) -> list[int]:
        """The batch-less indices reduced, in order."""
        dims = a["dim"] if isinstance(a["dim"], tuple) else (a["dim"],)
        found = [resolve_dim(d, len(shape), "dim") for d in dims]
        if len(set(found)) != len(found):
            twice = next(d for d in found if found.count(d) > 1)
            raise fail(f"dim names dimension {twice + 1} twice", "dim")
        return sorted(found)

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        (shape,) = inputs
        red = self.reduced(a, shape)
        if a["keepdim"]:
            return Result(tuple(1 if i in red else n for i, n in enumerate(shape)))
        return Result(tuple(n for i, n in enumerate(shape) if i not in red))

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        n_in, n_out = numel(inputs[0]), numel(out)
        return Cost(0, n_in - n_out + (n_out if self.divide else 0))

    @property
    def saves_rule(self) -> str:  # type: ignore[override]
        if self.name == "amax":
            return "its input and its output (the gradient goes to every maximum)"
        return "nothing (the gradient is spread back)"

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return (Saved("input"), Saved("output")) if self.name == "amax" else ()

    def receptive(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Rule:
        """Each unit sees the whole of every reduced spatial dimension and its own place in
        the others; where dimensions disappear (no keepdim) the rank changes: global."""
        (shape,) = inputs
        red = self.reduced(a, shape)
        if not a["keepdim"]:
            return GLOBAL
        if red == [0]:
            return IDENTITY
        return tuple(
            Span.whole(n) if d in red else Span.window(1, 1, 0)
            for d, n in enumerate(shape[1:], start=1)
        )

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        (shape,) = inputs
        red = self.reduced(a, shape)
        over = ", ".join(f"{axis_name(i, len(shape))} (dim {i + 1})" for i in red)
        lines = [f"reduces over {over}: {product([shape[i] for i in red])} values per output"]
        return Explanation(tuple(lines))


PRODUCT_BACKWARD = "2·MACs for each input that needs a gradient (a product with the other)"


def product_backward(forward: Cost, grads: Grads) -> Cost:
    """The backward of a product of two tensors, by PRODUCT_BACKWARD."""
    macs = forward.macs * sum(grads.inputs)
    return Cost(macs, 2 * macs)


# ---- matrix product -----------------------------------------------------------------------------


class Matmul(LayerType):
    name = "matmul"
    family = "tensor"
    doc = (
        "matrix product of two inputs of the same rank ≥ 2: [..., n, k] · [..., k, p] →"
        " [..., n, p], the leading dimensions broadcast"
    )
    flops_rule = "2·MACs"
    min_inputs = 2
    max_inputs = 2

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        x, y = inputs
        if len(x) != len(y) or len(x) < 2:
            raise fail(
                lambda show: (
                    "matmul takes two inputs of the same rank, at least 2-d without the batch"
                    f" (with the batch in front of both, PyTorch would otherwise read it as a"
                    f" matrix dimension), got {tensor(x, show)} ({len(x)}-d) and"
                    f" {tensor(y, show)} ({len(y)}-d)"
                )
            )
        if x[-1] != y[-2]:
            raise fail(
                f"matmul contracts the last dimension of the first input ({x[-1]}) with the"
                f" second-to-last of the second ({y[-2]}); they differ: [{fmt(x)}] · [{fmt(y)}]"
            )
        lead = []
        for i, (m, n) in enumerate(zip(x[:-2], y[:-2], strict=True)):
            if m != n and 1 not in (m, n):
                raise fail(
                    f"matmul broadcasts the leading dimensions, equal or 1, but dim {i + 1}"
                    f" is {m} and {n}: [{fmt(x)}] · [{fmt(y)}]"
                )
            lead.append(max(m, n))
        return Result((*lead, x[-2], y[-1]))

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        macs = numel(out) * inputs[0][-1]
        return Cost(macs, 2 * macs)

    saves_rule = "its inputs (each one's gradient is a product with the other)"
    backward_rule = PRODUCT_BACKWARD

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return saved_inputs(inputs)

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return product_backward(forward, grads)

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        x, y = inputs
        return Explanation(
            (f"[{fmt(x)}] · [{fmt(y)}] → [{fmt(out)}], contracting {x[-1]}",),
            macs=f"{product(out)} · {x[-1]}",
        )


# ---- einsum -------------------------------------------------------------------------------------

Equation = tuple[tuple[str, str], str]  # the two operands' indices and the result's


def _equation(v: Any, dims: int) -> str:
    """'bij,bjk->bik' checked for the form cnncalc counts exactly: two operands, an explicit
    result, letters only, the batch the first index everywhere, and every summed index in
    both operands (PyTorch sums an index of one operand alone first: a `sum`, not MACs)."""
    if not isinstance(v, str):
        raise LayerError(f"must be an equation such as 'bij,bjk->bik', got {_what(v)}")
    text = "".join(v.split())
    if text.count("->") != 1:
        raise LayerError(f"needs one '->' and the result's indices, got {shown(v)}")
    left, out = text.split("->")
    terms = left.split(",")
    if len(terms) != 2:
        raise LayerError(
            f"takes exactly two operands (cnncalc's matmul-like form), got {len(terms)}"
        )
    for t in (*terms, out):
        bad = next((c for c in t if not c.isascii() or not c.isalpha()), None)
        if bad is not None or not t:
            raise LayerError(
                f"must write indices as letters ('...' is not supported), got {shown(t)}"
            )
        seen: set[str] = set()
        for c in t:  # one pass: after it every term holds at most 52 letters
            if c in seen:
                raise LayerError(f"repeats index '{c}' in {shown(t)} (a diagonal): not supported")
            seen.add(c)
    if not terms[0][0] == terms[1][0] == out[0]:
        raise LayerError(
            f"must name the batch first in both operands and in the result, got {text}"
        )
    unknown = next((c for c in out if c not in terms[0] + terms[1]), None)
    if unknown is not None:
        raise LayerError(f"has the result's index '{unknown}' in neither operand")
    alone = next(
        (c for t in terms for c in t if c not in out and (terms[0] + terms[1]).count(c) == 1), None
    )
    if alone is not None:
        raise LayerError(f"sums index '{alone}', which only one operand has: sum it first (sum)")
    return text  # as written, spaces dropped: diff and explain show it so


def _parts(equation: str) -> Equation:
    """A checked equation's operands and result: 'bij,bjk->bik' → (('bij', 'bjk'), 'bik')."""
    left, out = equation.split("->")
    first, second = left.split(",")
    return (first, second), out


class Einsum(LayerType):
    name = "einsum"
    family = "tensor"
    doc = (
        "two-operand contraction by torch.einsum's equation, the batch the first index"
        " everywhere: 'bij,bjk->bik', 'bhid,bhjd->bhij'"
    )
    flops_rule = (
        "2·MACs; with no summed index (an element-wise or outer product) 1 per output element"
    )
    min_inputs = 2
    max_inputs = 2
    args = (Arg("equation", _equation, REQUIRED, "e.g. 'bij,bjk->bik' (b: the batch)", "str"),)

    def sizes(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> dict[str, int]:
        """Each index's size, batch left out; the operands must agree on every index."""
        terms, _ = _parts(a["equation"])
        found: dict[str, int] = {}
        for k, (t, shape) in enumerate(zip(terms, inputs, strict=True)):
            if len(t) - 1 != len(shape):
                raise fail(
                    f"operand {k + 1} '{t}' has {len(t) - 1} indices after the batch; its input"
                    f" [{fmt(shape)}] is {len(shape)}-d",
                    "equation",
                )
            for c, n in zip(t[1:], shape, strict=True):
                if found.setdefault(c, n) != n:
                    raise fail(
                        f"index '{c}' is {found[c]} in the first operand and {n} in the second"
                        " (cnncalc does not broadcast einsum's size-1 indices)",
                        "equation",
                    )
        return found

    def infer(self, a: Mapping[str, Any], inputs: Sequence[Shape]) -> Result:
        sizes, (_, out) = self.sizes(a, inputs), _parts(a["equation"])
        return Result(tuple(sizes[c] for c in out[1:]))

    def cost(self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape) -> Cost:
        sizes, (terms, result) = self.sizes(a, inputs), _parts(a["equation"])
        if set(terms[0] + terms[1]) <= set(result):
            return Cost(0, numel(out))
        macs = numel(list(sizes.values()))
        return Cost(macs, 2 * macs)

    saves_rule = (
        "its inputs (each one's gradient is a product with the other); PyTorch may keep"
        " permuted copies instead"
    )
    backward_rule = PRODUCT_BACKWARD

    def saves(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], result: Result, grads: Grads
    ) -> tuple[Saved, ...]:
        return saved_inputs(inputs)

    def backward(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, forward: Cost, grads: Grads
    ) -> Cost:
        return (
            product_backward(forward, grads)
            if forward.macs
            else super().backward(a, inputs, out, forward, grads)
        )

    def flops_applied(self, a: Mapping[str, Any]) -> str:
        terms, result = _parts(a["equation"])
        if set(terms[0] + terms[1]) <= set(result):
            return "1 per output element: nothing is summed (an element-wise or outer product)"
        return "2·MACs"

    def explain(
        self, a: Mapping[str, Any], inputs: Sequence[Shape], out: Shape, show: Display
    ) -> Explanation:
        sizes, (terms, result) = self.sizes(a, inputs), _parts(a["equation"])
        each = ", ".join(f"{c} = {n}" for c, n in sizes.items())
        summed = [c for c in sizes if c not in result]
        line = f"{terms[0]},{terms[1]}->{result}: {each}; summed: {', '.join(summed) or 'none'}"
        return Explanation((line,), macs=product(list(sizes.values())) if summed else None)


register(
    Chunk(),
    Split(),
    Unbind(),
    Narrow(),
    Permute(),
    Transpose(),
    Reduce(
        "mean",
        "mean over dim (an int or a list)",
        "elements in − elements out adds, + 1 divide per output element",
        True,
    ),
    Reduce("sum", "sum over dim (an int or a list)", "elements in − elements out adds", False),
    Reduce(
        "amax",
        "maximum over dim (an int or a list)",
        "elements in − elements out comparisons",
        False,
    ),
    Matmul(),
    Einsum(),
)
