"""`cnncalc verify SPEC --against MODEL`: a hand-written spec compared with a real model.

The model arrives as the graph of its imported spec (cnncalc/importers, whose translation is
checked against the model itself). The layers that hold weights or buffers are paired by name
where the names agree, else in order of appearance; each pair must make the same output shape
and hold as many parameters and buffers, and the networks the same totals and outputs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.errors import Pos
from cnncalc.graph import Graph, Layer
from cnncalc.layers.tensors import Shape

NAME_SHARE = 0.5  # past this share of the spec's weighted layers found by name, pair by name


class Difference(NamedTuple):
    """One way the spec differs from the model, located in the spec where it can be."""

    what: str  # "type", "output shape", "params", "buffers", or "missing" / "extra" (a layer)
    layer: str | None  # the spec's layer (None: the whole network, or a layer only the model has)
    model_layer: str | None  # the model's layer paired with it
    spec: Any  # the spec's figure (a layer's parameters, for "extra")
    model: Any  # the model's (a layer's parameters, for "missing")
    pos: Pos = Pos("", 0, 0)


class Verdict(NamedTuple):
    """The comparison: every difference, how the layers were paired and how many."""

    spec_label: str
    model_label: str
    differences: tuple[Difference, ...]
    paired: int  # weighted layers paired
    by: str  # "name" or "order"

    @property
    def agrees(self) -> bool:
        return not self.differences


def _weighted(g: Graph) -> list[Layer]:
    """The layers that own weights or buffers (a layer sharing another's owns none)."""
    return [x for x in g.layers if x.shares is None and (x.result.params or x.result.buffers)]


def _pairs(
    spec: list[Layer], model: list[Layer]
) -> tuple[list[tuple[Layer | None, Layer | None]], str]:
    """The spec's weighted layers with the model's: by name when most names agree, else in
    order; what neither side pairs stays alone."""
    names = {x.name: x for x in model}
    found = sum(1 for x in spec if x.name in names)
    if spec and found / len(spec) > NAME_SHARE:
        taken = {x.name for x in spec if x.name in names}
        pairs: list[tuple[Layer | None, Layer | None]] = [(x, names.get(x.name)) for x in spec]
        pairs += [(None, y) for y in model if y.name not in taken]
        return pairs, "name"
    pairs = [
        (spec[i] if i < len(spec) else None, model[i] if i < len(model) else None)
        for i in range(max(len(spec), len(model)))
    ]
    return pairs, "order"


def _compare(a: Layer, b: Layer, layout: Any) -> list[Difference]:
    """How one pair differs."""
    out = []
    for what, mine, theirs in (
        ("type", a.type, b.type),
        ("output shape", layout(a.shape), layout(b.shape)),
        ("params", a.result.param_count, b.result.param_count),
        ("buffers", a.result.buffer_count, b.result.buffer_count),
    ):
        if mine != theirs:
            out.append(Difference(what, a.name, b.name, mine, theirs, a.pos))
    return out


def verify(spec: Graph, model: Graph, spec_label: str, model_label: str) -> Verdict:
    """Every difference between a spec's graph and a model's imported graph."""
    pairs, by = _pairs(_weighted(spec), _weighted(model))
    differences: list[Difference] = []
    for a, b in pairs:
        if a is not None and b is not None:
            differences += _compare(a, b, spec.layout.display)
        elif a is not None:
            differences.append(Difference("extra", a.name, None, a.result.param_count, None, a.pos))
        elif b is not None:
            differences.append(Difference("missing", None, b.name, None, b.result.param_count))
    differences += _totals(spec, model)
    paired = sum(1 for a, b in pairs if a is not None and b is not None)
    return Verdict(spec_label, model_label, tuple(differences), paired, by)


def _totals(spec: Graph, model: Graph) -> list[Difference]:
    """The network's figures: parameters, buffers and output shapes."""

    def total(g: Graph, figure: str) -> int:
        return sum(getattr(x.result, figure) for x in g.layers if x.shares is None)

    def outputs(g: Graph) -> list[Shape]:  # in the spec's layout, both
        return [spec.layout.display(g.tensors[name]) for name in g.outputs]

    out = []
    for what, mine, theirs in (
        ("params", total(spec, "param_count"), total(model, "param_count")),
        ("buffers", total(spec, "buffer_count"), total(model, "buffer_count")),
        ("output shape", outputs(spec), outputs(model)),
    ):
        if mine != theirs:
            out.append(Difference(what, None, None, mine, theirs))
    return out
