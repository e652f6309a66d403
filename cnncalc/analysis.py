"""Layer graph → Summary: per-row figures (optionally collapsed by depth) and totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from cnncalc.autograd import step
from cnncalc.expand import Group
from cnncalc.graph import Graph, Layer, Notice
from cnncalc.layers import Cost, Shape
from cnncalc.memory import Dtype, Memory, Optimizer, memory
from cnncalc.receptive import Field, fields
from cnncalc.spec import INPUT_REF
from cnncalc.weights import biases


class Row(NamedTuple):
    """One line of a summary: a layer, or a block instance collapsed by --depth."""

    name: str
    type: str
    inputs: tuple[str, ...]
    output_shape: Shape  # in the spec's layout
    params: int
    trainable_params: int
    buffers: int
    depth: int  # 0 = top level
    layers: int = 1  # how many layers the row stands for
    group: bool = False  # a collapsed block instance or repeat rather than one layer
    receptive_field: Field | None = None  # None when the network has no spatial dimensions
    macs: int = 0  # at the summary's batch size
    flops: int = 0
    param_tensors: tuple[tuple[str, int], ...] = ()
    buffer_tensors: tuple[tuple[str, int], ...] = ()
    biases: int = 0  # of `params`, those in bias tensors (cnncalc/weights.py); the rest weights

    @property
    def weights(self) -> int:
        return self.params - self.biases

    groups: tuple[tuple[str, str], ...] = ()  # enclosing block instances (name, kind), outer first
    shares: str | None = None  # the layer whose weights it uses: `params` counts none of them
    more_shapes: tuple[Shape, ...] = ()  # the shapes of its outputs after the first
    names: tuple[str, ...] = ()  # the names given to those outputs
    saved_bytes: int = 0  # what its backward keeps (and no earlier layer keeps), at the batch
    output_bytes: int = 0  # the new tensors it makes at the batch (0: a view or in place)
    backward_macs: int = 0  # its backward's multiply-accumulates at the batch
    backward_flops: int = 0


class Totals(NamedTuple):
    params: int  # every learnable parameter, trainable or frozen
    trainable_params: int
    frozen_params: int
    buffers: int  # running statistics
    non_trainable_params: int  # Keras's figure: frozen parameters + buffers
    param_bytes: int  # parameters at the summary's dtype
    macs: int  # at the summary's batch size
    flops: int
    biases: int = 0  # of `params`, those in bias tensors (cnncalc/weights.py); the rest weights
    backward_macs: int = 0  # at the summary's batch size
    backward_flops: int = 0

    @property
    def weights(self) -> int:
        return self.params - self.biases

    @property
    def training_flops(self) -> int:
        """One training step: forward and backward."""
        return self.flops + self.backward_flops


class Summary(NamedTuple):
    name: str | None
    input_shape: Shape  # in the spec's layout
    output_shape: Shape
    layout: str
    rows: tuple[Row, ...]
    totals: Totals
    layer_count: int
    notices: tuple[Notice, ...]
    memory: Memory
    spatial: bool = False  # the input has spatial dimensions, so layers have receptive fields
    is_chain: bool = False  # every row takes input from the row before (no Inputs column)
    inputs: tuple[tuple[str, Shape], ...] = ()  # every input (name, shape), where several
    outputs: tuple[tuple[str, Shape], ...] = ()  # every output (tensor, shape), where several


def _is_chain(rows: Sequence[Row]) -> bool:
    prev = INPUT_REF
    for row in rows:
        if row.inputs != (prev,):
            return False
        prev = row.name
    return True


def summarize(
    graph: Graph,
    *,
    depth: int | None = None,
    batch: int = 1,
    dtype: Dtype = Dtype.FLOAT32,
    optimizer: Optimizer = Optimizer.ADAM,
    state_dtype: Dtype | None = None,
    mixed_precision: Dtype | None = None,
) -> Summary:
    """Figures for every layer and the totals; `depth` collapses deeper block instances.

    MACs, FLOPs and activation memory scale with `batch`; bytes use `dtype` (or, under
    `mixed_precision`, that half dtype: cnncalc/memory.py says which tensors get which).
    """
    display = graph.layout.display
    layers = graph.layers
    costs = {layer.name: layer.cost for layer in layers}
    training = step(graph)
    mem = memory(
        graph,
        batch=batch,
        dtype=dtype,
        optimizer=optimizer,
        state_dtype=state_dtype,
        mixed_precision=mixed_precision,
        training=training,
    )
    back = training.backward
    totals = _totals(layers, costs, back, batch, mixed_precision or dtype)
    rf, rf_notices = fields(graph)
    rows = tuple(_rows(graph, depth, rf, _figures(costs, back, mem, batch)))
    return Summary(
        name=graph.name,
        input_shape=display(graph.input_shape),
        output_shape=display(graph.output_shape),
        layout=graph.layout.value,
        rows=rows,
        totals=totals,
        layer_count=len(layers),
        notices=(*graph.notices, *rf_notices),
        memory=mem,
        spatial=bool(rf),
        is_chain=_is_chain(rows),
        inputs=tuple((n, display(s)) for n, s in graph.inputs.items()) if graph.several else (),
        outputs=tuple((n, display(graph.tensors[n])) for n in graph.outputs)
        if graph.several
        else (),
    )


class Figures(NamedTuple):
    """A layer's figures at the summary's batch: forward and backward cost, memory."""

    macs: int
    flops: int
    backward_macs: int
    backward_flops: int
    saved_bytes: int
    output_bytes: int


def _totals(
    layers: Sequence[Layer],
    costs: dict[str, Cost],
    back: Mapping[str, Cost],
    batch: int,
    dtype: Dtype,
) -> Totals:
    """The network's totals: shared weights count once; costs at the batch."""
    owners = [layer for layer in layers if layer.shares is None]
    trainable = sum(layer.result.param_count for layer in owners if layer.trainable)
    params = sum(layer.result.param_count for layer in owners)
    buffers = sum(layer.result.buffer_count for layer in owners)
    return Totals(
        params=params,
        trainable_params=trainable,
        frozen_params=params - trainable,
        buffers=buffers,
        non_trainable_params=params - trainable + buffers,
        param_bytes=params * dtype.bytes,
        macs=batch * sum(c.macs for c in costs.values()),
        flops=batch * sum(c.flops for c in costs.values()),
        biases=sum(biases(layer.result.params) for layer in owners),
        backward_macs=batch * sum(c.macs for c in back.values()),
        backward_flops=batch * sum(c.flops for c in back.values()),
    )


