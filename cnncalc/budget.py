"""What one expansion may cost: the layer budget (--max-layers), counted in closed form
before anything is built and spent as the expansion goes."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from cnncalc.errors import BudgetError, Pos, SpecError
from cnncalc.expr import has_placeholder
from cnncalc.source import Node
from cnncalc.spec import Entry, Spec
from cnncalc.values import Values

MAX_BLOCK_DEPTH = 64


class Budget:
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
        """Charge units the count foresees; past the limit, a BudgetError."""
        self.counted += units
        if self.counted > self.limit:
            raise self.error(pos, layer)

    def spend(self, pos: Pos, layer: str | None, units: int = 1) -> None:
        """Charge units the expansion spends; past the limit, a BudgetError."""
        self.spent += units
        if self.spent > self.limit:
            raise self.error(pos, layer)

    def error(self, pos: Pos, layer: str | None = None) -> BudgetError:
        """The one error for a spec past its budget."""
        return BudgetError(
            f"the spec expands to more than {self.limit:,} layers and block instances"
            " (inputs past a layer's first count too; raise the limit with --max-layers N)",
            pos,
            layer,
        )

    def repeat(
        self, values: Values, node: Node, env: Mapping[str, Any], what: str, layer: str
    ) -> int:
        """A count such as `repeat`, which no more than the whole budget can be."""
        value = values.whole_number(node, env, what, layer)
        if value > self.limit:
            raise self.error(node.pos, layer)
        return value


def count(spec: Spec, budget: Budget, values: Values) -> None:
    """Charge the budget with what the spec expands to, before it is built: a spec past
    --max-layers fails at once, not after building a million layers."""
    _Counter(spec, budget, values).entries(spec.entries, {}, (), {})


class _Counter:
    """The closed-form count of one spec, with what it learns of its blocks."""

    def __init__(self, spec: Spec, budget: Budget, values: Values) -> None:
        self.spec = spec
        self.budget = budget
        self.values = values
        self.fixed: dict[str, bool] = {}  # block → its layer count ignores its arguments

    def entries(
        self,
        entries: Sequence[Entry],
        env: Mapping[str, Any],
        stack: tuple[str, ...],
        memo: dict[Hashable, int],
        copies: int = 1,
    ) -> int:
        """How many units of the budget (layers, block instances, `repeat: 0` entries) entries
        expand to, without building them. Other problems are left for the expansion, which
        reports them with the layer's full name.

        `copies` is how many times the caller's repeats make these entries appear; every
        unit counted is charged that many times, so the count fails as soon as it gets past
        the limit, however the blocks nest. A block instance is counted once per distinct
        arguments, in closed form after that: nesting cannot make the count itself explode.
        """
        total = 0
        for e in entries:
            try:
                repeat = (
                    1
                    if e.repeat is None
                    else self.budget.repeat(self.values, e.repeat, env, "repeat", e.kind)
                )
                per, inner_charged = 1, False
                block = self.spec.blocks.get(e.kind)
                if (
                    block is not None
                    and repeat
                    and block.name not in stack
                    and len(stack) < MAX_BLOCK_DEPTH
                ):
                    # A block whose count its arguments cannot change is counted once.
                    fixed = self.is_fixed(block.name, set())
                    args = None if fixed else self.values.block_args(block, e, e.kind, env)
                    key = (block.name, None if args is None else self.args_key(args))
                    if key not in memo:
                        if args is None:
                            args = self.values.block_args(block, e, e.kind, env)
                        inner = (*stack, block.name)
                        memo[key] = 1 + self.entries(
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

    def args_key(self, args: Mapping[str, Any]) -> Hashable:
        """A small key for a block's arguments: a number per value, never the value itself."""
        return tuple((k, self.values.key(v)) for k, v in sorted(args.items()))

    def is_fixed(self, name: str, seen: set[str]) -> bool:
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
                fixed = self.is_fixed(e.kind, seen)
            if not fixed:
                break
        self.fixed[name] = fixed
        return fixed
