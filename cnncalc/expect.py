"""Expectations (`expect:` in a spec, and budgets from the command line) and their checking.

Every figure is an exact value or `{min, max}`; numbers may be written for humans: 26M, 4.1G,
1.5e9, 25_557_032. An expectation that names something that does not exist is a SpecError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple

from cnncalc.analysis import Summary
from cnncalc.errors import Pos, SpecError, did_you_mean, quoted, shown
from cnncalc.graph import Graph, Layer
from cnncalc.layers.spans import FITTED_TOTAL, FITTED_UNITS
from cnncalc.layers.tensors import Shape
from cnncalc.notation import axis_name, size
from cnncalc.receptive import Field, fields
from cnncalc.source import Node
from cnncalc.spec import Spec

_SUFFIX = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
MAX_EXPONENT = 60  # figures a spec can expect lie between 1e-60 and 1e60
MAX_NUMBER_TEXT = 100  # characters: a longer figure is refused before it is matched
# ASCII digits only ([0-9], not \d, which matches '٣'). Each text has one way to match: digits
# first then '_' separators, or a point first; so a failing match is linear, not quadratic.
_RATIO = re.compile(r"\s*([0-9]{1,60})\s*/\s*([0-9]{1,60})\s*\Z")
_HUMAN = re.compile(
    r"\s*([-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]{1,9})?)"
    r"\s*([kKMGT]i?)?B?\s*\Z"
)

# Figures of the whole network, by the name used in `expect:` and in --max-NAME options.
# MACs, FLOPs and memory are at the batch size, dtype and optimizer `check` is run with.
TOTALS: dict[str, Callable[[Summary], int]] = {
    "params": lambda s: s.totals.params,
    "trainable_params": lambda s: s.totals.trainable_params,
    "non_trainable_params": lambda s: s.totals.non_trainable_params,
    "frozen_params": lambda s: s.totals.frozen_params,
    "buffers": lambda s: s.totals.buffers,
    "param_bytes": lambda s: s.totals.param_bytes,
    "macs": lambda s: s.totals.macs,
    "flops": lambda s: s.totals.flops,
    "training_flops": lambda s: s.totals.training_flops,  # forward + backward
    "activations_bytes": lambda s: s.memory.activations_bytes,  # kept for backward
    "activations": lambda s: s.memory.activations_bytes,  # as --max-activations names it
    "memory": lambda s: s.memory.total_bytes,
    "inference_memory": lambda s: s.memory.inference_bytes,
}
# Figures of one layer (or block instance), in `expect: layers: NAME: {...}`.
LAYER_FIGURES: dict[str, Callable[[Graph, list[Layer]], int]] = {
    "params": lambda g, ls: sum(x.result.param_count for x in ls),
    "trainable_params": lambda g, ls: sum(x.result.param_count for x in ls if x.trainable),
    "buffers": lambda g, ls: sum(x.result.buffer_count for x in ls),
    "macs": lambda g, ls: sum(x.cost.macs for x in ls),  # per sample
    "flops": lambda g, ls: sum(x.cost.flops for x in ls),
}
# Figures of one layer at the batch and dtype `check` is run with, from the summary's memory:
# what its backward keeps (storage that an earlier layer keeps counts there), what it makes.
LAYER_MEMORY: dict[str, Callable[[Summary, list[Layer]], int]] = {
    "saved_bytes": lambda s, ls: sum(s.memory.layers[x.name].saved_bytes for x in ls),
    "output_bytes": lambda s, ls: sum(s.memory.layers[x.name].output_bytes for x in ls),
}


def parse_number(value: object) -> Fraction:
    """26M → 26,000,000; 4.1G; 1.5e9; 25_557_032; 1.5GiB; 11/2. Exact: no float rounding.
    Never negative: every figure is a count or a size."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{shown(value)} is not a number")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value} is negative; figures are counts and sizes, 0 or more")
        return Fraction(value)
    suffix = ""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{shown(value)} is not a finite number")
        decimal = Decimal(repr(value))
    elif not isinstance(value, str):
        raise ValueError(f"{shown(value)} is not a number")
    elif len(value) > MAX_NUMBER_TEXT:  # before any match or conversion
        raise ValueError(f"{quoted(value)} is longer than {MAX_NUMBER_TEXT} characters")
    elif (q := _RATIO.match(value)) is not None:  # 11/2, as receptive fields print
        if int(q[2]) == 0:
            raise ValueError(f"{shown(value)} divides by zero")
        return Fraction(int(q[1]), int(q[2]))
    else:
        m = _HUMAN.match(value)
        if not m:
            raise ValueError(
                f"{shown(value)} is not a number (write 26M, 4.1G, 1.5e9 or 25_557_032)"
            )
        if len(m.group(1)) > MAX_EXPONENT:
            raise ValueError(f"{quoted(str(value))} has more than {MAX_EXPONENT} digits")
        try:
            decimal = Decimal(m.group(1).replace("_", ""))
        except InvalidOperation:
            raise ValueError(f"{shown(value)} is not a number") from None
        suffix = m.group(2) or ""
    # Checked before the exact conversion, which would build 10^999999999 digit by digit.
    if decimal and not -MAX_EXPONENT <= decimal.adjusted() <= MAX_EXPONENT:
        raise ValueError(
            f"{shown(value)} is out of range (figures lie between 1e-{MAX_EXPONENT}"
            f" and 1e{MAX_EXPONENT})"
        )
    if decimal < 0:  # a bound below zero would pass or fail every network alike
        raise ValueError(f"{shown(value)} is negative; figures are counts and sizes, 0 or more")
    return Fraction(decimal) * _SUFFIX[suffix]


