"""Spec → layer graph: blocks expanded, names qualified, `from` resolved, shapes propagated."""

from __future__ import annotations

import heapq
import re
from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from cnncalc.errors import BudgetError, LayerError, Pos, SpecError, did_you_mean, one_line, shown
from cnncalc.expr import ExprError, has_placeholder, substitute
from cnncalc.layers import TYPES, Result, Shape
from cnncalc.layers.args import REQUIRED
from cnncalc.layers.base import LayerType
from cnncalc.layers.costs import Cost
from cnncalc.layers.tensors import SHOWN_AS
from cnncalc.source import Node
from cnncalc.spec import (
    INPUT_REF,
    MAX_RANK,
    Block,
    Entry,
    Layout,
    Spec,
    elements,
    too_many,
)
from cnncalc.synonyms import argument_hint

DEFAULT_MAX_LAYERS = 100_000  # a chain this long: 3 to 5 CPU s, at most 300 MB (issue 10)
MAX_BLOCK_DEPTH = 64
MAX_NAME_CHARS = 500  # a layer's full name, its block instances' names included
MAX_VALUE_ITEMS = 1_000_000  # a block argument's values, written out (YAML's own limit)
MAX_VARYING_ITEMS = 100  # a value written with ${...} in it, worked out for each instance
CYCLE_SHOWN = 8  # layers of a cycle a message names
MAX_SUGGESTION_CANDIDATES = 1_000  # names a "did you mean" compares a misspelt one with
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


class _Budget:
    """What one expansion may cost. Every layer, every block instance (empty ones too),
    every entry with `repeat: 0` and every input in a `from` past a layer's first is one
    unit, and a spec may expand to at most `limit` units.

    The count charges `counted` before anything is built, in closed form; the expansion
    charges `spent` as it goes, a backstop for anything the count could not foresee.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counted = 0
        self.spent = 0

    def count(self, units: int, pos: Pos, layer: str | None = None) -> None:
        self.counted += units
        if self.counted > self.limit:
            raise self.error(pos, layer)

    def spend(self, pos: Pos, layer: str | None, units: int = 1) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise self.error(pos, layer)

    def error(self, pos: Pos, layer: str | None = None) -> BudgetError:
        return BudgetError(
            f"the spec expands to more than {self.limit:,} layers and block instances"
            " (inputs past a layer's first count too; raise the limit with --max-layers N)",
            pos,
            layer,
        )


class _Values:
    """Plain YAML values, hash-consed: each distinct value gets a small number, found by
    identity for a list or mapping already seen, so that memo keys stay small however large
    a value grows, and a value's size (its items written out) is known without walking it."""

    def __init__(self) -> None:
        self.numbers: dict[Hashable, int] = {}
        self.sizes: list[int] = []
        self.seen: dict[int, tuple[Any, int]] = {}  # id → (the list or dict, kept alive; number)

    def key(self, value: Any) -> int:
        """The value's number: equal values, equal numbers (true, 1 and 1.0 told apart)."""
        if not isinstance(value, (list, dict)):
            return self._number((type(value), value), 1)
        seen = self.seen
        stack: list[tuple[Any, bool]] = [(value, False)]
        while stack:
            v, children_done = stack.pop()
            if id(v) in seen:
                continue
            items = list(v.values()) if isinstance(v, dict) else v
            if not children_done:
                stack.append((v, True))
                stack.extend((c, False) for c in items if isinstance(c, (list, dict)))
                continue
            parts = tuple(
                seen[id(c)][1] if isinstance(c, (list, dict)) else self.key(c) for c in items
            )
            size = 1 + sum(self.sizes[p] for p in parts)
            shape = ("{", tuple(v), parts) if isinstance(v, dict) else ("[", parts)
            seen[id(v)] = (v, self._number(shape, size))
        return seen[id(value)][1]

    def size(self, value: Any) -> int:
        """How many values `value` holds written out, itself included."""
        return self.sizes[self.key(value)]

    def _number(self, shape: Hashable, size: int) -> int:
        number = self.numbers.get(shape)
        if number is None:
            number = self.numbers[shape] = len(self.sizes)
            self.sizes.append(size)
        return number


