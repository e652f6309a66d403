"""A traced model's module tree → lists of spec entries, blocks inferred, written as YAML.

Every module call that takes one tensor and gives one becomes a block instance named after
the module (`layer1.0`), so qualified names read like the model's (`layer1.0.conv1`); a call
of several inputs or outputs (U-Net's `Up(x, skip)`) is written inline, its layers named
`up1_up`. Instances whose entries line up (same types, names and wiring) share one block;
the values that differ between them become the block's arguments, with `${a * 4}` where one
is a fixed multiple of another. A sequence of identical instances (`nn.Sequential` of twelve
encoder blocks) becomes one entry with `repeat`. No torch here: nodes are opaque keys.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cnncalc.importers import yamltext
from cnncalc.importers.torch_ops import SELF, Alias, Op, Src, is_tensor
from cnncalc.layers import TYPES
from cnncalc.layers.args import REQUIRED

_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_EXPR_WORDS = frozenset({"and", "or", "not", "true", "false", "min", "max", "input"})


@dataclass(eq=False)
class Scope:
    """One call of a module: its nodes and the calls inside it; `block` once it is known to
    take one tensor and give one."""

    path: str
    index: int  # which call of this module (a module called twice: 0, then 1)
    cls: str
    parent: Scope | None
    children: list[Scope] = field(default_factory=list)
    inputs: dict[Src, None] = field(default_factory=dict)  # tensors read from outside
    outputs: dict[Src, None] = field(default_factory=dict)  # tensors read outside
    block: bool = True
    single: bool = False  # its body is one layer: written as that layer, named as the module
    entries: list[Entry] = field(default_factory=list)
    has_params: bool = False

    def ancestors(self) -> Iterator[Scope]:
        """This scope and every one around it, innermost first."""
        s: Scope | None = self
        while s is not None:
            yield s
            s = s.parent

    def home(self) -> Scope:
        """The nearest scope (this one or around it) that has its own list of entries."""
        return next(s for s in self.ancestors() if s.block and not s.single)


@dataclass(eq=False)
class Entry:
    """One entry of a list: a layer (`op`) or a block instance (`child`)."""

    kind: str  # the layer type; for an instance, the block's name once inferred
    args: dict[str, Any]
    name: str | None  # written; None: cnncalc's `<type>_<n>`
    inputs: list[Any]  # (node, flat index), ("entry", Entry) or ("input", text)
    node: Any = None  # the fx node whose output this entry makes (its last op)
    child: Scope | None = None
    shares: Entry | None = None
    trainable: bool = True
    repeat: int | None = None
    local: str = ""  # the name cnncalc will give it, written or not
    collapsed: Scope | None = None  # an nn.Sequential of alike entries, written with repeat
    # `${...}` replacing some values, by position: (arg,), (arg, list index), ("repeat",)
    templates: dict[tuple[Any, ...], str] = field(default_factory=dict)


def local_name(path: str, home: Scope) -> str:
    """A module's name in the list of `home`: its path below it, dots as '_'."""
    prefix = f"{home.path}." if home.path else ""
    rel = path[len(prefix) :] if prefix and path.startswith(prefix) else path
    name = _NAME_BAD.sub("_", rel.replace(".", "_")) or "module"
    return "input_" if name == "input" else name


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name_1`, `name_2`, ... where it is taken."""
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def assign_auto_names(entries: list[Entry]) -> None:
    """Each entry's `local`: its written name, or the `<type>_<n>` cnncalc will give it
    (counted per type, skipping written names, as cnncalc's expansion does)."""
    taken = {e.name for e in entries if e.name is not None}
    counters: dict[str, int] = {}
    for e in entries:
        if e.name is not None:
            e.local = e.name
            continue
        n = counters.get(e.kind, 0)
        while True:
            n += 1
            if f"{e.kind}_{n}" not in taken:
                break
        counters[e.kind] = n
        e.local = f"{e.kind}_{n}"
        taken.add(e.local)


# --------------------------------------------------------------------------------------------
# Blocks and their arguments
# --------------------------------------------------------------------------------------------


def _skeleton(value: Any) -> Any:
    """What must match for two values to be one argument's: a list's length, else nothing."""
    return ("list", len(value)) if isinstance(value, list) else "value"


def _positions(e: Entry) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every value of an entry an argument may stand for: (position, value)."""
    for key, value in e.args.items():
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            for i, v in enumerate(value):
                yield (key, i), v
        else:
            yield (key,), value
    if e.repeat is not None:
        yield ("repeat",), e.repeat


def signature(s: Scope, refs: Callable[[Entry], tuple[str, ...]]) -> tuple[Any, ...]:
    """What instances of one block have in common: the class and, per entry, its type,
    name, wiring and the form (not the values) of its arguments."""
    return (
        s.cls,
        tuple(
            (
                e.kind,
                e.name,
                refs(e),
                e.shares.local if e.shares else None,
                e.trainable,
                e.repeat is not None,
                tuple((k, _skeleton(v)) for k, v in e.args.items()),
            )
            for e in s.entries
        ),
    )


def _relation(v: list[Any], u: list[Any]) -> str | None:
    """`* k` or `// k` where `v` is a fixed multiple or fraction of `u`, else None."""
    if not all(type(x) is int for x in (*v, *u)) or not all(x > 0 for x in (*v, *u)):
        return None
    if all(x % y == 0 for x, y in zip(v, u, strict=True)):
        ks = {x // y for x, y in zip(v, u, strict=True)}
        if len(ks) == 1 and (k := ks.pop()) > 1:
            return f" * {k}"
    if all(y % x == 0 for x, y in zip(v, u, strict=True)):
        ks = {y // x for x, y in zip(v, u, strict=True)}
        if len(ks) == 1 and (k := ks.pop()) > 1:
            return f" // {k}"
    return None


def _arg_name(key: tuple[Any, ...], e: Entry, taken: Mapping[str, Any]) -> str:
    """A new argument's name: the layer argument it stands for (`out_channels`), then with
    its layer's name (`out_channels_conv2`), made unique."""
    base = str(key[0]) if len(key) == 1 else f"{key[0]}{key[1]}"
    for name in (base, f"{base}_{e.local}"):
        name = name if _IDENT.match(name) else f"a_{_NAME_BAD.sub('_', name)}"
        if name not in taken and name not in _EXPR_WORDS:
            return name
    return unique(f"{base}_", set(taken))


def infer_args(group: list[Scope]) -> tuple[dict[str, None], list[dict[str, Any]]]:
    """The arguments of the block a group of alike instances share: writes `templates` on
    the first instance's entries and returns the argument names and each instance's values."""
    args: dict[str, list[Any]] = {}
    first = group[0]
    # Parameters last: their shapes' sizes are better named after the layer arguments they
    # equal (a layer scale's size is the channels).
    order = sorted(range(len(first.entries)), key=lambda i: first.entries[i].kind == "parameter")
    for i in order:
        e = first.entries[i]
        columns = [dict(_positions(s.entries[i])) for s in group]
        for key in columns[0]:
            values = [c[key] for c in columns]
            if all(v == values[0] for v in values):
                continue
            name = next((a for a, u in args.items() if u == values), None)
            text = f"${{{name}}}" if name else None
            for a, u in args.items():
                if text is None and (rel := _relation(values, u)):
                    text = f"${{{a}{rel}}}"
            if text is None:
                name = _arg_name(key, e, args)
                args[name] = values
                text = f"${{{name}}}"
            e.templates[key] = text
    instances = [{a: values[j] for a, values in args.items()} for j in range(len(group))]
    return dict.fromkeys(args), instances


def block_name(group: list[Scope], taken: set[str]) -> str:
    """A block's name: its class in lower case, or for an nn.Sequential its module's name
    (`layer2`, `layer3`, `layer4` alike: `layer`); never a layer type's."""
    s = group[0]
    if s.cls != "Sequential":
        base = s.cls.lower()
    else:
        stems = {g.path.rpartition(".")[2].rstrip("0123456789_") for g in group}
        last = s.path.rpartition(".")[2]
        base = last if re.search("[A-Za-z]", last) else s.path.replace(".", "_")
        if len(group) > 1:
            base = stems.pop() if len(stems) == 1 else "sequential"
            base = base or "sequential"
    base = _NAME_BAD.sub("_", base) or "block"
    if base in TYPES:
        base += "_block"
    return unique(base, taken)


# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------


def written_args(e: Entry) -> dict[str, Any]:
    """The arguments an entry writes: a layer's that differ from the default, a block
    instance's all, and every one an argument of its block stands for."""
    kinds = {a.name: a.default for a in TYPES[e.kind].args} if e.kind in TYPES else {}
    out: dict[str, Any] = {}
    for key, value in e.args.items():
        template = e.templates.get((key,))
        if template is not None:
            out[key] = template
        elif isinstance(value, list) and any((key, i) in e.templates for i in range(len(value))):
            out[key] = [e.templates.get((key, i), v) for i, v in enumerate(value)]
        elif e.kind not in TYPES or kinds.get(key, REQUIRED) is REQUIRED or value != kinds[key]:
            out[key] = value
    return out


def entry_lines(e: Entry, ref_text: list[str], previous: str, comment: str = "") -> list[str]:
    """One entry's YAML lines (without the list's indentation)."""
    args = written_args(e)
    extra: list[str] = []
    if e.name is not None:
        extra.append(f"name: {yamltext.value(e.name)}")
    if ref_text and ref_text != [previous]:
        refs = ref_text[0] if len(ref_text) == 1 else "[" + ", ".join(ref_text) + "]"
        extra.append(f"from: {refs}")
    if e.repeat is not None:
        extra.append(f"repeat: {yamltext.value(e.templates.get(('repeat',), e.repeat))}")
    if e.shares is not None:
        extra.append(f"shares: {e.shares.local}")
    if not e.trainable:
        extra.append("trainable: false")
    head = (
        f"- {e.kind}: {yamltext.flow(args)}"
        if args
        else (f"- {e.kind}:" if extra else f"- {e.kind}")
    )
    if comment:
        head = f"{head}  # {comment}"
    return [head, *(f"  {line}" for line in extra)]


# --------------------------------------------------------------------------------------------
# Assembly: nodes → scopes → entries
# --------------------------------------------------------------------------------------------


def leaves(shape: Any) -> int:
    """How many tensors (or empty slots) a value holds, flattened."""
    if shape is None or is_tensor(shape):
        return 1
    return sum(leaves(s) for s in shape)


def flat_index(shape: Any, path: list[int]) -> int:
    """The position of `shape[path[0]][path[1]]...` among the value's tensors, flattened:
    lstm's (output, (h_n, c_n)) puts h_n at 1, which cnncalc calls `lstm:1`."""
    if not path:
        return 0
    head, rest = path[0], path[1:]
    return sum(leaves(shape[k]) for k in range(head)) + flat_index(shape[head], rest)


class Failure(Exception):
    """A model the assembly cannot write; `node` names where, the message what and why."""

    def __init__(self, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node


ParamInfo = Callable[[Any], "bool | None"]  # get_attr node → trainable, or None: not a parameter


@dataclass
class Assembly:
    """The nodes of one traced model, its scopes and the entries they become."""

    nodes: list[Any]
    shapes: Mapping[Any, Any]
    trans: Mapping[Any, Any]  # node → list[Op], Alias or None
    classes: Mapping[str, str]  # module path → class name ('' the model's)
    param_info: ParamInfo
    param_paths: frozenset[str]  # modules that hold parameters (themselves or inside)
    reserved: frozenset[str]  # the inputs' names, which no layer may take
    frozen: frozenset[str]  # modules whose parameters are all frozen
    root: Scope = field(init=False)
    scope_of: dict[Any, Scope] = field(default_factory=dict)
    call_index: dict[Any, int] = field(default_factory=dict)  # leaf module call → which call
    producer: dict[Any, Entry] = field(default_factory=dict)  # node → the entry making it
    instance: dict[Scope, Entry] = field(default_factory=dict)  # block scope → its entry
    first_call: dict[tuple[str, str], Entry] = field(default_factory=dict)
    used: dict[Any, None] = field(default_factory=dict)  # nodes some layer reads
    blocks: list[tuple[str, dict[str, None], Scope]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Scope("", 0, self.classes.get("", "model"), None)

    def scopes(self) -> None:
        """Each node's scope: the module call it was made in (fx's trace records the stack)."""
        made: dict[tuple[str, int], Scope] = {}
        for n in self.nodes:
            if n.op in ("placeholder", "output"):
                continue
            chain = list(n.meta.get("cnncalc_scope", ()))
            if n.op == "call_module" and chain and chain[-1][0] == n.target:
                self.call_index[n] = chain.pop()[1]
            s = self.root
            for path, index in chain:
                child = made.get((path, index))
                if child is None:
                    child = Scope(path, index, self.classes.get(path, "module"), s)
                    child.has_params = path in self.param_paths
                    made[(path, index)] = child
                    s.children.append(child)
                s = child
            self.scope_of[n] = s

    def resolve(self, src: Src) -> Src:
        """The node and output a tensor really is, through aliases (tuple items, views)."""
        node, index = src
        if node == SELF:
            return src
        path = [] if is_tensor(self.shapes.get(node)) else [index]
        while isinstance(t := self.trans.get(node), Alias):
            source, i = t.src
            if not is_tensor(self.shapes.get(source)):
                path.insert(0, i)
            node = source
        return node, flat_index(self.shapes.get(node), path)

    def ancestors(self, node: Any) -> list[Scope]:
        s = self.scope_of.get(node)
        return list(s.ancestors()) if s is not None else [self.root]

    def wiring(self, output: Any) -> None:
        """Which tensors cross each scope's edge, and so which scopes can be blocks."""
        for n in self.nodes:
            ops = self.trans.get(n)
            if not isinstance(ops, list):
                continue
            for src in (s for op in ops for s in op.inputs if s[0] != SELF):
                self._edge(self.resolve(src), self.ancestors(n))
        for src in output:
            self._edge(self.resolve(src), [])
        for s in self.scopes_below(self.root):
            has_ops = any(isinstance(self.trans.get(n), list) for n in self.own_nodes(s))
            s.block = (
                len(s.inputs) == 1
                and len(s.outputs) == 1
                and next(iter(s.outputs))[1] == 0
                and (has_ops or bool(s.children))
            )
            s.single = s.block and not s.children and self._one_op(s)

    def _edge(self, p: Src, consumer: list[Scope]) -> None:
        self.used[p[0]] = None
        made = self.ancestors(p[0])
        for s in made:
            if s not in consumer:
                s.outputs[p] = None
        for s in consumer:
            if s not in made:
                s.inputs[p] = None

    def _one_op(self, s: Scope) -> bool:
        ops = [t for n in self.own_nodes(s) if isinstance(t := self.trans.get(n), list)]
        params = [n for n in self.own_nodes(s) if n.op == "get_attr" and n in self.used]
        return len(ops) == 1 and len(ops[0]) == 1 and not params

    def own_nodes(self, s: Scope) -> list[Any]:
        return [n for n in self.nodes if self.scope_of.get(n) is s]

    def scopes_below(self, s: Scope) -> Iterator[Scope]:
        for c in s.children:
            yield c
            yield from self.scopes_below(c)

    def homes(self, s: Scope) -> list[Scope]:
        """The scopes with their own list of entries from the model down to `s`'s home."""
        return [
            a for a in reversed(list(s.ancestors())) if a is self.root or (a.block and not a.single)
        ]

    def entries(self, parameter: Callable[[Any, int | None, bool], Op]) -> None:
        """Every list's entries, in the order of the trace: layers, parameters and block
        instances (made where their first node is)."""
        for n in self.nodes:
            t = self.trans.get(n)
            if n.op == "get_attr" and n in self.used:
                trainable = self.param_info(n)
                if trainable is None:
                    raise Failure(f"the buffer {n.target} is read in forward", str(n.target))
                op = parameter(n, self._users_rank(n), trainable)
                self._add(n, [op])
            elif isinstance(t, list):
                self._add(n, t)

    def _users_rank(self, node: Any) -> int | None:
        """The rank (batch included) of the tensors a parameter meets, where it meets any."""
        ranks = [
            len(self.shapes[u])
            if getattr(u, "target", None) == "expand"
            else max(
                (
                    len(self.shapes[m])
                    for m in u.all_input_nodes
                    if m is not node and is_tensor(self.shapes.get(m))
                ),
                default=0,
            )
            for u in node.users
        ]
        return max(ranks, default=0) or None

    def _add(self, n: Any, ops: list[Op]) -> None:
        scope = self.scope_of[n]
        chain = self.homes(scope)
        for parent, child in itertools.pairwise(chain):
            if child not in self.instance:
                self._instance(parent, child)
        home = chain[-1]
        made: list[Entry] = []
        for k, op in enumerate(ops):
            inputs = [("entry", made[s[1]]) if s[0] == SELF else self.resolve(s) for s in op.inputs]
            last = k == len(ops) - 1
            e = Entry(op.type, dict(op.args), self._name(n, home) if last else None, inputs)
            if last:
                e.node = n
                e.trainable = not (n.op == "call_module" and str(n.target) in self.frozen)
                self.producer[n] = e
                self._share(n, e, home)
            home.entries.append(e)
            made.append(e)

    def taken(self, home: Scope) -> set[str]:
        """The names a list's entries have; at the top, the inputs' names too."""
        names = {e.name for e in home.entries if e.name}
        return names | set(self.reserved) if home is self.root else names

    def _name(self, n: Any, home: Scope) -> str | None:
        taken = self.taken(home)
        s = self.scope_of[n]
        if s.single and s is not self.root:
            return unique(local_name(s.path, home), taken)
        if n.op in ("call_module", "get_attr"):
            return unique(local_name(str(n.target), home), taken)
        return None

    def _instance(self, parent: Scope, child: Scope) -> None:
        taken = self.taken(parent)
        src = next(iter(child.inputs))
        e = Entry("", {}, unique(local_name(child.path, parent), taken), [src], child=child)
        parent.entries.append(e)
        self.instance[child] = e
        self.producer.setdefault(child, e)
        key = ("scope", child.path)
        if child.index == 0:
            self.first_call[key] = e
        elif child.has_params and key in self.first_call:
            self._shares(e, self.first_call[key], parent, child.path)

    def _share(self, n: Any, e: Entry, home: Scope) -> None:
        """A module called again (a Siamese tower's layers): its weights are the first call's."""
        if n.op != "call_module":
            return
        key = ("module", str(n.target))
        covered = any(
            a.index > 0 and a.block and not a.single for a in self.scope_of[n].ancestors()
        )
        if self.call_index.get(n, 0) == 0 or key not in self.first_call:
            self.first_call.setdefault(key, e)
        elif not covered and str(n.target) in self.param_paths:
            self._shares(e, self.first_call[key], home, str(n.target))

    def _shares(self, e: Entry, owner: Entry, home: Scope, what: str) -> None:
        if owner not in home.entries:
            raise Failure(
                f"module {what} is called from two places in the model; cnncalc shares weights"
                " between layers of one list only",
                what,
            )
        e.shares = owner

    # ----------------------------------------------------------------------------------------
    # References

    def ref(self, src: Any, home: Scope, input_names: Mapping[Any, str]) -> str:
        """How an entry in `home`'s list names a tensor: `conv1`, `lstm:1`, `layer1`, `input`."""
        if src[0] == "entry":
            return str(src[1].local)
        node, flat = src
        if node in input_names and home is self.root:
            return input_names[node]
        made = self.producer.get(node)
        if made is not None:
            owner = self._owner(made)
            if owner is home:
                return made.local + (f":{flat}" if flat else "")
            chain = self.homes(owner)
            if home in chain[:-1]:
                child = chain[chain.index(home) + 1]
                if next(iter(child.outputs)) != (node, flat):
                    raise Failure(f"{child.path} gives several tensors", child.path)
                return self.instance[child].local
        if (node, flat) not in home.inputs:
            raise Failure(f"{node} is read across the edge of module {home.path}", home.path)
        return "input"

    def _owner(self, e: Entry) -> Scope:
        return self.homes(self.scope_of[e.node])[-1]

    def refs_in(self, home: Scope, input_names: Mapping[Any, str], e: Entry) -> tuple[str, ...]:
        return self.refs_of(e, home, input_names)

    def refs_of(self, e: Entry, home: Scope, input_names: Mapping[Any, str]) -> tuple[str, ...]:
        return tuple(self.ref(src, home, input_names) for src in e.inputs)

    # ----------------------------------------------------------------------------------------
    # Blocks

    def infer_blocks(self, input_names: Mapping[Any, str]) -> None:
        """Name every list's entries, then make blocks from the innermost out: alike
        instances share one block, with arguments for what differs."""
        lists = [self.root, *(s for s in self.scopes_below(self.root) if s in self.instance)]
        for s in lists:
            assign_auto_names(s.entries)
        by_height: dict[int, list[Scope]] = {}
        for s in lists[1:]:
            by_height.setdefault(self._height(s), []).append(s)
        taken = set(self.reserved)
        for height in sorted(by_height):
            groups: dict[tuple[Any, ...], list[Scope]] = {}
            for s in by_height[height]:
                if not self._collapse(s, input_names):
                    key = signature(s, functools.partial(self.refs_in, s, input_names))
                    groups.setdefault(key, []).append(s)
            for group in groups.values():
                self._define(group, taken)

    def _height(self, s: Scope) -> int:
        inner = [self._height(c) for c in s.children if c in self.instance]
        return 1 + max(inner, default=0)

    def _collapse(self, s: Scope, input_names: Mapping[Any, str]) -> bool:
        """A list of n alike entries named 0 .. n−1, each reading the one before (an
        nn.Sequential of identical layers): one entry with `repeat: n` in its parent."""
        es = s.entries
        if len(es) < 2 or any(e.name != str(i) for i, e in enumerate(es)):
            return False
        first = es[0]
        for i, e in enumerate(es):
            previous = "input" if i == 0 else es[i - 1].local
            same = (e.kind, e.args, e.trainable, e.repeat) == (
                first.kind,
                first.args,
                first.trainable,
                first.repeat,
            )
            if not same or e.shares or self.refs_of(e, s, input_names) != (previous,):
                return False
        if first.repeat is not None:
            return False
        e = self.instance[s]
        e.kind, e.args, e.repeat, e.collapsed = first.kind, dict(first.args), len(es), s
        e.child = None
        return True

    def _define(self, group: list[Scope], taken: set[str]) -> None:
        name = block_name(group, taken)
        if len(group) > 1:
            args, values = infer_args(group)
        else:
            args, values = {}, [{}]
        for s, given in zip(group, values, strict=True):
            e = self.instance[s]
            e.kind, e.args = name, given
        self.blocks.append((name, args, group[0]))

    # ----------------------------------------------------------------------------------------
    # Names in the built graph

    def qualified(self) -> tuple[dict[str, Any], dict[Scope, str]]:
        """Each layer's qualified name → its node, and each list's scope → its name."""
        layers: dict[str, Any] = {}
        scopes: dict[Scope, str] = {}

        def walk(s: Scope, prefix: str) -> None:
            for e in s.entries:
                name = prefix + e.local
                inner = e.child or e.collapsed
                if inner is not None:
                    scopes[inner] = name
                    walk(inner, name + ".")
                elif e.node is not None:
                    layers[name] = e.node

        walk(self.root, "")
        return layers, scopes

    # ----------------------------------------------------------------------------------------
    # Writing

    def shape_note(self, e: Entry) -> str:
        """A root entry's output shape, without the batch, as a comment."""
        inner = e.child or e.collapsed
        node, flat = next(iter(inner.outputs)) if inner is not None else (e.node, 0)
        shape = self.shapes.get(node)
        while shape is not None and not is_tensor(shape):
            shape = shape[0] if flat == 0 else None
        return "" if shape is None else "[" + ", ".join(str(d) for d in shape[1:]) + "]"

    def lines(
        self, s: Scope, input_names: Mapping[Any, str], indent: str, notes: bool
    ) -> list[str]:
        """The YAML lines of one list of entries."""
        out: list[str] = []
        previous = "input" if s is not self.root else next(iter(input_names.values()), "input")
        for e in s.entries:
            refs = list(self.refs_of(e, s, input_names)) if e.inputs else []
            note = self.shape_note(e) if notes else ""
            out += [indent + line for line in entry_lines(e, refs, previous, note)]
            previous = e.local
        return out

    def render(self, head: list[str], input_names: Mapping[Any, str], outputs: list[str]) -> str:
        """The spec's text: comments, inputs, outputs, blocks, layers."""
        out = [*head]
        if self.blocks:
            out.append("")
            out.append("blocks:")
            for name, args, s in self.blocks:
                out.append(f"  {name}:")
                if args:
                    out.append(f"    args: {yamltext.flow(dict.fromkeys(args))}")
                out.append("    layers:")
                out += self.lines(s, input_names, "      ", notes=False)
        out.append("")
        out.append("layers:")
        out += self.lines(self.root, input_names, "  ", notes=True)
        last = self.root.entries[-1].local if self.root.entries else ""
        if outputs and outputs != [last]:
            out.append("")
            out.append("outputs: [" + ", ".join(outputs) + "]")
        return "\n".join(out) + "\n"

    def module_calls(self) -> Iterator[tuple[str, int, Src, bool]]:
        """Each module call with one tensor out: (path, which call, that tensor, whether it
        is a torch.nn layer's own call)."""
        for n in self.nodes:
            if n.op == "call_module" and isinstance(self.trans.get(n), list):
                yield str(n.target), self.call_index.get(n, 0), (n, 0), True
        for s in self.scopes_below(self.root):
            if len(s.outputs) == 1:
                yield s.path, s.index, next(iter(s.outputs)), False