def human(x: Fraction | int, in_bytes: bool = False) -> str:
    """A bound as people wrote it and as an exact figure: 26,000,000; a figure in bytes with
    its binary unit too: 1,048,840 B (1.00 MiB)."""
    x = Fraction(x)
    text = f"{x.numerator:,}" if x.denominator == 1 else f"{float(x):,.6g}"
    if not in_bytes:
        return text
    whole = size(math.floor(x))
    return f"{text} B" if whole.endswith(" B") else f"{text} B ({whole})"


BYTE_FIGURES = frozenset(
    k for k in (*TOTALS, *LAYER_MEMORY) if k.endswith(("_bytes", "memory", "activations"))
)


class Bound(NamedTuple):
    """An exact value, or a range with either end open."""

    exact: Fraction | None = None
    min: Fraction | None = None
    max: Fraction | None = None
    pos: Pos = Pos("", 0, 0)
    min_pos: Pos | None = None
    max_pos: Pos | None = None

    def violation(
        self, what: str, value: Fraction | int, in_bytes: bool = False
    ) -> tuple[str, Pos] | None:
        """A message and where to point, or None when the value is within bounds."""

        def h(x: Fraction | int) -> str:
            return human(x, in_bytes)

        if self.exact is not None and value != self.exact:
            return f"{what} is {h(value)}, expected {h(self.exact)}", self.pos
        if self.min is not None and value < self.min:
            return (
                f"{what} is {h(value)}, less than the minimum {h(self.min)}",
                self.min_pos or self.pos,
            )
        if self.max is not None and value > self.max:
            return (
                f"{what} is {h(value)}, more than the maximum {h(self.max)}",
                self.max_pos or self.pos,
            )
        return None


class Expectation(NamedTuple):
    """One thing a spec (or the command line) promises about the computed network."""

    what: str  # as a message names it: "params", "layer 'layer3' output_shape"
    kind: str  # "total", "layer", "shape", "rf"
    key: str  # the figure's name
    layer: str | None = None
    bound: Bound | None = None
    shape: Shape | None = None
    pos: Pos = Pos("", 0, 0)


class Failure(NamedTuple):
    message: str
    pos: Pos | None  # None: a budget from the command line, not a line of the spec


def budget(figure: str, limit: Fraction) -> Expectation:
    """A --max-FIGURE option: the same check as `expect: {FIGURE: {max: LIMIT}}`."""
    return Expectation(
        f"{figure} (--max-{figure.replace('_', '-')})",
        "total",
        figure,
        bound=Bound(max=limit),
        pos=Pos("", 0, 0),
    )


