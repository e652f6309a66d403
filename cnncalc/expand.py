"""Spec → flat layer instances: blocks and `repeat` expanded, `${expr}` substituted, names
qualified, arguments parsed, and every `from` recorded as a reference the graph resolves."""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from cnncalc.budget import MAX_BLOCK_DEPTH, Budget, count
from cnncalc.errors import BudgetError, Collector, LayerError, Pos, SpecError, shown
from cnncalc.layers import TYPES
from cnncalc.layers.args import REQUIRED
from cnncalc.layers.base import LayerType
from cnncalc.layers.checks import several
from cnncalc.source import Node
from cnncalc.spec import FAILED, INPUT_REF, Block, Entry, Spec
from cnncalc.synonyms import argument_hint
from cnncalc.values import MAX_VALUE_ITEMS, MAX_VARYING_ITEMS, Values

__all__ = [
    "DEFAULT_MAX_LAYERS",
    "INPUT_PREFIX",
    "MAX_BLOCK_DEPTH",
    "MAX_NAME_CHARS",
    "MAX_VALUE_ITEMS",
    "MAX_VARYING_ITEMS",
    "NETWORK_INPUT",
    "Expansion",
    "Group",
    "Instance",
    "Ref",
    "Scope",
    "expand",
]

DEFAULT_MAX_LAYERS = 50_000  # at the limit: at most about 7 CPU s and 500 MB (explain, diff)
MAX_NAME_CHARS = 500  # a layer's full name, its block instances' names included
NETWORK_INPUT = "\0input"  # what `from: input` means at the top; cannot collide with a name
INPUT_PREFIX = "\0input/"  # + its name: one of a spec's several `inputs`
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")


class Group(NamedTuple):
    """A container of layers: a block instance (kind = block name) or a named repeat."""

    name: str
    kind: str
    pos: Pos = Pos("", 0, 0)


class Ref(NamedTuple):
    """A reference to a layer or alias by qualified name, with where it was written."""

    target: str
    pos: Pos
    text: str
    owner: str | None = None  # the layer whose 'from' this is, for messages
    output: int = 0  # which of the target's outputs (`lstm:1`)


class Instance(NamedTuple):
    """One layer of the expanded spec, its inputs still references."""

    name: str
    type: LayerType
    refs: list[Ref]
    args: Mapping[str, Any]  # parsed, read-only
    args_key: int  # equal for layers of one type whose arguments were written alike
    arg_pos: dict[str, Pos]
    trainable: bool
    groups: tuple[Group, ...]  # enclosing containers, outermost first
    pos: Pos
    auto_named: bool
    shares: Ref | None = None  # the layer whose weights it reuses
    outputs: tuple[str, ...] = ()  # the further names its outputs were given (`name: [a, b]`)


class Expansion(NamedTuple):
    """What a spec expands to, ready for the graph to resolve."""

    instances: dict[str, Instance]  # in the order written
    aliases: dict[str, Ref]  # block instances, named repeats, `repeat: 0` entries → output
    output: Ref  # the last top-level entry's output
    scope_names: dict[str, list[str]]  # prefix → the local names there, for "did you mean"
    failed: frozenset[str] = frozenset()  # names of entries that failed: no layer, no error
    outputs: tuple[Ref, ...] = ()  # the spec's `outputs`, when it lists them


class Scope(NamedTuple):
    """Where a list of entries is expanded: what they inherit from around them."""

    prefix: str  # "stage1.block2." inside block instances, "" at the top
    env: Mapping[str, Any]  # the block's arguments, for ${...}
    input: Ref  # what `from: input` stands for here
    groups: tuple[Group, ...]  # enclosing containers, outermost first
    trainable: bool
    blocks: tuple[str, ...]  # the blocks being expanded, outermost first (the depth)
    shares: str | None = None  # the block instance whose weights this one reuses, + "."


def expand(
    spec: Spec, max_layers: int = DEFAULT_MAX_LAYERS, found: Collector | None = None
) -> Expansion:
    """Every layer instance of a spec; raises BudgetError past `max_layers` units of work.

    An entry that breaks a rule is reported to `found` and expands to no layer (its name in
    `failed`), so that one run reports every independent problem; without `found`, they are
    raised here, together with the spec's own.
    """
    if found is not None:
        return _Expander(spec, max_layers, found).run()
    found = Collector(spec.errors)
    expansion = _Expander(spec, max_layers, found).run()
    found.check()
    return expansion


