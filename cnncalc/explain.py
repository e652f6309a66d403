"""`cnncalc explain`: each layer's formulas with the numbers substituted, as in an exam answer.

conv1  conv2d  96×128×128 → 128×64×64
  H_out = ⌊(128 + 2·3 − 1·(7−1) − 1) / 2⌋ + 1 = 64     (W the same)
  params = (96·7·7 + 1)·128 = 602,240
  MACs   = 128·64·64 · 96·7·7 = 2,466,250,752
  RF     = 7, stride 2, padding 3
"""

from __future__ import annotations

from cnncalc.arithmetic import fraction_text
from cnncalc.graph import Graph, Layer, Notice
from cnncalc.layers import TYPES
from cnncalc.layers.costs import WEIGHTED_FLOPS
from cnncalc.receptive import Field, fields


def _shape(dims: tuple[int, ...]) -> str:
    return "×".join(map(str, dims)) if dims else "scalar"


def _per_dim(values: tuple[object, ...]) -> str:
    texts = [fraction_text(v) for v in values]  # type: ignore[arg-type]
    return texts[0] if len(set(texts)) == 1 else "×".join(texts)


def _rf(field: Field) -> str:
    if field.is_global:
        return "global (every unit sees the whole input)"
    return (
        f"{_per_dim(field.size)}, stride {_per_dim(field.stride)},"
        f" padding {_per_dim(field.padding)}"
    )


def explain_layer(
    graph: Graph, layer: Layer, rf: dict[str, Field], *, batch: int = 1, flops: bool = False
) -> str:
    """The worked formulas for one layer."""
    t = TYPES[layer.type]
    inputs = graph.input_shapes(layer)
    display = graph.layout.display
    ex = t.explain(layer.args, inputs, layer.shape, display)
    ins = ", ".join(_shape(display(s)) for s in inputs)
    lines = [f"{layer.name}  {layer.type}  {ins} → {_shape(display(layer.shape))}"]
    if ex.shape:
        lines += [f"  {line}" for line in ex.shape]
    elif all(s == layer.shape for s in inputs):
        lines.append("  shape unchanged")
    params = layer.result.param_count
    formula = f"{ex.params} = " if ex.params and params else ""
    note = f"     ({ex.params_note})" if ex.params_note and params else ""
    lines.append(f"  params = {formula}{params:,}{note}")
    if layer.result.buffer_count:
        formula = f"{ex.buffers} = " if ex.buffers else ""
        note = f"     ({ex.buffers_note})" if ex.buffers_note else ""
        lines.append(f"  buffers = {formula}{layer.result.buffer_count:,}{note}")
    cost = layer.cost
    times = f"{batch} · " if batch != 1 else ""
    if cost.macs and ex.macs:
        lines.append(f"  MACs   = {times}{ex.macs} = {batch * cost.macs:,}")
    else:
        lines.append(f"  MACs   = {batch * cost.macs:,}")
    if flops:
        worked = _flops(t.flops_applied(layer.args), batch * cost.macs, batch * cost.flops)
        lines.append(f"  FLOPs  = {worked}")
    if layer.name in rf:
        lines.append(f"  RF     = {_rf(rf[layer.name])}")
    return "\n".join(lines) + "\n"


def _flops(rule: str, macs: int, flops: int) -> str:
    """'2·1,296 + 144 (bias) = 2,736' for the weighted layers, '288     (2 per element: ...)'
    for the rest, '0' where there is nothing to say."""
    if rule == WEIGHTED_FLOPS:
        bias = flops - 2 * macs
        return f"2·{macs:,}{f' + {bias:,} (bias)' if bias else ''} = {flops:,}"
    if rule == "0":
        return f"{flops:,}"
    return f"{flops:,}     ({rule.removeprefix('0: ')})"  # embedding's '0: a lookup


def explain(
    graph: Graph, *, layer: str | None = None, batch: int = 1, flops: bool = False
) -> tuple[str, tuple[Notice, ...]]:
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
    text = "\n".join(explain_layer(graph, x, rf, batch=batch, flops=flops) for x in chosen)
    return text, (*graph.notices, *rf_notices)
