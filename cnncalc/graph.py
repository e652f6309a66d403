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
from cnncalc.expand import INPUT_PREFIX, NETWORK_INPUT, Expansion, Group, Instance, Ref, expand
from cnncalc.layers import Result, Shape
from cnncalc.layers.checks import several
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
    inputs: tuple[str, ...]  # the tensors it reads: layers' names, `lstm:1`, or inputs' names
    args: Mapping[str, Any]
    result: Result
    trainable: bool
    groups: tuple[Group, ...]  # enclosing containers, outermost first
    pos: Pos = Pos("", 0, 0)
    auto_named: bool = False  # `<type>_<n>`, not the user's
    cost: Cost = Cost()  # MACs and FLOPs for one sample
    rules: tuple[Rule, ...] = (GLOBAL,)  # how each output's units see the input (receptive.py)
    key: FactsKey = (-1, ())  # what decides the facts above: layers with equal keys share them
    shares: str | None = None  # the layer that owns the weights it uses (`shares:`)
    names: tuple[str, ...] = ()  # the names given to its outputs after the first

    @property
    def shape(self) -> Shape:
        return self.result.shape

    @property
    def outputs(self) -> tuple[str, ...]:
        """The tensors it makes, as `from` names them: its name, then `name:1`, ..."""
        return (self.name, *(f"{self.name}:{i}" for i in range(1, len(self.result.shapes))))

    @property
    def rule(self) -> Rule:
        """How the first output's units see the input."""
        return self.rules[0]


class Graph(NamedTuple):
    name: str | None
    input_shape: Shape  # channels first; the first input's, where there are several
    layout: Layout
    layers: tuple[Layer, ...]  # in topological order
    output: str  # the tensor that is the network's output (the first, where there are several)
    notices: tuple[Notice, ...]
    group_outputs: Mapping[str, str]  # group name → its output
    by_name: Mapping[str, Layer]
    inputs: Mapping[str, Shape] = {}  # every input's name ("input" for a single one) → shape
    outputs: tuple[str, ...] = ()  # every output tensor, the first being `output`
    tensors: Mapping[str, Shape] = {}  # every tensor: inputs, and every layer's outputs
    free: frozenset[str] = frozenset()  # tensors with no batch dimension (parameters)

    @property
    def output_shape(self) -> Shape:
        return self.tensors[self.output]

    @property
    def several(self) -> bool:
        """Whether the network has several inputs or outputs."""
        return len(self.inputs) > 1 or len(self.outputs) > 1

    def input_shapes(self, layer: Layer) -> list[Shape]:
        """The shapes of a layer's inputs, in its `from` order."""
        return [self.tensors[s] for s in layer.inputs]

    def producer(self, tensor: str) -> Layer | None:
        """The layer that makes a tensor; None for the network's inputs."""
        return self.by_name.get(tensor.split(":", 1)[0])


def build(
    spec: Spec,
    *,
    input_shape: Shape | None = None,
    max_layers: int = DEFAULT_MAX_LAYERS,
    input_shapes: Mapping[str, Shape] | None = None,
) -> Graph:
    """Expand, resolve and compute a spec; `input_shape` (channels first) overrides the spec's
    first input, `input_shapes` any of its inputs by name.

    Every independent problem is reported at once (SpecErrors, in file order); a layer whose
    input failed is skipped silently. The warnings found before a failure ride on the error
    (`notices`), with the spec's text (`source`) for showing the lines at fault.
    """
    shapes = {i.name: i.shape for i in spec.inputs} or {INPUT_REF: spec.input_shape}
    first = next(iter(shapes))
    given = {**({first: input_shape} if input_shape else {}), **(input_shapes or {})}
    notices: list[Notice] = []
    try:
        for name, shape in given.items():
            if name not in shapes:
                raise SpecError(
                    f"--input names '{name}', which is not an input of this spec"
                    f" (its inputs: {', '.join(shapes)})",
                    spec.input_pos,
                )
            if len(shape) > MAX_RANK:  # from --input: the spec's own is checked on reading
                raise SpecError(
                    f"the input shape has {len(shape):,} dimensions; cnncalc takes at most"
                    f" {MAX_RANK}",
                    spec.input_pos,
                )
            shapes[name] = shape
        notices += _channels_last_look(spec, shapes[first])
        return _build(spec, shapes, max_layers, notices)
    except SpecError as err:
        if err.source is None and err.file == spec.path:
            err.source = spec.text
        err.notices = (*notices, *err.notices)
        raise