def parse(spec: Spec, graph: Graph) -> list[Expectation]:
    """The spec's `expect:` block, checked against the names the graph has."""
    node = spec.expect
    if node is None or node.value is None:
        return []
    if not node.is_map:
        raise SpecError("'expect' must be a mapping such as {params: {max: 26M}}", node.pos)
    out: list[Expectation] = []
    keys = [*TOTALS, "output_shape", "receptive_field", "layers"]
    for key, value in node.value.items():
        kpos = node.key_pos[key]
        if key in TOTALS:
            out.append(Expectation(key, "total", key, bound=_bound(value, key), pos=value.pos))
        elif key == "output_shape":
            out.append(
                Expectation("output_shape", "shape", key, shape=_shape(value), pos=value.pos)
            )
        elif key == "receptive_field":
            out.append(_rf(value, graph, None))
        elif key == "layers":
            out += _layers(value, graph)
        else:
            raise SpecError(
                f"unknown expectation '{key}'{did_you_mean(key, keys)} (known: {', '.join(keys)})",
                kpos,
            )
    return out


def _number(node: Node, what: str) -> Fraction:
    try:
        return parse_number(node.value)
    except ValueError as err:
        raise SpecError(f"{what}: {err}", node.pos) from None


def _bound(node: Node, what: str) -> Bound:
    if not node.is_map:
        return Bound(exact=_number(node, what), pos=node.pos)
    for key in node.value:
        if key not in ("min", "max"):
            raise SpecError(
                f"{what}: a range has 'min' and/or 'max', not '{key}'", node.key_pos[key]
            )
    if not node.value:
        raise SpecError(f"{what}: an empty range; give min, max or an exact value", node.pos)
    lo = node.value.get("min")
    hi = node.value.get("max")
    bound = Bound(
        min=None if lo is None else _number(lo, what),
        max=None if hi is None else _number(hi, what),
        pos=node.pos,
        min_pos=None if lo is None else lo.pos,
        max_pos=None if hi is None else hi.pos,
    )
    if bound.min is not None and bound.max is not None and bound.min > bound.max:
        raise SpecError(
            f"{what}: min {human(bound.min)} is more than max {human(bound.max)}", node.pos
        )
    return bound


def _shape(node: Node) -> Shape:
    items = node.value if node.is_list else None
    if not items or any(isinstance(i.value, bool) or not isinstance(i.value, int) for i in items):
        raise SpecError(
            "output_shape must be a list of sizes like [1000] or [64, 56, 56]", node.pos
        )
    return tuple(i.value for i in items)


def _rf(node: Node, graph: Graph, layer: str | None) -> Expectation:
    """receptive_field: {layer: NAME, min: 400} (at the top level) or {min: 400} (per layer)."""
    if not node.is_map:
        if layer is None:
            raise SpecError(
                "receptive_field needs a mapping like {layer: layer4, min: 400}", node.pos
            )
        return Expectation(
            f"layer '{layer}' receptive_field size",
            "rf",
            "receptive_field",
            layer=layer,
            bound=_bound(node, "receptive_field"),
            pos=node.pos,
        )
    values = dict(node.value)
    if layer is None:
        if "layer" not in values:
            raise SpecError(
                "receptive_field needs 'layer': the layer whose field is checked", node.pos
            )
        lnode = values.pop("layer")
        layer = _layer_name(lnode, graph)
    rest = Node(
        {k: v for k, v in values.items() if k != "size"},
        node.pos,
        {k: p for k, p in node.key_pos.items() if k in values and k != "size"},
    )
    if "size" in values:
        bound = Bound(exact=_number(values["size"], "receptive_field size"), pos=values["size"].pos)
    else:
        bound = _bound(rest, "receptive_field")
    return Expectation(
        f"layer '{layer}' receptive_field size",
        "rf",
        "receptive_field",
        layer=layer,
        bound=bound,
        pos=node.pos,
    )


def _layer_name(node: Node, graph: Graph) -> str:
    name = node.value
    if not isinstance(name, str) or (name not in graph.by_name and name not in graph.group_outputs):
        known = [*graph.by_name, *graph.group_outputs]
        raise SpecError(
            f"expect names layer {shown(name)}, which the network does not have"
            f"{did_you_mean(str(name), known)}",
            node.pos,
        )
    return name


