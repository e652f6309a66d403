"""Receptive fields: size, effective stride and effective padding of every layer's output.

Definitions follow Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks" (Distill, 2019). Per spatial dimension, unit u of a layer's output sees the input
pixels [u·stride − padding, u·stride − padding + size − 1]. Upsampling layers make the stride a
fraction, kept exact; the window is then the smallest one that slides linearly and contains
each unit's exact input region.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from cnncalc.arithmetic import Exact, exact_div, fraction_text
from cnncalc.errors import SpecError
from cnncalc.graph import FactsKey, Graph, Layer, Notice
from cnncalc.layers.spans import FITTED_TOTAL, GLOBAL, IDENTITY, MERGE, Moved, Rule, Span
from cnncalc.layers.tensors import axis_name

Interval = tuple[int, int]


class Field(NamedTuple):
    """The receptive field of a layer's output, one value per spatial dimension."""

    size: tuple[Exact, ...]
    stride: tuple[Exact, ...]
    padding: tuple[Exact, ...]
    is_global: bool = False  # every unit sees the whole input
    # The dimensions (from 0) where the window is only a bound: it holds every unit's
    # input, but a smaller window may too (interpolating upsampling past FITTED_UNITS units
    # a side). A check of the field's size must not pass on a bound.
    bounded: tuple[int, ...] = ()
    # Where each spatial dimension of the input stands in this tensor (per sample, 0 = the
    # first axis), once a permute or transpose has moved them; () where they are in place
    # (1, 2, ...: behind the channels).
    axes: tuple[int, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.bounded

    def positions(self) -> tuple[int, ...]:
        """Where each spatial dimension stands in the tensor."""
        return self.axes or tuple(range(1, len(self.size) + 1))

    def window(self, unit: Sequence[int]) -> list[tuple[Exact, Exact]]:
        """The first and last input pixel of one unit's field, per dimension (may be outside
        the image: that part is padding)."""
        return [self.window_1d(d, u) for d, u in enumerate(unit)]

    def window_1d(self, d: int, u: int) -> tuple[Exact, Exact]:
        start = u * self.stride[d] - self.padding[d]
        return start, start + self.size[d] - 1

    @property
    def centre(self) -> tuple[Exact, ...]:
        """Where unit 0's field is centred; unit u's is u·stride further."""
        return tuple(exact_div(r - 1, 2) - p for r, p in zip(self.size, self.padding, strict=True))


GLOBAL_FIELD = Field((), (), (), is_global=True)


def spatial_dims(graph: Graph) -> int:
    """How many spatial dimensions the network's input has (0: no receptive fields)."""
    return len(graph.input_shape) - 1


class _Fitting:
    """Pays for fitted windows (a look at every unit) out of one budget for the network,
    FITTED_TOTAL units, so that many large upsampling layers cost no more than a few: past
    it, a window stays the bound its layer gave (Field.exact is then False)."""

    def __init__(self) -> None:
        self.left = FITTED_TOTAL

    def refine(self, r: Rule) -> Rule:
        if not isinstance(r, tuple) or not any(s.fit for s in r):
            return r
        spans = []
        for s in r:
            if s.fit is not None and s.fit_units <= self.left:
                self.left -= s.fit_units
                s = s.fit()
            spans.append(s)
        return tuple(spans)


def fields(graph: Graph) -> tuple[dict[str, Field], list[Notice]]:
    """The field of every layer (and of 'input'), and warnings about merges."""
    dims = spatial_dims(graph)
    if dims < 1:
        return {}, []
    one = (1,) * dims
    result = {
        name: Field(one, one, (0,) * dims) if len(shape) == dims + 1 else GLOBAL_FIELD
        for name, shape in graph.inputs.items()
    }
    notices: list[Notice] = []
    rules: dict[tuple[FactsKey, int], Rule] = {}  # fitted once per Layer.key and output
    fitting = _Fitting()
    for layer in graph.layers:
        # A parameter sees no input: it has no field, and a merge leaves it out.
        seen = [(s, result[s]) for s in layer.inputs if s in result]
        if layer.name in graph.free or not seen:
            continue
        for i, (out, shape) in enumerate(zip(layer.outputs, layer.result.shapes, strict=True)):
            key = (layer.key, i)
            r = rules.get(key) or rules.setdefault(key, fitting.refine(layer.rules[i]))
            field = _field(graph, layer, r, seen, shape, notices)
            if _still_and_whole(field, graph.input_shape[1:]):
                field = GLOBAL_FIELD
            _check_size(field, layer)
            result[out] = field
    return result, notices


def _field(
    graph: Graph,
    layer: Layer,
    r: Rule,
    seen: list[tuple[str, Field]],
    shape: Sequence[int],
    notices: list[Notice],
) -> Field:
    """The field of one output of `shape` that `r` makes of the inputs' fields (`seen`, by
    tensor: those of its inputs that have one)."""
    dims = spatial_dims(graph)
    inputs = [f for _, f in seen]
    if r == GLOBAL or any(f.is_global for f in inputs) or len(shape) != dims + 1:
        return GLOBAL_FIELD
    if r == IDENTITY:
        return inputs[0]
    if isinstance(r, Moved):
        return _moved(inputs[0], r)
    if r == MERGE:
        if len({f.positions() for f in inputs}) > 1:
            return GLOBAL_FIELD  # inputs whose spatial axes stand in different places
        merged = _union(layer, _pinned(graph, seen, shape), [s for s, _ in seen], notices)
        return merged._replace(axes=inputs[0].axes)
    if isinstance(r, tuple) and len(r) == dims:
        f = inputs[0]
        if f.axes:  # the spans are per axis of the tensor: take each spatial axis's
            r = tuple(r[p - 1] if p >= 1 else _STILL for p in f.axes)
        return _through(f, r)._replace(axes=f.axes)
    return GLOBAL_FIELD


_STILL = Span.window(1, 1, 0)  # each unit sees its own unit


def _moved(f: Field, r: Moved) -> Field:
    """A field whose spatial axes a permute or transpose moved."""
    axes = tuple(r.order.index(p) for p in f.positions())
    return f._replace(axes=() if axes == tuple(range(1, len(axes) + 1)) else axes)


MAX_FIELD_BITS = 512  # a field's numbers stay below 2^512 (numerators and denominators)


def _check_size(f: Field, layer: Layer) -> None:
    """Refuse a field whose numbers outgrow MAX_FIELD_BITS: strides of 10^18 multiplied
    through thousands of layers would take time and memory without bound, and no input is
    that large."""
    for what, values in (("size", f.size), ("stride", f.stride), ("padding", f.padding)):
        for v in values:
            if isinstance(v, int):
                big = v.bit_length() > MAX_FIELD_BITS
            else:
                big = max(v.numerator.bit_length(), v.denominator.bit_length()) > MAX_FIELD_BITS
            if big:
                raise SpecError(
                    f"its receptive field's {what} outgrows 2^{MAX_FIELD_BITS}, the most"
                    " cnncalc tracks (strides, paddings or scale factors multiply along the"
                    " chain of layers)",
                    layer.pos,
                    layer.name,
                )


def _still_and_whole(f: Field, sizes: Sequence[int]) -> bool:
    """A window that stands still (stride 0 in every dimension) over the whole input: every
    unit sees everything, as after global pooling."""
    if f.is_global or not f.exact or any(f.stride):  # the usual case, decided at C speed
        return False
    return all(
        j == 0 and -p <= 0 and r - 1 - p >= n - 1
        for j, p, r, n in zip(f.stride, f.padding, f.size, sizes, strict=True)
    )


def _through(f: Field, spans: Sequence[Span]) -> Field:
    """The recurrence: size grows by the window's width in input strides, and so on."""
    return Field(
        size=tuple(r + s.width * j for r, j, s in zip(f.size, f.stride, spans, strict=True)),
        stride=tuple(s.step * j for j, s in zip(f.stride, spans, strict=True)),
        padding=tuple(p + s.offset * j for p, j, s in zip(f.padding, f.stride, spans, strict=True)),
        bounded=tuple(d for d, s in enumerate(spans) if d in f.bounded or not s.exact),
    )


def _pinned(graph: Graph, seen: list[tuple[str, Field]], out_shape: Sequence[int]) -> list[Field]:
    """Inputs as the merge's units see them: a size-1 dimension broadcast over a larger one
    serves every unit with its one unit, so its window stands still there (stride 0)."""
    pinned = []
    for name, f in seen:
        shape = graph.tensors[name]
        fixed = [shape[p] == 1 and out_shape[p] != 1 for p in f.positions()]
        if any(fixed):
            f = f._replace(
                stride=tuple(0 if b else j for b, j in zip(fixed, f.stride, strict=True))
            )
        pinned.append(f)
    return pinned


def _union(
    layer: Layer, inputs: Sequence[Field], names: Sequence[str], notices: list[Notice]
) -> Field:
    """A merge sees what any of its inputs (`names`) sees; warn where their fields disagree."""
    dims = len(inputs[0].size)
    size, stride, padding = [], [], []
    for d in range(dims):
        strides = {f.stride[d] for f in inputs}
        if len(strides) == 1:
            j = strides.pop()
            p = max(f.padding[d] for f in inputs)
            end = max(f.size[d] - 1 - f.padding[d] for f in inputs)
            centres = {f.centre[d] for f in inputs}
            if len(centres) > 1:
                listed = ", ".join(
                    f"'{n}' at {fraction_text(f.centre[d])}"
                    for n, f in zip(names, inputs, strict=True)
                )
                notices.append(
                    Notice(
                        f"the inputs' receptive fields are not centred alike along"
                        f" {axis_name(d + 1, dims + 1)}"
                        f" (unit 0's centre: {listed}); the merged field is their union",
                        layer.pos,
                        layer.name,
                    )
                )
            size.append(end + p + 1)
            stride.append(j)
            padding.append(p)
            continue
        # Different strides: no single window slides with both. Bound the union by the chords
        # of its first and last unit's windows (its start is concave and its end convex in u).
        n = layer.shape[d + 1]
        first = [f.window_1d(d, 0) for f in inputs]
        last = [f.window_1d(d, n - 1) for f in inputs]
        start0, end0 = min(w[0] for w in first), max(w[1] for w in first)
        start1, end1 = min(w[0] for w in last), max(w[1] for w in last)
        j = exact_div(start1 - start0, n - 1) if n > 1 else inputs[0].stride[d]
        size.append(max(end0 - start0, end1 - start1) + 1)
        stride.append(j)
        padding.append(-start0)
        listed = ", ".join(
            f"'{nm}' {fraction_text(f.stride[d])}"
            + (" (broadcast from size 1)" if f.stride[d] == 0 else "")
            for nm, f in zip(names, inputs, strict=True)
        )
        notices.append(
            Notice(
                f"the inputs' receptive fields move at different strides along"
                f" {axis_name(d + 1, dims + 1)}"
                f" ({listed}); the merged field is a window that contains them all",
                layer.pos,
                layer.name,
            )
        )
    bounded = tuple(sorted({d for f in inputs for d in f.bounded}))
    return Field(tuple(size), tuple(stride), tuple(padding), bounded=bounded)


def region(graph: Graph, name: str, unit: Sequence[int]) -> list[Interval | None]:
    """The exact input pixels one output unit depends on, per dimension: first and last.

    Units are traced back layer by layer through each layer's exact taps, clipped to every
    intermediate tensor's extent, so pixels that only padding or dropped rows would reach are
    not counted. Every layer's taps are separable, so a set of units is kept as boxes (one set
    per dimension), one box per path it is reached by: a path that finds no unit in one
    dimension reaches nothing at all, whatever it finds in the others. A set is a list of
    runs of consecutive units, and a layer that knows which runs a run reads (`Span.runs`)
    maps it whole, so a run's length costs nothing; other layers' units are visited one by
    one, and the runs a set is split into beyond its first are counted with them: at most
    MAX_TRACED in all, past which the trace stops with an error naming the limit. All None
    where the unit sees no input pixel (a zero-padding border).
    """
    order = [layer.name for layer in graph.layers]
    need: dict[str, list[Box]] = {name: [tuple(((u, u),) for u in unit)]}
    budget = _Budget(name, unit)
    fitting = _Fitting()
    for layer_name in reversed(order[: order.index(name.split(":", 1)[0]) + 1]):
        layer = graph.by_name[layer_name]
        for i, out in enumerate(layer.outputs):
            if out not in need:
                continue
            boxes = need.pop(out)
            r = fitting.refine(layer.rules[i])
            for src in layer.inputs:
                if src in graph.free:
                    continue  # a parameter reads no pixel
                shape, made = graph.tensors[src], graph.tensors[out]
                reached = [_back(r, box, shape, made, budget.at(layer)) for box in boxes]
                _add_boxes(need.setdefault(src, []), [b for b in reached if all(b)])
    final = need.get(next(iter(graph.inputs)))
    if not final:
        return [None] * len(unit)
    return [
        (min(b[d][0][0] for b in final), max(b[d][-1][1] for b in final)) for d in range(len(unit))
    ]


Runs = tuple[tuple[int, int], ...]  # sorted runs of units, first and last, apart from each other
Box = tuple[Runs, ...]
MAX_BOXES = 64  # past this many, boxes are merged: a bound, no longer exact
MAX_TRACED = 1 << 16  # units visited one by one, in a whole region trace


class _Budget:
    """Counts the units a region trace visits one by one; fails, located at the layer, past
    MAX_TRACED."""

    def __init__(self, name: str, unit: Sequence[int]) -> None:
        self.left = MAX_TRACED
        self.unit = ", ".join(map(str, unit))
        self.name = name
        self.layer: Layer | None = None

    def at(self, layer: Layer) -> _Budget:
        self.layer = layer
        return self

    def spend(self, units: int) -> None:
        self.left -= units
        if self.left < 0:
            assert self.layer is not None
            raise SpecError(
                f"the input region of unit ({self.unit}) of layer '{self.name}' is too"
                f" scattered to trace exactly: it reaches more than {MAX_TRACED:,} separate"
                " units through this layer and those after it (cnncalc's limit)",
                self.layer.pos,
                self.layer.name,
            )


def _normal(pairs: list[tuple[int, int]]) -> Runs:
    """Runs sorted, with overlapping and touching ones joined."""
    pairs.sort()
    out: list[tuple[int, int]] = []
    for lo, hi in pairs:
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def _inside(a: Runs, b: Runs) -> bool:
    """Every unit of a is a unit of b."""
    starts = [lo for lo, _ in b]
    for lo, hi in a:
        i = bisect_right(starts, lo) - 1
        if i < 0 or b[i][1] < hi:
            return False
    return True


def _add_boxes(have: list[Box], new: list[Box]) -> None:
    """Add boxes to a tensor's list, dropping any box inside another (it reaches nothing the
    other does not: every layer's taps are monotone)."""
    for box in new:
        if any(all(_inside(a, b) for a, b in zip(box, other, strict=True)) for other in have):
            continue
        have[:] = [o for o in have if not all(_inside(a, b) for a, b in zip(o, box, strict=True))]
        have.append(box)
    if len(have) > MAX_BOXES:
        have[:] = [
            tuple(_normal([r for runs in dim for r in runs]) for dim in zip(*have, strict=True))
        ]


def _back(
    r: Rule, wanted: Box, shape: tuple[int, ...], out: tuple[int, ...], budget: _Budget
) -> Box:
    """The units of an input (of `shape`) that the wanted output units depend on."""
    sizes = shape[1:]
    if isinstance(r, Moved):
        return _back_moved(r, wanted, budget)
    if r == GLOBAL or len(shape) != len(out):
        return tuple(((0, n - 1),) for n in sizes)
    if r in (IDENTITY, MERGE):  # a broadcast size-1 input serves every unit with its one unit
        return tuple(
            ((0, 0),) if n == 1 and m != 1 else s
            for s, n, m in zip(wanted, sizes, out[1:], strict=True)
        )
    assert isinstance(r, tuple)
    if len(r) != len(sizes):
        return tuple(((0, n - 1),) for n in sizes)
    return tuple(_back_1d(s, span, n, budget) for s, span, n in zip(wanted, r, sizes, strict=True))


def _back_moved(r: Moved, wanted: Box, budget: _Budget) -> Box:
    """The units a permute or transpose reads: the same, their axes put back. A region is
    traced over the axes behind the channels; a permute that moves the channels among them
    is not traced (the receptive field table follows it exactly)."""
    if r.order[0] != 0:
        assert budget.layer is not None
        raise SpecError(
            "rf --unit cannot trace a unit back through a permute or transpose that moves the"
            " channels axis; the receptive field of this layer (cnncalc rf) is exact",
            budget.layer.pos,
            budget.layer.name,
        )
    back: list[Runs] = list(wanted)
    for i, p in enumerate(r.order[1:], start=1):
        back[p - 1] = wanted[i - 1]
    return tuple(back)


def _back_1d(wanted: Runs, span: Span, n: int, budget: _Budget) -> Runs:
    """The units of an input dimension of size n that the wanted runs of output units read."""
    found: list[tuple[int, int]] = []

    def add(taps: Iterable[int]) -> None:
        if isinstance(taps, range) and taps.step > 0:
            taps = _clip(taps, n)
            if taps.step == 1 or len(taps) <= 1:
                if taps:
                    found.append((taps[0], taps[-1]))
                return
            budget.spend(len(taps))  # a dilated window: its units one by one
        else:
            taps = [t for t in taps if 0 <= t < n]  # a short list (at most 4 taps)
            budget.spend(len(taps))
        found.extend((t, t) for t in taps)

    for a, b in wanted:
        joined = None if span.runs is None else span.runs(a, b)
        if joined is not None:
            for taps in joined:
                add(taps)
            continue
        budget.spend(b - a + 1)
        for o in range(a, b + 1):
            add(span.taps(o))
    runs = _normal(found)
    budget.spend(len(runs) - 1)  # a set split into runs (GLU doubles them) costs them too
    return runs


def _clip(r: range, n: int) -> range:
    """The part of an increasing range inside 0 … n − 1, without visiting it."""
    if not r:
        return r
    first = r.start if r.start >= 0 else r.start + -(-(0 - r.start) // r.step) * r.step
    return range(first, min(r.stop, n), r.step)