def _build(
    spec: Spec, input_shapes: dict[str, Shape], max_layers: int, notices: list[Notice]
) -> Graph:
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
    tensors = {_private(n): shape for n, shape in input_shapes.items()}
    free: set[str] = set()
    layers = _propagate(
        expansion.instances, order, inputs, _Tensors(tensors, free), spec.layout, found, notices
    )
    layers = _shared(expansion, layers, resolve, found)
    outputs = _outputs(expansion, resolve, tensors, found)
    found.check()
    group_outputs = {name: _public(resolve(ref)) for name, ref in expansion.aliases.items()}
    notices += _unused(layers, outputs, bool(expansion.outputs))
    public = {_public(n): shape for n, shape in tensors.items()}
    first = next(iter(input_shapes))
    return Graph(
        spec.name,
        input_shapes[first],
        spec.layout,
        tuple(layers),
        outputs[0],
        tuple(notices),
        group_outputs,
        {layer.name: layer for layer in layers},
        input_shapes,
        outputs,
        public,
        frozenset(_public(n) for n in free),
    )


class _Tensors(NamedTuple):
    """What the graph knows of each tensor as layers are computed."""

    shapes: dict[str, Shape]
    free: set[str]  # those with no batch dimension: parameters, and what is made of them alone


def _outputs(
    expansion: Expansion, resolve: _Resolver, tensors: Mapping[str, Shape], found: Collector
) -> tuple[str, ...]:
    """The network's outputs: those the spec lists, else the last entry's."""
    outputs = []
    for ref in expansion.outputs or (expansion.output,):
        try:
            name = resolve(ref)
        except SpecError as err:
            found.add(err)
            continue
        if name not in tensors and _layer_of(name) in tensors:
            found.add(_no_such_output(ref, name, tensors))
        outputs.append(_public(name))
    return tuple(outputs)


def _public(name: str) -> str:
    """A resolved name as the graph writes it: a single input is "input", one of several is
    its name."""
    if name == NETWORK_INPUT:
        return INPUT_REF
    return name.removeprefix(INPUT_PREFIX)


def _private(name: str) -> str:
    """An input's name as expansion writes it."""
    return NETWORK_INPUT if name == INPUT_REF else INPUT_PREFIX + name


def _layer_of(tensor: str) -> str:
    """The layer (or input) that makes a tensor: `lstm:1` → `lstm`."""
    return tensor.split(":", 1)[0]


def _no_such_output(ref: Ref, name: str, tensors: Mapping[str, Shape]) -> SpecError:
    """The error for `lstm:5` where lstm makes fewer outputs."""
    layer = _layer_of(name)
    count = 1
    while f"{layer}:{count}" in tensors:
        count += 1
    has = "one output (0)" if count == 1 else f"{count} outputs (0 to {count - 1})"
    return SpecError(
        f"'{ref.text}' names output {name.split(':')[1]} of '{_public(layer)}', which has {has}",
        ref.pos,
        ref.owner,
    )


