"""`cnncalc explain`: each layer's formulas with the numbers substituted, as records.

cnncalc/render/explain.py writes them as an exam answer:

conv1  conv2d  96×128×128 → 128×64×64
  H_out = ⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64     (W the same)
  params = (96·7·7 + 1)·128 = 602,240
         = 602,112 weights + 128 biases
  MACs   = 128·64·64 · 96·7·7 = 2,466,250,752
  RF     = 7, stride 2, padding 3
"""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.graph import Graph, Layer, Notice
from cnncalc.layers import TYPES
from cnncalc.layers.costs import WEIGHTED_FLOPS
from cnncalc.receptive import Field, fields
from cnncalc.weights import biases

Shape = tuple[int, ...]


class Worked(NamedTuple):
    """A figure and the product it comes from (None where there is none worth writing)."""

    value: int
    formula: str | None = None  # "(96·7·7 + 1)·128", for one sample
    note: str | None = None  # what the figure counts, where the formula does not say


class FlopsWork(NamedTuple):
    """A layer's FLOPs and the rule behind them: 2 per MAC plus the bias for weighted layers
    (`bias` set), a rule in words for the rest (`rule`), or neither where FLOPs are 0."""

    value: int
    macs: int
    bias: int | None = None
    rule: str | None = None


class LayerExplanation(NamedTuple):
    """One layer's worked formulas; shapes in the spec's layout, figures at the batch size."""

    name: str
    type: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    shape_formulas: tuple[str, ...]  # lines such as "H_out = ... = 64"
    shape_unchanged: bool  # no formula because every input has the output's shape
    params: Worked
    buffers: Worked | None  # None for a layer without buffers
    macs: Worked
    flops: FlopsWork | None  # None unless asked for
    field: Field | None  # None for a layer outside any receptive field
    biases: int = 0  # of the parameters, those in bias tensors (cnncalc/weights.py)
    shares: str | None = None  # the layer whose weights it uses (its params are counted there)
    more_shapes: tuple[Shape, ...] = ()  # its outputs after the first

    @property
    def weights(self) -> int:
        """The parameters that are not biases (a batch norm's γ among them)."""
        return self.params.value - self.biases


class Explanation(NamedTuple):
    """What `explain` found: the layers chosen, at a batch size, and the warnings."""

    name: str | None
    batch: int
    layers: tuple[LayerExplanation, ...]
    notices: tuple[Notice, ...]


def explain_layer(
    graph: Graph, layer: Layer, rf: dict[str, Field], *, batch: int = 1, flops: bool = False
) -> LayerExplanation:
    """The worked formulas for one layer, written in its spec's layout."""
    t = TYPES[layer.type]
    inputs = graph.input_shapes(layer)
    display = graph.layout.display
    ex = t.explain(layer.args, inputs, layer.shape, display)
    params = layer.result.param_count
    buffers = layer.result.buffer_count
    cost = layer.cost
    return LayerExplanation(  # positional: keywords cost a tenth of a big spec's time
        layer.name,
        layer.type,
        tuple([display(s) for s in inputs]),
        display(layer.shape),
        tuple(ex.shape),
        not ex.shape and all(s == layer.shape for s in inputs),
        Worked(
            params,
            ex.params if ex.params and params else None,
            ex.params_note if ex.params_note and params else None,
        ),
        Worked(buffers, ex.buffers or None, ex.buffers_note or None) if buffers else None,
        Worked(batch * cost.macs, ex.macs if cost.macs and ex.macs else None),
        _flops(t.flops_applied(layer.args), batch * cost.macs, batch * cost.flops)
        if flops
        else None,
        rf.get(layer.name),
        biases(layer.result.params),
        layer.shares,
        tuple([display(s) for s in layer.result.more]),
    )


def _flops(rule: str, macs: int, flops: int) -> FlopsWork:
    """2·MACs + bias for the weighted layers, the rule in words for the rest, nothing for 0."""
    if rule == WEIGHTED_FLOPS:
        return FlopsWork(flops, macs, bias=flops - 2 * macs)
    if rule == "0":
        return FlopsWork(flops, macs)
    return FlopsWork(flops, macs, rule=rule.removeprefix("0: "))  # embedding's '0: a lookup'


def explain(
    graph: Graph, *, layer: str | None = None, batch: int = 1, flops: bool = False
) -> Explanation:
    """Every layer's formulas (or one layer's, or one block instance's layers), and the
    warnings summarize would give."""
    from cnncalc.rfquery import find_layer

    rf, rf_notices = fields(graph)
    if layer is None:
        chosen = list(graph.layers)
    elif layer in graph.group_outputs and layer not in graph.by_name:
        chosen = [x for x in graph.layers if any(g.name == layer for g in x.groups)]
    else:
        chosen = [find_layer(graph, layer)]
    layers = tuple(explain_layer(graph, x, rf, batch=batch, flops=flops) for x in chosen)
    return Explanation(graph.name, batch, layers, (*graph.notices, *rf_notices))
