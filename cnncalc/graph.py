"""Expanded spec → layer graph: `from` resolved, layers ordered, shapes propagated, and each
layer's facts (result, cost, receptive-field rule) worked out once and held on its record."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from cnncalc import notation
from cnncalc.errors import BudgetError, Collector, LayerError, Pos, SpecError, did_you_mean
from cnncalc.errors import Notice as Notice  # where the stages after the graph find it
from cnncalc.expand import DEFAULT_MAX_LAYERS as DEFAULT_MAX_LAYERS
from cnncalc.expand import NETWORK_INPUT, Expansion, Group, Instance, Ref, expand
from cnncalc.layers import Result, Shape
from cnncalc.layers.costs import Cost
from cnncalc.layers.spans import GLOBAL, Rule
from cnncalc.spec import INPUT_REF, MAX_RANK, Layout, Spec, elements, too_many

CYCLE_SHOWN = 8  # layers of a cycle a message names
MAX_SUGGESTION_CANDIDATES = 1_000  # names a "did you mean" compares a misspelt one with

FactsKey = tuple[int, tuple[Shape, ...]]  # the layer's type and arguments (by number), inputs


class Layer(NamedTuple):
    """One computed layer: where its input comes from, what it makes, where it was written,
    and its facts, shared with every layer of the same `key`."""

    name: str
    type: str
    inputs: tuple[str, ...]  # producing layers' names, or "input"
    args: Mapping[str, Any]
    result: Result
    trainable: bool
    groups: tuple[Group, ...]  # enclosing containers, outermost first
    pos: Pos = Pos("", 0, 0)
    auto_named: bool = False  # `<type>_<n>`, not the user's
    cost: Cost = Cost()  # MACs and FLOPs for one sample
    rules: tuple[Rule, ...] = (GLOBAL,)  # how each output's units see the input (receptive.py)
    key: FactsKey = (-1, ())  # what decides the facts above: layers with equal keys share them

    @property
    def shape(self) -> Shape:
        return self.result.shape

    @property
    def rule(self) -> Rule:
        """How the first output's units see the input."""
        return self.rules[0]


class Graph(NamedTuple):
    name: str | None
    input_shape: Shape  # channels first
    layout: Layout
    layers: tuple[Layer, ...]  # in topological order
    output: str  # the layer whose output is the network's, or "input"
    notices: tuple[Notice, ...]
    group_outputs: Mapping[str, str]  # group name → its output
    by_name: Mapping[str, Layer]

    @property
    def output_shape(self) -> Shape:
        if self.output == INPUT_REF:
            return self.input_shape
        return self.by_name[self.output].shape

    def input_shapes(self, layer: Layer) -> list[Shape]:
        """The shapes of a layer's inputs, in its `from` order."""
        return [self.input_shape if s == INPUT_REF else self.by_name[s].shape for s in layer.inputs]


def build(
    spec: Spec, *, input_shape: Shape | None = None, max_layers: int = DEFAULT_MAX_LAYERS
) -> Graph:
    """Expand, resolve and compute a spec; `input_shape` (channels first) overrides the spec's.

    Every independent problem is reported at once (SpecErrors, in file order); a layer whose
    input failed is skipped silently. The warnings found before a failure ride on the error
    (`notices`), with the spec's text (`source`) for showing the lines at fault.
    """
    shape = input_shape or spec.input_shape
    notices: list[Notice] = []
    try:
        if len(shape) > MAX_RANK:  # from --input: the spec's own is checked on reading
            raise SpecError(
                f"the input shape has {len(shape):,} dimensions; cnncalc takes at most {MAX_RANK}",
                spec.input_pos,
            )
        notices += _channels_last_look(spec, shape)
        return _build(spec, shape, max_layers, notices)
    except SpecError as err:
        if err.source is None and err.file == spec.path:
            err.source = spec.text
        err.notices = (*notices, *err.notices)
        raise


def _build(spec: Spec, shape: Shape, max_layers: int, notices: list[Notice]) -> Graph:
    """The graph of a spec; `notices` gathers the warnings as they are found."""
    found = Collector(spec.errors)
    expansion = expand(spec, max_layers, found)
    resolve = _Resolver(expansion)
    failed = set(expansion.failed)
    inputs: dict[str, list[str]] = {}
    for name, x in expansion.instances.items():
        try:
            inputs[name] = [resolve(r) for r in x.refs]
        except SpecError as err:
            found.add(err)
            failed.add(name)
            inputs[name] = []
    order = _toposort(expansion.instances, inputs, failed)
    layers = _propagate(expansion.instances, order, inputs, shape, spec.layout, found, notices)
    found.check()
    output = _public(resolve(expansion.output))
    group_outputs = {name: _public(resolve(ref)) for name, ref in expansion.aliases.items()}
    notices += _unused(layers, output)
    return Graph(
        spec.name,
        shape,
        spec.layout,
        tuple(layers),
        output,
        tuple(notices),
        group_outputs,
        {layer.name: layer for layer in layers},
    )