class _Resolver:
    """References → the layers they stand for, through any aliases."""

    def __init__(self, expansion: Expansion) -> None:
        self.instances = expansion.instances
        self.aliases = expansion.aliases
        self.scope_names = expansion.scope_names
        self.failed = expansion.failed
        self.resolved: dict[str, str] = {}  # alias → the layer it stands for

    def __call__(self, ref: Ref) -> str:
        """The tensor a reference stands for: a layer's name, `name:i` for its output i > 0,
        or an input's (internal) name."""
        target, index = self.layer(ref)
        if index and (target == NETWORK_INPUT or target.startswith(INPUT_PREFIX)):
            raise SpecError(
                f"'{ref.text}' names an input, which has one output", ref.pos, ref.owner
            )
        return f"{target}:{index}" if index else target

    def layer(self, ref: Ref) -> tuple[str, int]:
        """The layer a reference stands for and which of its outputs; each alias is followed
        once and remembered, so a long chain of them costs its length once, not per reader."""
        target, index = ref.target, ref.output
        alias = self.aliases.get(target)
        if index and alias and not alias.output and not alias.target.startswith(INPUT_PREFIX):
            raise SpecError(
                f"'{ref.text}' names output {index} of '{ref.text.rsplit(':', 1)[0]}', a"
                " block instance, named repeat or left-out entry, which has one output",
                ref.pos,
                ref.owner,
            )
        path: dict[str, None] = {}
        while target in self.aliases:
            known = self.resolved.get(target)
            if known is not None:
                target = known
                break
            if target in path:
                raise SpecError(f"'{ref.text}' refers to itself", ref.pos, ref.owner)
            path[target] = None
            alias = self.aliases[target]
            if alias.output and index:
                raise SpecError(
                    f"'{ref.text}' names output {index} of '{ref.text.split(':')[0]}', which is"
                    " itself one output of a layer",
                    ref.pos,
                    ref.owner,
                )
            target, index = alias.target, index or alias.output
        if (
            target in self.instances
            or target == NETWORK_INPUT
            or target.startswith(INPUT_PREFIX)
            or target in self.failed
        ):
            if not index:  # an alias of one output is remembered with its index
                self.resolved.update(dict.fromkeys(path, target))
            return target, index
        prefix = target[: len(target) - len(ref.text)]
        hint = did_you_mean(ref.text, _likeliest(ref.text, self.scope_names.get(prefix, [])))
        key = "from" if ref.owner is not None else "outputs"
        raise SpecError(
            f"'{key}' names '{ref.text}', which is not a layer here{hint}", ref.pos, ref.owner
        )


def _toposort(
    instances: Mapping[str, Instance], inputs: dict[str, list[str]], failed: set[str]
) -> list[str]:
    """The layers in an order where each comes after its inputs, else as written (an input
    that failed counts as ready: the layer is skipped when its turn comes)."""
    index = {name: i for i, name in enumerate(instances)}
    layer_inputs = {name: [_layer_of(s) for s in srcs] for name, srcs in inputs.items()}
    pending = {name: sum(1 for s in srcs if s in instances) for name, srcs in layer_inputs.items()}
    users: dict[str, list[str]] = {}
    for name, srcs in layer_inputs.items():
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
        _report_cycle(instances, {n for n, c in pending.items() if c > 0}, layer_inputs)
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
    tensors: _Tensors,
    layout: Layout,
    found: Collector,
    notices: list[Notice],
) -> list[Layer]:
    """Every layer with its facts, in `order`; layers of one facts key share the work. A
    layer that fails is reported to `found`; the layers reading it are skipped silently.
    `tensors` holds the inputs' shapes and gains every layer output's."""
    shapes, free = tensors
    done: dict[FactsKey, _Facts] = {}
    layers = []
    for name in order:
        x = instances[name]
        if not _ready(x, inputs[name], shapes, found):
            continue  # an input failed (or a reference did): already reported
        key = (x.args_key, tuple(shapes[s] for s in inputs[name]))
        facts = done.get(key)
        try:
            if facts is None:
                facts = done[key] = _facts(x, key[1], layout)
            made_free = _batch_rule(x, inputs[name], key[1], facts.result.shape, free)
            if len(x.outputs) > len(facts.result.more):
                raise SpecError(
                    f"'name' lists {len(x.outputs) + 1} names, but this {x.type.name} makes"
                    f" {several(len(facts.result.shapes), 'output')}",
                    x.pos,
                    x.name,
                )
        except BudgetError:
            raise
        except SpecError as err:
            found.add(err)
            continue
        outputs = [name, *(f"{name}:{i}" for i in range(1, len(facts.result.shapes)))]
        shapes.update(zip(outputs, facts.result.shapes, strict=True))
        if made_free:
            free.update(outputs)
        if layout is Layout.CHANNELS_LAST and x.type.name == "linear" and len(key[1][0]) >= 2:
            notices.append(_linear_on_width(x, key[1][0], facts.result.shape, layout))
        layers.append(_layer(x, inputs[name], facts, key))
    return layers