def _figures(
    costs: dict[str, Cost], back: Mapping[str, Cost], mem: Memory, batch: int
) -> dict[str, Figures]:
    """Every layer's figures at the batch."""
    return {
        n: Figures(
            batch * c.macs,
            batch * c.flops,
            batch * back[n].macs,
            batch * back[n].flops,
            mem.layers[n].saved_bytes,
            mem.layers[n].output_bytes,
        )
        for n, c in costs.items()
    }


def _container(layer: Layer, depth: int | None) -> Group | None:
    if depth is None or len(layer.groups) < depth:
        return None
    return layer.groups[depth - 1]


def _rows(
    graph: Graph, depth: int | None, rf: dict[str, Field], cost: dict[str, Figures]
) -> list[Row]:
    """One row per layer, or per block instance collapsed at `depth`."""
    shown: dict[str, str] = {}  # layer name → the row that shows it
    members: dict[str, list[Layer]] = {}
    order: list[tuple[str, Group | None]] = []
    for layer in graph.layers:
        group = _container(layer, depth)
        key = layer.name if group is None else group.name
        shown[layer.name] = key
        if key not in members:
            members[key] = []
            order.append((key, group))
        members[key].append(layer)
    rows = []
    for key, group in order:
        inside = members[key]
        names = {layer.name for layer in inside}
        inputs: dict[str, None] = {}  # in first-seen order, each once
        for layer in inside:
            for src in layer.inputs:
                producer = src.split(":", 1)[0]
                if producer not in names:
                    row = shown.get(producer, producer)
                    inputs[src if row == producer else row] = None
        if group is None:
            rows.append(_layer_row(graph, inside[0], tuple(inputs), rf, cost))
        else:
            rows.append(_group_row(graph, group, inside, tuple(inputs), depth, rf, cost))
    return rows


