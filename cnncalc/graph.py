"""Spec → layer graph: blocks expanded, names qualified, `from` resolved, shapes propagated."""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from cnncalc.errors import LayerError, Pos, SpecError, did_you_mean, one_line, shown
from cnncalc.expr import ExprError, has_placeholder, substitute
from cnncalc.layers import TYPES, Result, Shape
from cnncalc.layers.args import REQUIRED
from cnncalc.layers.base import LayerType
from cnncalc.layers.costs import Cost
from cnncalc.layers.tensors import SHOWN_AS
from cnncalc.source import MAX_INT
from cnncalc.spec import INPUT_REF, Block, Entry, Layout, Spec

DEFAULT_MAX_LAYERS = 1_000_000
MAX_BLOCK_DEPTH = 64
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
_NETWORK_INPUT = "\0input"  # cannot collide with a user's name


class Group(NamedTuple):
    """A container of layers: a block instance (kind = block name) or a named repeat."""

    name: str
    kind: str
    pos: Pos = Pos("", 0, 0)


class Layer(NamedTuple):
    """One computed layer: where its input comes from, what it makes, where it was written."""

    name: str
    type: str
    inputs: tuple[str, ...]  # producing layers' names, or "input"
    args: Mapping[str, Any]
    result: Result
    trainable: bool
    groups: tuple[Group, ...]  # enclosing containers, outermost first
    pos: Pos = Pos("", 0, 0)
    auto_named: bool = False  # `<type>_<n>`, not the user's

    @property
    def shape(self) -> Shape:
        return self.result.shape


class Notice(NamedTuple):
    """A warning about a spec that is valid but probably not what was meant."""

    message: str
    pos: Pos
    layer: str | None = None

    def __str__(self) -> str:
        where = f"layer '{self.layer}': " if self.layer else ""
        return one_line(f"{self.pos}: warning: {where}{self.message}")


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

    def cost(self, layer: Layer) -> Cost:
        """MACs and FLOPs of one layer for one sample."""
        return TYPES[layer.type].cost(layer.args, self.input_shapes(layer), layer.shape)

    def alike(self, layer: Layer) -> tuple[int, tuple[Shape, ...]]:
        """What decides a layer's shape, field rule and cost: its arguments mapping, which
        layers written alike share (_Builder._layer_args), and its input shapes. Layers with
        equal keys may share that work, as long as the graph lives."""
        return id(layer.args), tuple(self.input_shapes(layer))

    def costs(self) -> dict[str, Cost]:
        """Every layer's cost, worked out once per `alike` key."""
        done: dict[tuple[int, tuple[Shape, ...]], Cost] = {}
        out = {}
        for layer in self.layers:
            key = self.alike(layer)
            cost = done.get(key)
            if cost is None:
                cost = done[key] = TYPES[layer.type].cost(layer.args, list(key[1]), layer.shape)
            out[layer.name] = cost
        return out


def build(
    spec: Spec, *, input_shape: Shape | None = None, max_layers: int = DEFAULT_MAX_LAYERS
) -> Graph:
    """Expand, resolve and compute a spec; `input_shape` (channels first) overrides the spec's."""
    return _Builder(spec, max_layers).run(input_shape or spec.input_shape)


class _Ref(NamedTuple):
    """A reference to a layer or alias by qualified name, with where it was written."""

    target: str
    pos: Pos
    text: str
    owner: str | None = None  # the layer whose 'from' this is, for messages


class _Raw(NamedTuple):
    name: str
    type: LayerType
    refs: list[_Ref]
    args: Mapping[str, Any]
    arg_pos: dict[str, Pos]
    trainable: bool
    groups: tuple[Group, ...]
    pos: Pos
    auto_named: bool