def _layers(node: Node, graph: Graph) -> list[Expectation]:
    if not node.is_map:
        raise SpecError("'layers' under expect maps layer names to expectations", node.pos)
    out: list[Expectation] = []
    keys = [*LAYER_FIGURES, *LAYER_MEMORY, "output_shape", "receptive_field"]
    for name, value in node.value.items():
        layer = _layer_name(Node(name, node.key_pos[name]), graph)
        if not value.is_map:
            raise SpecError(
                f"expectations of layer '{name}' must be a mapping such as"
                " {output_shape: [64, 56, 56]}",
                value.pos,
            )
        for key, item in value.value.items():
            what = f"layer '{layer}' {key}"
            if key in LAYER_FIGURES or key in LAYER_MEMORY:
                out.append(
                    Expectation(
                        what, "layer", key, layer=layer, bound=_bound(item, what), pos=item.pos
                    )
                )
            elif key == "output_shape":
                out.append(
                    Expectation(what, "shape", key, layer=layer, shape=_shape(item), pos=item.pos)
                )
            elif key == "receptive_field":
                out.append(_rf(item, graph, layer))
            else:
                raise SpecError(
                    f"unknown expectation '{key}' for a layer{did_you_mean(key, keys)}"
                    f" (known: {', '.join(keys)})",
                    value.key_pos[key],
                )
    return out


def evaluate(expectations: list[Expectation], graph: Graph, summary: Summary) -> list[Failure]:
    """The expectations that the computed network does not meet."""
    failures: list[Failure] = []
    rf: Mapping[str, Field] | None = None
    for e in expectations:
        pos = e.pos if e.pos.line else None
        if e.kind == "shape":
            actual = (
                summary.output_shape
                if e.layer is None
                else graph.layout.display(_output_shape(graph, e.layer))
            )
            if actual != e.shape:
                failures.append(
                    Failure(f"{e.what} is {_fmt(actual)}, expected {_fmt(e.shape or ())}", pos)
                )
            continue
        assert e.bound is not None
        if e.kind == "total":
            value: Fraction | int = TOTALS[e.key](summary)
        elif e.kind == "layer":
            assert e.layer is not None
            members = _members(graph, e.layer)
            if e.key in LAYER_MEMORY:
                value = LAYER_MEMORY[e.key](summary, members)
            else:
                value = LAYER_FIGURES[e.key](graph, members)
            if e.key in ("macs", "flops"):
                value *= summary.memory.batch
        else:
            assert e.layer is not None
            if rf is None:
                rf = fields(graph)[0]
            f = rf.get(graph.group_outputs.get(e.layer, e.layer))
            if f is None or f.is_global:
                # A global field covers the whole input: it meets any minimum, but has no size
                # to compare with a maximum or an exact value.
                if e.bound.max is not None or e.bound.exact is not None:
                    why = "global" if f is not None else "undefined (no spatial input)"
                    failures.append(Failure(f"{e.what} is {why}, not a number", pos))
                continue
            for d, size in enumerate(f.size):  # every dimension must meet the bound
                square = len(set(f.size)) == 1
                what = e.what if square else f"{e.what} (along {axis_name(d + 1, len(f.size) + 1)})"
                problem = (
                    e.bound.violation(what, size)
                    if d not in f.bounded
                    else _bounded(e.bound, what, size)
                )
                if problem:
                    failures.append(Failure(problem[0], problem[1] if pos else None))
                    break
            continue
        problem = e.bound.violation(e.what, value, e.key in BYTE_FIGURES)
        if problem:
            message, where = problem
            failures.append(Failure(message, where if pos else None))
    return failures


def _bounded(bound: Bound, what: str, upper: Fraction | int) -> tuple[str, Pos] | None:
    """Check a field size known only to be at most `upper` (interpolating upsampling past
    FITTED_UNITS units a side, or FITTED_TOTAL in the network): it settles a minimum it
    misses and a maximum it meets, and nothing else, which fails rather than passes."""
    if bound.min is not None and upper < bound.min:
        return (
            f"{what} is at most {human(upper)}, less than the minimum {human(bound.min)}",
            bound.min_pos or bound.pos,
        )
    if bound.exact is None and bound.min is None and bound.max is not None and upper <= bound.max:
        return None
    return (
        f"{what} cannot be checked: interpolating upsampling past {FITTED_UNITS:,} units a"
        f" side (or past {FITTED_TOTAL:,} units in the network) gives only a bound of the"
        f" field (at most {human(upper)}), not its size",
        bound.pos,
    )


def _fmt(shape: Shape) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _output_shape(graph: Graph, name: str) -> Shape:
    return graph.tensors[graph.group_outputs.get(name, name)]


def _members(graph: Graph, name: str) -> list[Layer]:
    if name in graph.by_name:
        return [graph.by_name[name]]
    return [x for x in graph.layers if any(g.name == name for g in x.groups)]