class _Names:
    """The local names of one list of entries: those written, and `<type>_<n>` for the rest."""

    def __init__(self, written: Sequence[str | None]) -> None:
        self.taken = {n for n in written if n is not None}
        self.counters: dict[str, int] = {}

    def auto(self, kind: str) -> str:
        """The next `<kind>_<n>` no entry of the list has taken."""
        n = self.counters.get(kind, 0)
        while True:
            n += 1
            candidate = f"{kind}_{n}"
            if candidate not in self.taken:
                self.counters[kind] = n
                self.taken.add(candidate)
                return candidate


class _Copy(NamedTuple):
    """What one copy of an entry is called, and what it shares."""

    local: str  # its name in its list of entries
    auto: bool  # `<type>_<n>`, not the user's
    more: tuple[str, ...] = ()  # the names of its outputs after the first
    shares: Ref | None = None  # the layer or block instance whose weights it reuses


class _Expander:
    """One spec's expansion: the instances and aliases made so far, and what it memoizes."""

    def __init__(self, spec: Spec, max_layers: int, found: Collector) -> None:
        self.spec = spec
        self.found = found
        self.failed: set[str] = set()
        self.budget = Budget(max_layers)
        self.instances: dict[str, Instance] = {}
        self.aliases: dict[str, Ref] = {}
        self.scope_names: dict[str, list[str]] = {}  # prefix → names, for "did you mean"
        self.defaults: dict[tuple[str, str], Any] = {}  # (type, arg) → its parsed default
        self.args_memo: dict[Hashable, tuple[Mapping[str, Any], int]] = {}  # see _layer_args
        self.values = Values()

    def run(self) -> Expansion:
        """Count the budget, then expand the top-level entries."""
        spec = self.spec
        start = Ref(NETWORK_INPUT, spec.input_pos, INPUT_REF)
        if len(spec.inputs) > 1:
            for i in spec.inputs:
                self.aliases[i.name] = Ref(INPUT_PREFIX + i.name, i.pos, i.name)
            self.scope_names[""] = [i.name for i in spec.inputs]
            start = self.aliases[spec.inputs[0].name]
        count(spec, self.budget, self.values)
        top = Scope("", {}, start, (), True, ())
        out = self._scope(spec.entries, top)
        outputs = self._outputs(top)
        failed = frozenset(self.failed)
        return Expansion(self.instances, self.aliases, out, self.scope_names, failed, outputs)

    def _outputs(self, top: Scope) -> tuple[Ref, ...]:
        """The references the spec's `outputs` list makes."""
        node = self.spec.outputs
        if node is None:
            return ()
        items = node.value if node.is_list else [node]
        if not items:
            raise SpecError("'outputs' is an empty list; leave it out for the last layer", node.pos)
        return tuple(self._ref(item.value, top, item.pos, None, "outputs") for item in items)

    # ---- expansion ----------------------------------------------------------------------------

    def _scope(self, entries: Sequence[Entry], scope: Scope) -> Ref:
        """Expand one list of entries; returns a reference to its last entry's output."""
        bad: set[int] = set()  # entries whose name is wrong
        written = [self._try_name(e, scope.env, i, bad) for i, e in enumerate(entries)]
        names = _Names([n for ns in written for n in ns])
        prev = scope.input
        for i, (entry, given) in enumerate(zip(entries, written, strict=True)):
            name = given[0] if given else None
            if entry.kind == FAILED or i in bad:
                prev = self._fail(name, scope)
            else:
                prev = self._entry(entry, given, names, scope, prev)
        return prev

    def _try_name(self, e: Entry, env: Mapping[str, Any], i: int, bad: set[int]) -> tuple[str, ...]:
        """The names an entry gives itself (none, one, or one per output); a wrong one is
        reported and `i` put in `bad`."""
        try:
            return self._entry_names(e, env)
        except SpecError as err:
            self.found.add(err)
            bad.add(i)
            return ()

    def _fail(self, name: str | None, scope: Scope) -> Ref:
        """What the entries after a failed one read: a name the graph knows as failed."""
        qname = scope.prefix + (name if name is not None else f"{FAILED}{len(self.failed)}")
        self.failed.add(qname)
        if name is not None and name not in self.scope_names.get(scope.prefix, ()):
            self.scope_names.setdefault(scope.prefix, []).append(name)
        return Ref(qname, Pos("", 0, 0), qname)

    def _entry(
        self, e: Entry, given: tuple[str, ...], names: _Names, scope: Scope, prev: Ref
    ) -> Ref:
        """Expand one entry, all its copies; returns a reference to its output. A problem is
        reported, and the entry's name (written or given) marked as failed."""
        name = given[0] if given else None
        grouped = name is not None and e.repeat is not None
        first = f"{name}.0" if grouped else name or names.auto(e.kind)  # copy 0's name
        try:
            return self._copies(e, given, names, scope, prev, first)
        except BudgetError:
            raise
        except SpecError as err:
            self.found.add(err)
            for more in given[1:]:
                self._fail(more, scope)
            return self._fail(name or first, scope)

    def _copies(
        self, e: Entry, given: tuple[str, ...], names: _Names, scope: Scope, prev: Ref, first: str
    ) -> Ref:
        """An entry's layers or block instances, `first` the name of its first copy."""
        name = given[0] if given else None
        grouped = name is not None and e.repeat is not None
        label = scope.prefix + first
        if len(given) > 1 and (grouped or e.kind in self.spec.blocks):
            what = "an entry with repeat" if grouped else f"block '{e.kind}'"
            raise SpecError(
                f"{what} has one output, so 'name' is one name, not a list",
                e.name.pos if e.name else e.pos,
                label,
            )
        repeat = 1 if e.repeat is None else self._repeat(e.repeat, scope.env, label)
        trainable = self._trainable(e, scope, label)
        refs = [] if e.from_ is None and self._no_input(e) else self._from(e, scope, prev, label)
        if not self._kept(e, scope, label):
            return self._pass_through(e, name, scope, refs, label, "when: false")
        if repeat == 0:
            return self._pass_through(e, name, scope, refs, label, "repeat: 0")
        shares = self._shares(e, scope, label)
        groups = scope.groups
        if name is not None and grouped:
            groups = (*groups, Group(_qualified(scope.prefix, name, e.pos), "repeat", e.pos))
        inner = scope._replace(groups=groups, trainable=trainable)
        out = refs[0] if refs else prev
        for i in range(repeat):
            local = first if i == 0 else f"{name}.{i}" if grouped else names.auto(e.kind)
            copy = _Copy(local, name is None, given[1:], shares)
            out = self._copy(e, copy, inner, refs if i == 0 else [out])
        if name is not None and grouped:
            self._alias(scope.prefix + name, out, e.pos)
            self.scope_names.setdefault(scope.prefix, []).append(name)
        return out

    def _trainable(self, e: Entry, scope: Scope, label: str) -> bool:
        """Whether an entry's layers learn: its `trainable`, and its enclosing blocks'."""
        if e.trainable is None:
            return scope.trainable
        flag = self.values.evaluate(e.trainable, scope.env, label)
        if not isinstance(flag, bool):
            raise SpecError(
                f"trainable must be true or false, got {shown(flag)}", e.trainable.pos, label
            )
        return scope.trainable and flag

    def _pass_through(
        self, e: Entry, name: str | None, scope: Scope, refs: list[Ref], label: str, why: str
    ) -> Ref:
        """An entry with `repeat: 0` or `when: false` (`why`): no layer, its name an alias of
        its input."""
        self.budget.spend(e.pos, label)
        if len(refs) != 1:
            raise SpecError(
                f"an entry with {why} passes its input through, so it takes exactly one input",
                e.pos,
                label,
            )
        if name is not None:
            self._alias(_qualified(scope.prefix, name, e.pos), refs[0], e.pos)
        return refs[0]

    def _copy(self, e: Entry, copy: _Copy, scope: Scope, refs: list[Ref]) -> Ref:
        """One copy of an entry: a layer, or a block instance; returns its output."""
        qname = _qualified(scope.prefix, copy.local, e.pos)
        block = self.spec.blocks.get(e.kind)
        shares = copy.shares
        if shares is None and scope.shares is not None:  # inside a block instance that shares
            shares = Ref(scope.shares + copy.local, e.pos, scope.shares + copy.local, qname)
        if block is not None:
            out = self._instance(block, e, qname, scope, refs, shares)
        else:
            self._layer(TYPES[e.kind], e, qname, scope, refs, copy._replace(shares=shares))
            out = Ref(qname, e.pos, qname)
        self.scope_names.setdefault(scope.prefix, []).append(copy.local)
        for i, more in enumerate(copy.more, 1):
            self._alias(_qualified(scope.prefix, more, e.pos), out._replace(output=i), e.pos)
            self.scope_names[scope.prefix].append(more)
        return out

    def _no_input(self, e: Entry) -> bool:
        """Whether an entry is a layer that takes no input (parameter)."""
        t = TYPES.get(e.kind)
        return t is not None and t.max_inputs == 0

    def _kept(self, e: Entry, scope: Scope, label: str) -> bool:
        """An entry's `when`: whether it is kept."""
        if e.when is None:
            return True
        flag = self.values.evaluate(e.when, scope.env, label)
        if not isinstance(flag, bool):
            raise SpecError(
                f'when must be true or false (a comparison such as "${{depth > 2}}"), got'
                f" {shown(flag)}",
                e.when.pos,
                label,
            )
        return flag

    def _shares(self, e: Entry, scope: Scope, label: str) -> Ref | None:
        """The layer or block instance whose weights an entry reuses (`shares: NAME`)."""
        if e.shares is None:
            return None
        value = self.values.evaluate(e.shares, scope.env, label)
        if not isinstance(value, str) or not _NAME.match(value):
            raise SpecError(
                f"shares takes the name of a layer or block instance, got {shown(value)}",
                e.shares.pos,
                label,
            )
        return Ref(scope.prefix + value, e.shares.pos, value, label)

    def _entry_names(self, e: Entry, env: Mapping[str, Any]) -> tuple[str, ...]:
        """The names an entry gives itself, checked: none, one, or a list naming each of a
        layer's outputs (`name: [out, h_n]`)."""
        if e.name is None:
            return ()
        value = self.values.evaluate(e.name, env, e.kind)
        if not isinstance(value, list):
            return (self._entry_name(value, e),)
        if not value:
            raise SpecError("'name' is an empty list", e.name.pos)
        names = tuple(self._entry_name(v, e) for v in value)
        twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if twice is not None:
            raise SpecError(f"'name' lists '{twice}' twice", e.name.pos)
        return names

    def _entry_name(self, value: Any, e: Entry) -> str:
        """One name an entry gives, checked."""
        assert e.name is not None
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

    def _from(self, e: Entry, scope: Scope, prev: Ref, label: str) -> list[Ref]:
        """The references an entry's `from` makes; without one, the entry before."""
        if e.from_ is None:
            return [prev]
        value = self.values.evaluate(e.from_, scope.env, label)
        items = value if isinstance(value, list) else [value]
        if not items:
            raise SpecError("'from' is an empty list", e.from_.pos, label)
        return [self._ref(item, scope, e.from_.pos, label, "from") for item in items]

    def _ref(self, item: Any, scope: Scope, pos: Pos, label: str | None, key: str) -> Ref:
        """The reference one name of a `from` (or `outputs`) makes: `conv`, `lstm:1`, `input`."""
        if not isinstance(item, str) or not item:
            raise SpecError(f"'{key}' takes layer names, got {shown(item)}", pos, label)
        if len(item) > MAX_NAME_CHARS:
            raise SpecError(
                f"'{key}' names {shown(item)}, longer than the {MAX_NAME_CHARS:,}"
                " characters of any layer's name",
                pos,
                label,
            )
        name, colon, digits = item.rpartition(":")
        if not colon:
            name, index = item, 0
        elif (
            name
            and digits.isascii()
            and digits.isdigit()
            and len(digits) <= 4
            and (digits == "0" or not digits.startswith("0"))
        ):
            index = int(digits)
        else:
            raise SpecError(
                f"'{key}' names {shown(item)}; one output of a layer is written NAME:INDEX,"
                " counting from 0 (lstm:1 is the second)",
                pos,
                label,
            )
        if name == INPUT_REF:
            if index:
                raise SpecError(
                    f"'{key}' names {shown(item)}; the input has one output", pos, label
                )
            if not scope.prefix and len(self.spec.inputs) > 1:
                listed = ", ".join(i.name for i in self.spec.inputs)
                raise SpecError(
                    f"this spec has several inputs ({listed}); '{key}' names one of them",
                    pos,
                    label,
                )
            return scope.input._replace(pos=pos, text=INPUT_REF, owner=label)
        return Ref(scope.prefix + name, pos, item, label, index)

    def _instance(
        self, block: Block, e: Entry, qname: str, scope: Scope, refs: list[Ref], shares: Ref | None
    ) -> Ref:
        """One instance of a block, its entries expanded inside it; returns its output."""
        stack = scope.blocks
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
        inner = Scope(
            prefix=qname + ".",
            env=self.values.block_args(block, e, qname, scope.env),
            input=refs[0],
            groups=(*scope.groups, Group(qname, block.name, e.pos)),
            trainable=scope.trainable,
            blocks=(*stack, block.name),
            shares=None if shares is None else shares.target + ".",
        )
        out = self._scope(block.entries, inner)
        self._alias(qname, out, e.pos)
        return out

    def _layer(
        self, t: LayerType, e: Entry, qname: str, scope: Scope, refs: list[Ref], copy: _Copy
    ) -> None:
        """Record one layer instance, its inputs counted and its arguments parsed."""
        if qname in self.instances or qname in self.aliases:
            raise SpecError(f"the name '{qname}' is used twice", e.pos, qname)
        self.budget.spend(e.pos, qname, len(refs))
        if len(refs) < t.min_inputs:
            raise SpecError(
                f"{t.name} needs at least {t.min_inputs} inputs; list them with from: [a, b]",
                e.pos,
                qname,
            )
        if t.max_inputs is not None and len(refs) > t.max_inputs:
            takes = "no input" if t.max_inputs == 0 else several(t.max_inputs, "input")
            raise SpecError(f"{t.name} takes {takes}, 'from' lists {len(refs)}", e.pos, qname)
        given, arg_pos = self._given_args(t, e, qname, scope.env)
        args, key = self._layer_args(t, e, qname, given, arg_pos)
        more = tuple(scope.prefix + n for n in copy.more)
        self.instances[qname] = Instance(
            qname,
            t,
            refs,
            args,
            key,
            arg_pos,
            scope.trainable and t.learns(args),
            scope.groups,
            e.pos,
            copy.auto,
            copy.shares,
            more,
        )

    def _given_args(
        self, t: LayerType, e: Entry, qname: str, env: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Pos]]:
        """The arguments an entry writes, evaluated, and where each was written."""
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
                given[key] = self.values.evaluate(node, env, qname)
                arg_pos[key] = node.pos
        return given, arg_pos

    def _layer_args(
        self, t: LayerType, e: Entry, qname: str, given: dict[str, Any], arg_pos: dict[str, Pos]
    ) -> tuple[Mapping[str, Any], int]:
        """A layer's parsed arguments, defaults filled in, and their number: layers of one
        type written alike share one read-only mapping and one number, parsed once (a network
        repeats itself, and the graph works out each distinct layer's facts once)."""
        memo_key = (t.name, tuple((k, self.values.key(v)) for k, v in given.items()))
        shared = self.args_memo.get(memo_key)
        if shared is not None:
            return shared
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
        shared = self.args_memo[memo_key] = (MappingProxyType(args), len(self.args_memo))
        return shared

    def _alias(self, qname: str, ref: Ref, pos: Pos) -> None:
        """Record a name that stands for another layer's output (a block instance, ...)."""
        if qname in self.instances or qname in self.aliases:
            raise SpecError(f"the name '{qname}' is used twice", pos, qname)
        self.aliases[qname] = ref

    def _repeat(self, node: Node, env: Mapping[str, Any], label: str) -> int:
        """An entry's `repeat`, evaluated and checked against the budget."""
        return self.budget.repeat(self.values, node, env, "repeat", label)


def _qualified(prefix: str, local: str, pos: Pos) -> str:
    """A name inside its block instances (`stage1.block2.conv`), within MAX_NAME_CHARS."""
    if len(prefix) + len(local) > MAX_NAME_CHARS:
        raise SpecError(
            f"the full name of layer '{local}' is longer than {MAX_NAME_CHARS:,} characters"
            f" ({shown(prefix + local)}): blocks nest too deep or their names are too long",
            pos,
        )
    return prefix + local
