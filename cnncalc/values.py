"""The values an expansion works with: `${expr}` evaluated, constants made plain once, and
block arguments interned and measured so that memo keys stay small and sizes stay bounded."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from cnncalc.errors import SpecError, did_you_mean, shown
from cnncalc.expr import ExprError, has_placeholder, substitute
from cnncalc.source import Node
from cnncalc.spec import Block, Entry

MAX_VALUE_ITEMS = 1_000_000  # a block argument's values, written out (YAML's own limit)
MAX_VARYING_ITEMS = 100  # a value written with ${...} in it, worked out for each instance

_VARIES = object()  # a node's value depends on the block's arguments


class Values:
    """Plain YAML values, hash-consed: each distinct value gets a small number, found by
    identity for a list or mapping already seen, so that memo keys stay small however large
    a value grows, and a value's size (its items written out) is known without walking it.
    Located values without a placeholder are made plain once and shared."""

    def __init__(self) -> None:
        self.numbers: dict[Hashable, int] = {}
        self.sizes: list[int] = []
        self.seen: dict[int, tuple[Any, int]] = {}  # id → (the list or dict, kept alive; number)
        self.constants: dict[int, tuple[Node, Any, int]] = {}  # see constant

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

    def evaluate(self, node: Node, env: Mapping[str, Any], layer: str | None) -> Any:
        """A located value with its `${expr}` placeholders evaluated; a value without any is
        made plain once and shared by every instance."""
        constant = self.constant(node)
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

    def constant(self, node: Node) -> Any:
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

    def whole_number(self, node: Node, env: Mapping[str, Any], what: str, layer: str) -> int:
        """A count such as `repeat`, evaluated: a whole number, at least 0."""
        value = self.evaluate(node, env, layer)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SpecError(
                f"{what} must be a whole number ≥ 0, got {shown(value)}", node.pos, layer
            )
        return value

    def block_args(
        self, block: Block, e: Entry, qname: str, env: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A block instance's arguments: those given, evaluated, and the defaults."""
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
                value = given[key] = self.evaluate(node, env, qname)
                if self.size(value) > MAX_VALUE_ITEMS:
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
                values[key] = self.constant(default)
        return values


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