class _Builder:
    def __init__(self, spec: Spec, max_layers: int) -> None:
        self.spec = spec
        self.budget = _Budget(max_layers)
        self.raw: dict[str, _Raw] = {}
        self.aliases: dict[str, _Ref] = {}
        self.resolved: dict[str, str] = {}  # alias → the layer it stands for, see _resolve
        self.scope_names: dict[str, list[str]] = {}  # prefix → names, for "did you mean"
        self.fixed: dict[str, bool] = {}  # block → its layer count ignores its arguments
        self.defaults: dict[tuple[str, str], Any] = {}  # (type, arg) → its parsed default
        self.args_memo: dict[Hashable, Mapping[str, Any]] = {}  # see _layer_args
        self.values = _Values()
        self.constants: dict[int, tuple[Node, Any, int]] = {}  # see _constant

    # ---- expansion ----------------------------------------------------------------------------

    def run(self, input_shape: Shape) -> Graph:
        spec = self.spec
        if len(input_shape) > MAX_RANK:  # from --input: the spec's own is checked on reading
            raise SpecError(
                f"the input shape has {len(input_shape):,} dimensions; cnncalc takes at"
                f" most {MAX_RANK}",
                spec.input_pos,
            )
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
        memo: dict[Hashable, int],
        copies: int = 1,
    ) -> int:
        """How many units of the budget (layers, block instances, `repeat: 0` entries) entries
        expand to, without building them: a spec past --max-layers fails at once, not after
        building a million layers. Other problems are left for the expansion, which reports
        them with the layer's full name.

        `copies` is how many times the caller's repeats make these entries appear; every
        unit counted is charged that many times, so the count fails as soon as it gets past
        the limit, however the blocks nest. A block instance is counted once per distinct
        arguments, in closed form after that: nesting cannot make the count itself explode.
        """
        total = 0
        for e in entries:
            try:
                repeat = 1 if e.repeat is None else self._int(e.repeat, env, "repeat", e.kind)
                per, inner_charged = 1, False
                block = self.spec.blocks.get(e.kind)
                if (
                    block is not None
                    and repeat
                    and block.name not in stack
                    and len(stack) < MAX_BLOCK_DEPTH
                ):
                    # A block whose count its arguments cannot change is counted once.
                    fixed = self._count_is_fixed(block.name, set())
                    args = None if fixed else self._block_args(block, e, e.kind, env)
                    key = (block.name, None if args is None else self._args_key(args))
                    if key not in memo:
                        if args is None:
                            args = self._block_args(block, e, e.kind, env)
                        inner = (*stack, block.name)
                        memo[key] = 1 + self._count(
                            block.entries, args, inner, memo, copies * repeat
                        )
                        inner_charged = True
                    per = memo[key]
            except BudgetError:
                raise
            except SpecError:
                continue
            units = repeat * per if repeat else 1  # a `repeat: 0` entry is visited too
            total += units
            self.budget.count(copies * (repeat if inner_charged else units), e.pos)
        return total

    def _args_key(self, args: Mapping[str, Any]) -> Hashable:
        """A small key for a block's arguments: a number per value, never the value itself."""
        return tuple((k, self.values.key(v)) for k, v in sorted(args.items()))

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
            flag = self._evaluate(e.trainable, env, label)
            if not isinstance(flag, bool):
                raise SpecError(
                    f"trainable must be true or false, got {shown(flag)}", e.trainable.pos, label
                )
            trainable = trainable and flag
        refs = self._from(e, env, prefix, scope_input, prev, label)
        if repeat == 0:
            self.budget.spend(e.pos, label)
            if len(refs) != 1:
                raise SpecError(
                    "an entry with repeat: 0 passes its input through, so it"
                    " takes exactly one input",
                    e.pos,
                    label,
                )
            if name is not None:
                self._alias(_qualified(prefix, name, e.pos), refs[0], e.pos)
            return refs[0]
        copy_groups = groups
        if grouped:
            assert name is not None
            copy_groups = (*groups, Group(_qualified(prefix, name, e.pos), "repeat", e.pos))
        out = refs[0]
        for i in range(repeat):
            if i == 0:
                local = first
            elif grouped:
                local = f"{name}.{i}"
            else:
                local = auto(e.kind)
            qname = _qualified(prefix, local, e.pos)
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
        value = self._evaluate(e.name, env, e.kind)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and len(value) > MAX_NAME_CHARS:
            raise SpecError(
                f"name {shown(value)} is longer than {MAX_NAME_CHARS:,} characters", e.name.pos
            )
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
        value = self._evaluate(e.from_, env, label)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise SpecError("'from' is an empty list", e.from_.pos, label)
        refs = []
        for item in items:
            if not isinstance(item, str) or not item:
                raise SpecError(f"'from' takes layer names, got {shown(item)}", e.from_.pos, label)
            if len(item) > MAX_NAME_CHARS:
                raise SpecError(
                    f"'from' names {shown(item)}, longer than the {MAX_NAME_CHARS:,}"
                    " characters of any layer's name",
                    e.from_.pos,
                    label,
                )
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
        self.budget.spend(e.pos, qname)
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
                value = given[key] = self._evaluate(node, env, qname)
                if self.values.size(value) > MAX_VALUE_ITEMS:
                    raise SpecError(
                        f"argument '{key}' holds more than {MAX_VALUE_ITEMS:,} values written"
                        " out (a value used twice in a list doubles it)",
                        node.pos,
                        qname,
                    )
        values = {}
        for key, default in block.params.items():
            if key in given:
                values[key] = given[key]
            elif default.value is None:
                raise SpecError(f"block '{block.name}' needs argument '{key}'", e.pos, qname)
            else:  # never copied: values are read, not changed
                values[key] = self._constant(default)
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
        self.budget.spend(e.pos, qname, len(refs))
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
                        f"{argument_hint(key, names)} (its arguments: {known})",
                        e.args.key_pos[key],
                        qname,
                    )
                given[key] = self._evaluate(node, env, qname)
                arg_pos[key] = node.pos
        # Layers written alike share one read-only arguments mapping, parsed once: a network
        # repeats itself, and later passes memoize their work on it (shapes, fields, costs).
        memo_key = (t.name, tuple((k, self.values.key(v)) for k, v in given.items()))
        shared = self.args_memo.get(memo_key)
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
        frozen = self.args_memo[memo_key] = MappingProxyType(args)
        return frozen, arg_pos

    def _alias(self, qname: str, ref: _Ref, pos: Pos) -> None:
        if qname in self.raw or qname in self.aliases:
            raise SpecError(f"the name '{qname}' is used twice", pos, qname)
        self.aliases[qname] = ref

    def _int(self, node: Any, env: Mapping[str, Any], what: str, layer: str) -> int:
        value = self._evaluate(node, env, layer)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SpecError(
                f"{what} must be a whole number ≥ 0, got {shown(value)}", node.pos, layer
            )
        if value > self.budget.limit:
            raise self.budget.error(node.pos, layer)
        return value

    def _evaluate(self, node: Node, env: Mapping[str, Any], layer: str | None) -> Any:
        """A located value with its `${expr}` placeholders evaluated; a value without any is
        made plain once and shared by every instance."""
        constant = self._constant(node)
        if constant is not _VARIES:
            return constant
        size = self.constants[id(node)][2]
        if size > MAX_VARYING_ITEMS:
            raise SpecError(
                f"a value with ${{...}} in it holds at most {MAX_VARYING_ITEMS:,} items"
                f" (it is worked out for every instance); this one holds {size:,}",
                node.pos,
                layer,
            )
        return _evaluate(node, env, layer)

    def _constant(self, node: Node) -> Any:
        """The plain value of a node with no placeholder in it, worked out once; else _VARIES
        (and the node's size is kept beside it)."""
        hit = self.constants.get(id(node))
        if hit is None:
            varies = _varies(node)
            hit = self.constants[id(node)] = (
                node,
                _VARIES if varies else node.plain(),
                _size(node) if varies else 0,
            )
        return hit[1]

    # ---- resolution ---------------------------------------------------------------------------

    def _resolve(self, ref: _Ref) -> str:
        """The layer a reference stands for, through any aliases; each alias is followed once
        and remembered, so a long chain of them costs its length once, not per reader."""
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
        if target in self.raw or target == _NETWORK_INPUT:
            self.resolved.update(dict.fromkeys(path, target))
            return target
        prefix = target[: len(target) - len(ref.text)]
        hint = did_you_mean(ref.text, _likeliest(ref.text, self.scope_names.get(prefix, [])))
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
        start = next(name for name in self.raw if name in stuck)  # the first written
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
            if len(result.shape) > MAX_RANK:
                raise SpecError(
                    f"the output has {len(result.shape):,} dimensions; cnncalc takes at"
                    f" most {MAX_RANK}",
                    raw.pos,
                    name,
                )
            if elements(result.shape) is None:
                raise SpecError(f"the output has {too_many(result.shape)}", raw.pos, name)
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