def _layer(x: Instance, inputs: list[str], facts: _Facts, key: FactsKey) -> Layer:
    """The graph's record of an instance computed on `inputs`."""
    return Layer(
        x.name,
        x.type.name,
        tuple(_public(s) for s in inputs),
        x.args,
        facts.result,
        x.trainable,
        x.groups,
        x.pos,
        x.auto_named,
        facts.cost,
        facts.rules,
        key,
        names=x.outputs,
    )


def _ready(x: Instance, inputs: list[str], shapes: Mapping[str, Shape], found: Collector) -> bool:
    """Whether every input of a layer is known; a `name:i` past the outputs of a layer that
    was computed is reported."""
    if len(inputs) < len(x.refs):
        return False  # a reference failed
    ready = True
    for ref, s in zip(x.refs, inputs, strict=True):
        if s not in shapes:
            ready = False
            if _layer_of(s) in shapes:
                found.add(_no_such_output(ref, s, shapes))
    return ready


def _batch_rule(
    x: Instance, inputs: list[str], shapes: Sequence[Shape], out: Shape, free: set[str]
) -> bool:
    """Whether a layer's outputs have no batch dimension (a parameter, or a layer of
    parameters alone); raise where broadcasting would line up a batch with another axis.

    Shapes are per sample: PyTorch adds the batch in front of every tensor but a parameter,
    and lines up shapes from the right, so an input with fewer dimensions than the output
    would meet the batch with one of its own axes; only a parameter may be shorter.
    """
    if not x.type.batched:
        return True
    if inputs and all(s in free for s in inputs):
        return True
    if not x.type.broadcasts:
        return False
    for ref, s, shape in zip(x.refs, inputs, shapes, strict=True):
        if s not in free and len(shape) != len(out):
            axis = notation.axis_name(len(out) - len(shape) - 1, len(out))
            raise SpecError(
                f"'{ref.text}' has {len(shape)} dimensions and the output {len(out)}: with"
                f" the batch in front, PyTorch would line up the batch of '{ref.text}' with"
                f" the {axis} of the others; only a parameter may have fewer dimensions",
                x.pos,
                x.name,
            )
    return False


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
    return _Facts(
        result, t.cost(x.args, list(ins), shape), t.output_rules(x.args, list(ins), result)
    )


def _unused(layers: list[Layer], outputs: Sequence[str], listed: bool) -> list[Notice]:
    """A warning for every layer none of whose outputs anything reads (`listed`: the spec
    lists its outputs)."""
    used = {_layer_of(s) for layer in layers for s in layer.inputs}
    used.update(_layer_of(s) for s in outputs)
    why = "not in 'outputs'" if listed else "not the last layer"
    return [
        Notice(
            f"its output is never used (it is {why} and no 'from' names it)",
            layer.pos,
            layer.name,
        )
        for layer in layers
        if layer.name not in used
    ]


def _shared(
    expansion: Expansion, layers: list[Layer], resolve: _Resolver, found: Collector
) -> list[Layer]:
    """The layers with `shares:` pointed at the layer that owns the weights (following
    chains), after checking that each pair has one type, the same arguments and weights."""
    by_name = {layer.name: layer for layer in layers}
    direct: dict[str, str] = {}
    for layer in layers:
        ref = expansion.instances[layer.name].shares
        if ref is None or not (layer.result.params or layer.result.buffers):
            continue  # nothing to share (a relu inside a block instance that shares)
        try:
            target = _shared_layer(ref, expansion, layer.name)
            if target is None or target not in by_name:
                continue  # a layer that failed: reported already
            _check_shares(layer, by_name[target], ref)
        except SpecError as err:
            found.add(err)
            continue
        direct[layer.name] = target
    owners = _owners(direct, expansion, found)
    return [
        layer._replace(shares=owners[layer.name]) if layer.name in owners else layer
        for layer in layers
    ]