def _public(name: str) -> str:
    """A resolved name as the graph writes it: the network's input is "input"."""
    return INPUT_REF if name == NETWORK_INPUT else name


class _Resolver:
    """References → the layers they stand for, through any aliases."""

    def __init__(self, expansion: Expansion) -> None:
        self.instances = expansion.instances
        self.aliases = expansion.aliases
        self.scope_names = expansion.scope_names
        self.failed = expansion.failed
        self.resolved: dict[str, str] = {}  # alias → the layer it stands for

    def __call__(self, ref: Ref) -> str:
        """The layer a reference stands for; each alias is followed once and remembered, so
        a long chain of them costs its length once, not per reader."""
        target = ref.target
        path: dict[str, None] = {}
        while target in self.aliases:
            known = self.resolved.get(target)
            if known is not None:
                target = known
                break
            if target in path:
                raise SpecError(f"'{ref.text}' refers to itself", ref.pos, ref.owner)
            path[target] = None
            target = self.aliases[target].target
        if target in self.instances or target == NETWORK_INPUT or target in self.failed:
            self.resolved.update(dict.fromkeys(path, target))
            return target
        prefix = target[: len(target) - len(ref.text)]
        hint = did_you_mean(ref.text, _likeliest(ref.text, self.scope_names.get(prefix, [])))
        raise SpecError(
            f"'from' names '{ref.text}', which is not a layer here{hint}", ref.pos, ref.owner
        )