class _Builder:
    def __init__(self, spec: Spec, max_layers: int) -> None:
        self.spec = spec
        self.max_layers = max_layers
        self.raw: dict[str, _Raw] = {}
        self.aliases: dict[str, _Ref] = {}
        self.scope_names: dict[str, list[str]] = {}  # prefix → names, for "did you mean"
        self.counted = 0  # layers counted so far by _count, copies included
        self.fixed: dict[str, bool] = {}  # block → its layer count ignores its arguments
        self.defaults: dict[tuple[str, str], Any] = {}  # (type, arg) → its parsed default
        self.args_memo: dict[Hashable, Mapping[str, Any]] = {}  # see _layer_args

    # ---- expansion ----------------------------------------------------------------------------

    def run(self, input_shape: Shape) -> Graph:
        spec = self.spec
        start = _Ref(_NETWORK_INPUT, spec.input_pos, INPUT_REF)
        self._count(spec.entries, {}, (), {})
        out = self._scope(spec.entries, {}, "", start, (), True, ())
        inputs = {name: [self._resolve(r) for r in raw.refs] for name, raw in self.raw.items()}
        output = self._resolve(out)
        order = self._toposort(inputs)
        layers = self._propagate(order, inputs, input_shape)
        output_name = INPUT_REF if output == _NETWORK_INPUT else output
        group_outputs = {}
        for name, ref in self.aliases.items():
            target = self._resolve(ref)
            group_outputs[name] = INPUT_REF if target == _NETWORK_INPUT else target
        notices = (*_channels_last_look(spec, input_shape), *self._unused(layers, output_name))
        return Graph(
            spec.name,
            input_shape,
            spec.layout,
            tuple(layers),
            output_name,
            notices,
            group_outputs,
            {layer.name: layer for layer in layers},
        )

    def _count(
        self,
        entries: Sequence[Entry],
        env: Mapping[str, Any],
        stack: tuple[str, ...],
        memo: dict[tuple[str, str], int],
        copies: int = 1,
    ) -> int:
        """How many layers entries expand to, without building them: a spec that would pass
        --max-layers fails at once, not after building a million layers. Other problems are
        left for the expansion, which reports them with the layer's full name.

        `copies` is how many times the caller's repeats make these entries appear; every
        layer counted adds that many to a running total, which fails past the limit as soon
        as it gets there, however the blocks nest.
        """
        total = 0
        for e in entries:
            try:
                repeat = 1 if e.repeat is None else self._int(e.repeat, env, "repeat", e.kind)
                per, counted = 1, False
                block = self.spec.blocks.get(e.kind)
                if block is not None and repeat and block.name not in stack:
                    # A block whose count its arguments cannot change is counted once.
                    fixed = self._count_is_fixed(block.name, set())
                    args = None if fixed else self._block_args(block, e, e.kind, env)
                    key = (block.name, "" if args is None else repr(sorted(args.items())))
                    if key not in memo:
                        if args is None:
                            args = self._block_args(block, e, e.kind, env)
                        memo[key] = self._count(
                            block.entries, args, (*stack, block.name), memo, copies * repeat
                        )
                        counted = True
                    per = memo[key]
            except SpecError as err:
                if "--max-layers" in err.message:
                    raise
                continue
            total += repeat * per
            if not counted:
                self.counted += copies * repeat * per
            if self.counted > self.max_layers:
                raise SpecError(
                    f"the spec expands to more than {self.max_layers:,} layers"
                    " (raise the limit with --max-layers)",
                    e.pos,
                )
        return total

    def _count_is_fixed(self, name: str, seen: set[str]) -> bool:
        """Whether no `repeat` in block `name`, or in the blocks it uses, has a ${...}."""
        if name in self.fixed:
            return self.fixed[name]
        seen.add(name)
        fixed = True
        for e in self.spec.blocks[name].entries:
            if (
                e.repeat is not None
                and isinstance(e.repeat.value, str)
                and has_placeholder(e.repeat.value)
            ):
                fixed = False
            elif e.kind in self.spec.blocks and e.kind not in seen:
                fixed = self._count_is_fixed(e.kind, seen)
            if not fixed:
                break
        self.fixed[name] = fixed
        return fixed

    def _scope(
        self,
        entries: Sequence[Entry],
        env: Mapping[str, Any],
        prefix: str,
        scope_input: _Ref,
        groups: tuple[Group, ...],
        trainable: bool,
        stack: tuple[str, ...],
    ) -> _Ref:
        """Expand one list of entries; returns a reference to its last entry's output."""
        names = [self._entry_name(e, env) for e in entries]
        taken = {n for n in names if n is not None}
        counters: dict[str, int] = {}

        def auto(kind: str) -> str:
            n = counters.get(kind, 0)
            while True:
                n += 1
                candidate = f"{kind}_{n}"
                if candidate not in taken:
                    counters[kind] = n
                    taken.add(candidate)
                    return candidate

        prev = scope_input
        for entry, name in zip(entries, names, strict=True):
            prev = self._entry(
                entry, name, auto, env, prefix, scope_input, prev, groups, trainable, stack
            )
        return prev

    def _entry(
        self,
        e: Entry,
        name: str | None,
        auto: Any,
        env: Mapping[str, Any],
        prefix: str,
        scope_input: _Ref,
        prev: _Ref,
        groups: tuple[Group, ...],
        trainable: bool,
        stack: tuple[str, ...],
    ) -> _Ref:
        grouped = name is not None and e.repeat is not None
        first = f"{name}.0" if grouped else name or auto(e.kind)  # copy 0's name
        label = prefix + first
        repeat = 1 if e.repeat is None else self._int(e.repeat, env, "repeat", label)
        if e.trainable is not None:
            flag = _evaluate(e.trainable, env, label)
            if not isinstance(flag, bool):
                raise SpecError(
                    f"trainable must be true or false, got {shown(flag)}", e.trainable.pos, label
                )
            trainable = trainable and flag
        refs = self._from(e, env, prefix, scope_input, prev, label)
        if repeat == 0:
            if len(refs) != 1:
                raise SpecError(
                    "an entry with repeat: 0 passes its input through, so it"
                    " takes exactly one input",
                    e.pos,
                    label,
                )
            if name is not None:
                self._alias(prefix + name, refs[0], e.pos)
            return refs[0]
        copy_groups = groups
        if grouped:
            assert name is not None
            copy_groups = (*groups, Group(prefix + name, "repeat", e.pos))
        out = refs[0]
        for i in range(repeat):
            if i == 0:
                local = first
            elif grouped:
                local = f"{name}.{i}"
            else:
                local = auto(e.kind)
            qname = prefix + local
            inputs = refs if i == 0 else [out]
            if e.kind in self.spec.blocks:
                out = self._instance(
                    self.spec.blocks[e.kind], e, qname, env, inputs, copy_groups, trainable, stack
                )
            else:
                self._layer(
                    TYPES[e.kind],
                    e,
                    qname,
                    env,
                    inputs,
                    copy_groups,
                    trainable,
                    auto_named=name is None,
                )
                out = _Ref(qname, e.pos, qname)
            self.scope_names.setdefault(prefix, []).append(local)
        if grouped:
            assert name is not None
            self._alias(prefix + name, out, e.pos)
            self.scope_names.setdefault(prefix, []).append(name)
        return out

    def _entry_name(self, e: Entry, env: Mapping[str, Any]) -> str | None:
        if e.name is None:
            return None
        value = _evaluate(e.name, env, e.kind)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not _NAME.match(value):
            raise SpecError(
                f"name {shown(value)} must be letters, digits, '_' and '-'"
                " (dots are added for block instances)",
                e.name.pos,
            )
        if value == INPUT_REF:
            raise SpecError("'input' is reserved for the network's (or block's) input", e.name.pos)
        return value

    def _from(
        self,
        e: Entry,
        env: Mapping[str, Any],
        prefix: str,
        scope_input: _Ref,
        prev: _Ref,
        label: str,
    ) -> list[_Ref]:
        if e.from_ is None:
            return [prev]
        value = _evaluate(e.from_, env, label)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise SpecError("'from' is an empty list", e.from_.pos, label)
        refs = []
        for item in items:
            if not isinstance(item, str) or not item:
                raise SpecError(f"'from' takes layer names, got {shown(item)}", e.from_.pos, label)
            if item == INPUT_REF:
                refs.append(_Ref(scope_input.target, e.from_.pos, INPUT_REF, label))
            else:
                refs.append(_Ref(prefix + item, e.from_.pos, item, label))
        return refs

    def _instance(
        self,
        block: Block,
        e: Entry,
        qname: str,
        env: Mapping[str, Any],
        refs: list[_Ref],
        groups: tuple[Group, ...],
        trainable: bool,
        stack: tuple[str, ...],
    ) -> _Ref:
        if block.name in stack:
            chain = " → ".join((*stack[stack.index(block.name) :], block.name))
            raise SpecError(f"block '{block.name}' uses itself ({chain})", e.pos, qname)
        if len(stack) >= MAX_BLOCK_DEPTH:
            raise SpecError(f"blocks nested more than {MAX_BLOCK_DEPTH} deep", e.pos, qname)
        if len(refs) != 1:
            raise SpecError(
                f"block '{block.name}' takes one input, 'from' lists {len(refs)}", e.pos, qname
            )
        block_env = self._block_args(block, e, qname, env)
        group = Group(qname, block.name, e.pos)
        out = self._scope(
            block.entries,
            block_env,
            qname + ".",
            refs[0],
            (*groups, group),
            trainable,
            (*stack, block.name),
        )
        self._alias(qname, out, e.pos)
        return out

    def _block_args(
        self, block: Block, e: Entry, qname: str, env: Mapping[str, Any]
    ) -> dict[str, Any]:
        given: dict[str, Any] = {}
        if e.args is not None:
            for key, node in e.args.value.items():
                if key not in block.params:
                    known = ", ".join(block.params) or "none"
                    raise SpecError(
                        f"block '{block.name}' has no argument '{key}'"
                        f"{did_you_mean(key, block.params)} (its args: {known})",
                        e.args.key_pos[key],
                        qname,
                    )
                given[key] = _evaluate(node, env, qname)
        values = {}
        for key, default in block.params.items():
            if key in given:
                values[key] = given[key]
            elif default.value is None:
                raise SpecError(f"block '{block.name}' needs argument '{key}'", e.pos, qname)
            else:
                values[key] = default.plain()
        return values

    def _layer(
        self,
        t: LayerType,
        e: Entry,
        qname: str,
        env: Mapping[str, Any],
        refs: list[_Ref],
        groups: tuple[Group, ...],
        trainable: bool,
        auto_named: bool,
    ) -> None:
        if qname in self.raw or qname in self.aliases:
            raise SpecError(f"the name '{qname}' is used twice", e.pos, qname)
        if len(self.raw) >= self.max_layers:
            raise SpecError(
                f"the spec expands to more than {self.max_layers:,} layers"
                " (raise the limit with --max-layers)",
                e.pos,
                qname,
            )
        if len(refs) < t.min_inputs:
            raise SpecError(
                f"{t.name} needs at least {t.min_inputs} inputs; list them with from: [a, b]",
                e.pos,
                qname,
            )
        if t.max_inputs is not None and len(refs) > t.max_inputs:
            raise SpecError(
                f"{t.name} takes {t.max_inputs} input, 'from' lists {len(refs)}", e.pos, qname
            )
        args, arg_pos = self._layer_args(t, e, qname, env)
        self.raw[qname] = _Raw(qname, t, refs, args, arg_pos, trainable, groups, e.pos, auto_named)

    def _layer_args(
        self, t: LayerType, e: Entry, qname: str, env: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], dict[str, Pos]]:
        given: dict[str, Any] = {}
        arg_pos: dict[str, Pos] = {}
        if e.args is not None:
            for key, node in e.args.value.items():
                if t.arg(key) is None:
                    names = [a.name for a in t.args]
                    known = ", ".join(names) or "none"
                    raise SpecError(
                        f"{t.name} has no argument '{key}'"
                        f"{did_you_mean(key, names)} (its arguments: {known})",
                        e.args.key_pos[key],
                        qname,
                    )
                given[key] = _evaluate(node, env, qname)
                arg_pos[key] = node.pos
        # Layers written alike share one read-only arguments mapping, parsed once: a network
        # repeats itself, and later passes memoize their work on it (shapes, fields, costs).
        memo_key = _frozen((t.name, given))
        shared = self.args_memo.get(memo_key) if memo_key is not None else None
        if shared is not None:
            return shared, arg_pos
        args = {}
        for a in t.args:
            if a.name in given:
                try:
                    args[a.name] = a.parse(given[a.name], t.dims)
                except LayerError as err:
                    raise SpecError(f"{a.name} {err.message}", arg_pos[a.name], qname) from None
            elif a.default is REQUIRED:
                raise SpecError(f"{t.name} needs argument '{a.name}'", e.pos, qname)
            else:  # parsed once per type: defaults are immutable values
                key = (t.name, a.name)
                if key not in self.defaults:
                    self.defaults[key] = None if a.default is None else a.parse(a.default, t.dims)
                args[a.name] = self.defaults[key]
        frozen = MappingProxyType(args)
        if memo_key is not None:
            self.args_memo[memo_key] = frozen
        return frozen, arg_pos

    def _alias(self, qname: str, ref: _Ref, pos: Pos) -> None:
        if qname in self.raw or qname in self.aliases:
            raise SpecError(f"the name '{qname}' is used twice", pos, qname)
        self.aliases[qname] = ref

    def _int(self, node: Any, env: Mapping[str, Any], what: str, layer: str) -> int:
        value = _evaluate(node, env, layer)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SpecError(
                f"{what} must be a whole number ≥ 0, got {shown(value)}", node.pos, layer
            )
        if value > self.max_layers:
            raise SpecError(
                f"{what} {value:,} is more than the limit of {self.max_layers:,}"
                " layers (raise it with --max-layers)",
                node.pos,
                layer,
            )
        return value

    # ---- resolution ---------------------------------------------------------------------------

    def _resolve(self, ref: _Ref) -> str:
        target, seen = ref.target, set()
        while target in self.aliases:
            if target in seen:
                raise SpecError(f"'{ref.text}' refers to itself", ref.pos, ref.owner)
            seen.add(target)
            target = self.aliases[target].target
        if target in self.raw or target == _NETWORK_INPUT:
            return target
        prefix = target[: len(target) - len(ref.text)]
        hint = did_you_mean(ref.text, self.scope_names.get(prefix, []))
        raise SpecError(
            f"'from' names '{ref.text}', which is not a layer here{hint}", ref.pos, ref.owner
        )

    def _toposort(self, inputs: dict[str, list[str]]) -> list[str]:
        index = {name: i for i, name in enumerate(self.raw)}
        pending = {
            name: sum(1 for s in srcs if s != _NETWORK_INPUT) for name, srcs in inputs.items()
        }
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
        if len(order) < len(self.raw):
            self._report_cycle({n for n, c in pending.items() if c > 0}, inputs)
        return order

    def _report_cycle(self, stuck: set[str], inputs: dict[str, list[str]]) -> None:
        start = min(stuck, key=list(self.raw).index)
        path, node = [start], start
        while True:
            node = next(s for s in inputs[node] if s in stuck)
            if node in path:
                cycle = [*path[path.index(node) :], node]
                break
            path.append(node)
        chain = " ← ".join(cycle)
        raise SpecError(
            f"the layers form a cycle ({chain}: each takes input from the next)",
            self.raw[cycle[0]].pos,
            cycle[0],
        )

    # ---- propagation --------------------------------------------------------------------------

    def _propagate(
        self, order: list[str], inputs: dict[str, list[str]], input_shape: Shape
    ) -> list[Layer]:
        shown_as = SHOWN_AS.set(self.spec.layout.display)  # messages write the spec's layout
        try:
            return self._infer(order, inputs, input_shape)
        finally:
            SHOWN_AS.reset(shown_as)

    def _infer(
        self, order: list[str], inputs: dict[str, list[str]], input_shape: Shape
    ) -> list[Layer]:
        shapes: dict[str, Shape] = {_NETWORK_INPUT: input_shape}
        layers = []
        done: dict[tuple[int, tuple[Shape, ...]], Result] = {}  # shared arguments, same inputs
        for name in order:
            raw = self.raw[name]
            ins = tuple(shapes[s] for s in inputs[name])
            try:
                key = (id(raw.args), ins)
                result = done.get(key) or done.setdefault(key, raw.type.infer(raw.args, ins))
            except LayerError as err:
                pos = raw.arg_pos.get(err.arg or "", raw.pos)
                raise SpecError(err.message, pos, name) from None
            if math.prod(result.shape) > MAX_INT:
                raise SpecError(
                    f"the output has {math.prod(result.shape):,} elements, more"
                    f" than a PyTorch tensor can hold ({MAX_INT:,})",
                    raw.pos,
                    name,
                )
            shapes[name] = result.shape
            srcs = tuple(INPUT_REF if s == _NETWORK_INPUT else s for s in inputs[name])
            layers.append(
                Layer(
                    name,
                    raw.type.name,
                    srcs,
                    raw.args,
                    result,
                    raw.trainable,
                    raw.groups,
                    raw.pos,
                    raw.auto_named,
                )
            )
        return layers

    def _unused(self, layers: list[Layer], output: str) -> list[Notice]:
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