def _owners(direct: dict[str, str], expansion: Expansion, found: Collector) -> dict[str, str]:
    """Each sharing layer's owner: the end of its chain (a shares b, b shares c: c). Each
    layer is walked once, so a chain of n costs n; a cycle is reported once, at the layer of
    it written first, naming at most CYCLE_SHOWN of its layers, and its layers own nothing."""
    owners: dict[str, str] = {}
    dead: set[str] = set()  # in a cycle, or sharing into one
    for start in direct:
        path: dict[str, int] = {}  # the walk from `start`, each layer's place on it
        node = start
        while node in direct and node not in owners and node not in dead and node not in path:
            path[node] = len(path)
            node = direct[node]
        if node in path or node in dead:
            if node in path:
                _report_share_cycle(list(path)[path[node] :], expansion, found)
            dead.update(path)
            continue
        root = owners.get(node, node)
        owners.update(dict.fromkeys(path, root))
    return owners


def _report_share_cycle(cycle: list[str], expansion: Expansion, found: Collector) -> None:
    """The error for layers that share weights round a cycle, located at the one written first."""
    order = {name: i for i, name in enumerate(expansion.instances)}
    first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
    cycle = cycle[first:] + cycle[:first]
    shown = [*cycle, cycle[0]]
    if len(shown) > CYCLE_SHOWN:
        left = len(shown) - CYCLE_SHOWN
        shown = [*shown[: CYCLE_SHOWN // 2], f"… {left:,} more …", *shown[-CYCLE_SHOWN // 2 :]]
    ref = expansion.instances[cycle[0]].shares
    assert ref is not None
    found.add(
        SpecError(
            f"the layers share weights in a cycle ({' → '.join(shown)}): one of them must own"
            " them, without 'shares'",
            ref.pos,
            cycle[0],
        )
    )


def _shared_layer(ref: Ref, expansion: Expansion, name: str) -> str | None:
    """The layer a `shares:` names; None when it failed; raise when it is no layer."""
    if ref.target in expansion.instances:
        return ref.target
    if ref.target in expansion.failed:
        return None
    if ref.target in expansion.aliases:
        raise SpecError(
            f"shares '{ref.text}', which is not a layer (a block instance shares with a block"
            " instance: write shares on the block's entry)",
            ref.pos,
            name,
        )
    raise SpecError(f"shares '{ref.text}', which is not a layer here", ref.pos, name)


def _check_shares(layer: Layer, owner: Layer, ref: Ref) -> None:
    """Raise unless `layer` may use the weights of `owner`."""
    where = f"shares '{ref.text}'"
    if owner.name == layer.name:
        raise SpecError(f"{where}: a layer cannot share its own weights", ref.pos, layer.name)
    if owner.type != layer.type:
        raise SpecError(
            f"{where}, a {owner.type}, but it is a {layer.type}: only layers of one type"
            " share weights",
            ref.pos,
            layer.name,
        )
    if dict(owner.args) != dict(layer.args):
        differ = sorted(k for k in layer.args if owner.args.get(k) != layer.args[k])
        raise SpecError(
            f"{where}, whose arguments differ ({', '.join(differ)}): shared weights need the"
            " same arguments",
            ref.pos,
            layer.name,
        )
    if owner.result.params != layer.result.params:
        mine = ", ".join(f"{k} {v:,}" for k, v in layer.result.params.items())
        theirs = ", ".join(f"{k} {v:,}" for k, v in owner.result.params.items())
        raise SpecError(
            f"{where}, whose weights differ in size ({theirs}; here {mine}): its input"
            " must have the same shape where weights are inferred from it",
            ref.pos,
            layer.name,
        )


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