def _toposort(
    instances: Mapping[str, Instance], inputs: dict[str, list[str]], failed: set[str]
) -> list[str]:
    """The layers in an order where each comes after its inputs, else as written (an input
    that failed counts as ready: the layer is skipped when its turn comes)."""
    index = {name: i for i, name in enumerate(instances)}
    pending = {name: sum(1 for s in srcs if s in instances) for name, srcs in inputs.items()}
    users: dict[str, list[str]] = {}
    for name, srcs in inputs.items():
        for s in srcs:
            users.setdefault(s, []).append(name)
    ready = [(index[n], n) for n, count in pending.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for user in users.get(name, []):
            pending[user] -= 1
            if pending[user] == 0:
                heapq.heappush(ready, (index[user], user))
    if len(order) < len(instances):
        _report_cycle(instances, {n for n, c in pending.items() if c > 0}, inputs)
    return order


def _report_cycle(
    instances: Mapping[str, Instance], stuck: set[str], inputs: dict[str, list[str]]
) -> None:
    """Raise the error naming one cycle among the layers `stuck` in the sort."""
    start = next(name for name in instances if name in stuck)  # the first written
    at: dict[str, int] = {start: 0}  # each layer of the path → its place on it
    path, node = [start], start
    while True:
        node = next(s for s in inputs[node] if s in stuck)
        if node in at:
            cycle = [*path[at[node] :], node]
            break
        at[node] = len(path)
        path.append(node)
    if len(cycle) > CYCLE_SHOWN:
        left = len(cycle) - CYCLE_SHOWN
        cycle = [*cycle[: CYCLE_SHOWN // 2], f"… {left:,} more …", *cycle[-CYCLE_SHOWN // 2 :]]
    chain = " ← ".join(cycle)
    raise SpecError(
        f"the layers form a cycle ({chain}: each takes input from the next)",
        instances[cycle[0]].pos,
        cycle[0],
    )


class _Facts(NamedTuple):
    """What every layer of one facts key shares."""

    result: Result
    cost: Cost
    rules: tuple[Rule, ...]


def _propagate(
    instances: Mapping[str, Instance],
    order: list[str],
    inputs: dict[str, list[str]],
    input_shape: Shape,
    layout: Layout,
    found: Collector,
    notices: list[Notice],
) -> list[Layer]:
    """Every layer with its facts, in `order`; layers of one facts key share the work. A
    layer that fails is reported to `found`; the layers reading it are skipped silently."""
    shapes: dict[str, Shape] = {NETWORK_INPUT: input_shape}
    done: dict[FactsKey, _Facts] = {}
    layers = []
    for name in order:
        x = instances[name]
        if any(s not in shapes for s in inputs[name]) or not inputs[name]:
            continue  # an input failed (or a reference did): already reported
        key = (x.args_key, tuple(shapes[s] for s in inputs[name]))
        facts = done.get(key)
        if facts is None:
            try:
                facts = done[key] = _facts(x, key[1], layout)
            except BudgetError:
                raise
            except SpecError as err:
                found.add(err)
                continue
        shapes[name] = facts.result.shape
        if layout is Layout.CHANNELS_LAST and x.type.name == "linear" and len(key[1][0]) >= 2:
            notices.append(_linear_on_width(x, key[1][0], facts.result.shape, layout))
        srcs = tuple(_public(s) for s in inputs[name])
        layers.append(
            Layer(
                name,
                x.type.name,
                srcs,
                x.args,
                facts.result,
                x.trainable,
                x.groups,
                x.pos,
                x.auto_named,
                facts.cost,
                facts.rules,
                key,
            )
        )
    return layers


def _facts(x: Instance, ins: Sequence[Shape], layout: Layout) -> _Facts:
    """What a layer makes of inputs of these shapes; a problem is written in `layout`."""
    t = x.type
    try:
        result = t.infer(x.args, ins)
    except LayerError as err:
        pos = x.arg_pos.get(err.arg or "", x.pos)
        raise SpecError(err.worded(layout.display), pos, x.name) from None
    for i, shape in enumerate(result.shapes):
        which = "the output" if not result.more else f"output {i}"
        if len(shape) > MAX_RANK:
            raise SpecError(
                f"{which} has {len(shape):,} dimensions; cnncalc takes at most {MAX_RANK}",
                x.pos,
                x.name,
            )
        if elements(shape) is None:
            raise SpecError(f"{which} has {too_many(shape)}", x.pos, x.name)
    shape = result.shape
    return _Facts(result, t.cost(x.args, list(ins), shape), t.output_rules(x.args, list(ins), result))


def _unused(layers: list[Layer], output: str) -> list[Notice]:
    """A warning for every layer whose output nothing reads."""
    used = {s for layer in layers for s in layer.inputs}
    return [
        Notice(
            "its output is never used (it is not the last layer and no 'from' names it)",
            layer.pos,
            layer.name,
        )
        for layer in layers
        if layer.name not in used and layer.name != output
    ]


def _channels_last_look(spec: Spec, shape: Shape) -> list[Notice]:
    """[224, 224, 3] read channels first is 224 channels of 224×3: almost always an H×W×C
    image whose layout was left out. Warn unless the spec says its layout."""
    if spec.layout_written or len(shape) not in (3, 4):
        return []
    channels, last = shape[0], shape[-1]
    if not (last <= 4 and shape[1] >= 8 and channels >= 16 and channels >= 8 * last):
        return []
    written = ", ".join(map(str, shape))
    seen = f"is read as {channels} channels of {'×'.join(map(str, shape[1:]))}"
    if shape != spec.input_shape:  # the command line's --input, not the spec's
        as_chw = ",".join(map(str, (last, *shape[:-1])))
        return [
            Notice(
                f"--input {written.replace(' ', '')} {seen}: this spec's input is"
                f" channels first, so an H×W×C image is --input {as_chw}",
                spec.input_pos,
            )
        ]
    return [
        Notice(
            f"the input [{written}] {seen}; for an H×W×C image write input:"
            f" {{shape: [{written}], layout: channels_last}} (layout: channels_first"
            " keeps this reading and this warning away)",
            spec.input_pos,
        )
    ]


def _linear_on_width(x: Instance, shape: Shape, out: Shape, layout: Layout) -> Notice:
    """`linear` on a channels-last image acts on its last spatial axis, as PyTorch's
    nn.Linear does on the channels-first tensor, where Keras' Dense would act on channels."""
    axis = notation.axis_name(len(shape) - 1, len(shape))
    spatial = len(shape) - 1
    seen, made = notation.shape(layout.display(shape)), notation.shape(layout.display(out))
    n = x.args["out_features"]
    return Notice(
        f"on this channels-last {seen} input, linear acts on the last spatial axis"
        f" ({axis} = {shape[-1]}), not on the {shape[0]} channels, giving {made}:"
        " cnncalc, like PyTorch's nn.Linear, reads the last axis of the channels-first"
        f" tensor. Keras' Dense acts on the channels; for that, write conv{spatial}d"
        f" {{out_channels: {n}, kernel_size: 1}} (the same weights), or flatten first",
        x.pos,
        x.name,
    )


def _likeliest(word: str, names: list[str]) -> list[str]:
    """At most MAX_SUGGESTION_CANDIDATES names, those of lengths nearest the word's: comparing
    a word with every name of a large scope would cost far more than the error is worth."""
    if len(names) <= MAX_SUGGESTION_CANDIDATES:
        return names
    return heapq.nsmallest(MAX_SUGGESTION_CANDIDATES, names, key=lambda n: abs(len(n) - len(word)))