def _layer_row(
    graph: Graph,
    layer: Layer,
    inputs: tuple[str, ...],
    rf: dict[str, Field],
    cost: dict[str, Figures],
) -> Row:
    """The row of one layer; one that shares another's weights counts none."""
    owns = layer.shares is None
    params = layer.result.param_count if owns else 0
    return Row(
        name=layer.name,
        type=layer.type,
        inputs=inputs,
        output_shape=graph.layout.display(layer.shape),
        params=params,
        trainable_params=params if layer.trainable else 0,
        buffers=layer.result.buffer_count if owns else 0,
        depth=len(layer.groups),
        param_tensors=tuple(layer.result.params.items()),
        buffer_tensors=tuple(layer.result.buffers.items()),
        receptive_field=rf.get(layer.name),
        macs=cost[layer.name].macs,
        flops=cost[layer.name].flops,
        biases=biases(layer.result.params) if owns else 0,
        groups=tuple((g.name, g.kind) for g in layer.groups),
        shares=layer.shares,
        more_shapes=tuple(graph.layout.display(s) for s in layer.result.more),
        names=layer.names,
        saved_bytes=cost[layer.name].saved_bytes,
        output_bytes=cost[layer.name].output_bytes,
        backward_macs=cost[layer.name].backward_macs,
        backward_flops=cost[layer.name].backward_flops,
    )


def _group_row(
    graph: Graph,
    group: Group,
    inside: list[Layer],
    inputs: tuple[str, ...],
    depth: int | None,
    rf: dict[str, Field],
    cost: dict[str, Figures],
) -> Row:
    """The row of a block instance or named repeat collapsed by --depth."""
    out = graph.group_outputs.get(group.name, inside[-1].name)
    owners = [x for x in inside if x.shares is None]
    sharing = {x.shares for x in inside if x.shares is not None}
    return Row(
        name=group.name,
        type=group.kind,
        inputs=inputs,
        output_shape=graph.layout.display(graph.tensors[out]),
        params=sum(x.result.param_count for x in owners),
        trainable_params=sum(x.result.param_count for x in owners if x.trainable),
        buffers=sum(x.result.buffer_count for x in owners),
        depth=(depth or 1) - 1,
        layers=len(inside),
        group=True,
        receptive_field=rf.get(out),
        macs=sum(cost[x.name].macs for x in inside),
        flops=sum(cost[x.name].flops for x in inside),
        biases=sum(biases(x.result.params) for x in owners),
        groups=tuple((g.name, g.kind) for g in inside[0].groups[: (depth or 1) - 1]),
        shares=_common_owner(sharing)
        if sharing and not any(_weighted(x) for x in owners)
        else None,
        saved_bytes=sum(cost[x.name].saved_bytes for x in inside),
        output_bytes=sum(cost[x.name].output_bytes for x in inside),
        backward_macs=sum(cost[x.name].backward_macs for x in inside),
        backward_flops=sum(cost[x.name].backward_flops for x in inside),
    )


def _weighted(layer: Layer) -> bool:
    """Whether a layer has weights or buffers of its own."""
    return bool(layer.result.params or layer.result.buffers)


def _common_owner(owners: set[str]) -> str:
    """What a collapsed block instance whose every layer shares weights shares: the block
    instance that owns them (the owners' common prefix), else the first owner."""
    names = sorted(owners)
    prefix = names[0].rsplit(".", 1)[0] if "." in names[0] else names[0]
    if all(n.startswith(prefix + ".") for n in names):
        return prefix
    return names[0]