def _frozen(value: Any) -> Hashable | None:
    """A hashable copy of plain YAML data that tells true from 1 and 1 from 1.0 (they parse
    differently), or None past a few hundred items: not worth a memo."""
    stack: list[Any] = [value]
    out: list[Hashable] = []
    budget = 256
    while stack:
        v = stack.pop()
        budget -= 1
        if budget < 0:
            return None
        if isinstance(v, dict):
            out.append(("{", len(v)))
            for k, item in v.items():
                out.append(k)
                stack.append(item)
        elif isinstance(v, (list, tuple)):
            out.append(("[", len(v)))
            stack.extend(v)
        else:
            out.append((type(v), v))
    return tuple(out)


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


def _evaluate(node: Any, env: Mapping[str, Any], layer: str | None) -> Any:
    """A located YAML value with its `${expr}` placeholders evaluated."""
    value = node.value
    if isinstance(value, str):
        if not has_placeholder(value):
            return value
        try:
            return substitute(value, env)
        except ExprError as err:
            hint = "" if env else " (${...} is for block arguments, inside a block)"
            raise SpecError(f"{err}{hint}", node.pos, layer) from None
    if isinstance(value, list):
        return [_evaluate(v, env, layer) for v in value]
    if isinstance(value, dict):
        return {k: _evaluate(v, env, layer) for k, v in value.items()}
    return value