_VARIES = object()  # a node's value depends on the block's arguments


def _qualified(prefix: str, local: str, pos: Pos) -> str:
    """A name inside its block instances (`stage1.block2.conv`), within MAX_NAME_CHARS."""
    if len(prefix) + len(local) > MAX_NAME_CHARS:
        raise SpecError(
            f"the full name of layer '{local}' is longer than {MAX_NAME_CHARS:,} characters"
            f" ({shown(prefix + local)}): blocks nest too deep or their names are too long",
            pos,
        )
    return prefix + local


def _likeliest(word: str, names: list[str]) -> list[str]:
    """At most MAX_SUGGESTION_CANDIDATES names, those of lengths nearest the word's: comparing
    a word with every name of a large scope would cost far more than the error is worth."""
    if len(names) <= MAX_SUGGESTION_CANDIDATES:
        return names
    return heapq.nsmallest(MAX_SUGGESTION_CANDIDATES, names, key=lambda n: abs(len(n) - len(word)))


def _varies(node: Node) -> bool:
    """Whether a node holds a `${...}` placeholder anywhere."""
    stack: list[Any] = [node]
    while stack:
        value = stack.pop().value
        if isinstance(value, str) and has_placeholder(value):
            return True
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return False


def _size(node: Node) -> int:
    """How many values a node holds, itself included."""
    count, stack = 0, [node]
    while stack:
        value = stack.pop().value
        count += 1
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return count


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
