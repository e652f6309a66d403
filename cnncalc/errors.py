"""The error hierarchy: every problem cnncalc reports to a user is a CnncalcError."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

MAX_SHOWN = 20  # errors one run prints; past them, "... and N more"
MAX_COLLECTED = 200  # distinct errors a spec is searched for: past them, it stops looking
MAX_MET = 2_000  # errors met, each use of a block counted: it bounds the work of a large spec


def one_line(text: str) -> str:
    """Text with line breaks, control, bidi and other invisible characters escaped (\\n,
    \\x1b, \\u202e), so that a message stays one line whatever names and values a spec holds,
    and can act neither on a terminal nor on a CI log (safetext.terminal)."""
    from cnncalc.safetext import terminal  # on first use: --help and --version skip it

    return terminal(text)


def quoted(value: str, limit: int = 40) -> str:
    """A value quoted for a message, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def shown(value: Any, limit: int = 40) -> str:
    """A value from a spec as a message shows it, in YAML's flow style and cut to about
    `limit` characters: 'abc', [3, 8, 8], {a: 1}, .inf. Parsed nodes show the value they
    hold; a string cut short keeps its quotes ('abcd…')."""
    parts: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size < limit:
        item = stack.pop()
        if hasattr(item, "pos") and hasattr(item, "value"):  # a source.Node
            stack.append(item.value)
            continue
        if isinstance(item, (list, tuple, dict)):
            opening, closing = ("{", "}") if isinstance(item, dict) else ("[", "]")
            tokens: list[Any] = [_Text(opening)]
            for i, entry in enumerate(item.items() if isinstance(item, dict) else item):
                tokens += [_Text(", ")] if i else []
                tokens += [_Text(f"{entry[0]}: "), entry[1]] if isinstance(item, dict) else [entry]
            tokens.append(_Text(closing))
            stack += reversed(tokens)
            continue
        if isinstance(item, _Text):
            text = str(item)
        elif isinstance(item, bool) or item is None:
            text = "null" if item is None else str(item).lower()
        elif isinstance(item, float) and not math.isfinite(item):
            text = ".nan" if math.isnan(item) else ".inf" if item > 0 else "-.inf"
        elif isinstance(item, str):
            text = quoted(item, max(limit - size - 2, 8))
        else:
            text = repr(item)
        parts.append(text)
        size += len(text)
    text = one_line("".join(parts))
    return text + "…" if stack else text


class _Text(str):
    """Punctuation that `shown` writes as it is."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """'; did you mean 'conv2d'?' for a misspelling, naming every option about as close as
    the closest ('conv' → conv1d, conv2d or conv3d); '' when nothing is close."""
    import difflib  # only when something is misspelt

    scored = []
    for option in dict.fromkeys(options):
        matcher = difflib.SequenceMatcher(None, word, option)
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
            scored.append((matcher.ratio(), option))
    best = max((score for score, _ in scored), default=0.0)
    close = [
        option
        for score, option in sorted(scored, key=lambda x: -x[0])
        if score >= 0.6 and score >= best - 0.05
    ][:5]
    if not close:
        return ""
    names = [f"'{one_line(x)}'" for x in close]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"; did you mean {listed}?"


class Pos(NamedTuple):
    """A 1-based position in a source file."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{one_line(self.path)}:{self.line}:{self.column}"  # a file name is user text


UNKNOWN_POS = Pos("<unknown>", 0, 0)


class Notice(NamedTuple):
    """A warning about a spec that is valid but probably not what was meant."""

    message: str
    pos: Pos
    layer: str | None = None

    def __str__(self) -> str:
        where = f"layer '{self.layer}': " if self.layer else ""
        return one_line(f"{self.pos}: warning: {where}{self.message}")


class CnncalcError(Exception):
    """Base class of the errors cnncalc explains to its user (exit code 2).

    The Python API raises only these. `file`, `line` and `column` say where the problem
    stands (None when it is not in a spec, as for an option), `layer` the layer concerned,
    and `message` the rule broken, without the position.
    """

    file: str | None = None
    line: int | None = None
    column: int | None = None
    layer: str | None = None

    notices: tuple[Notice, ...] = ()  # warnings gathered before the problem, to print first
    source: str | None = None  # the spec's text, to show the line at fault

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # a message names user text: one safe line
        return one_line(super().__str__())

    @property
    def errors(self) -> tuple[CnncalcError, ...]:
        """Every problem found, in file order; this one alone for most errors."""
        return (self,)


class SpecError(CnncalcError):
    """A spec that cannot be read or computed, located at a file, line and column."""

    def __init__(self, message: str, pos: Pos, layer: str | None = None) -> None:
        self.pos = pos
        self.layer = layer
        self.file, self.line, self.column = pos.path, pos.line, pos.column
        self.message = message
        super().__init__(str(self))
        self.message = message  # the base keeps the whole line; this is the rule alone

    def __str__(self) -> str:
        where = f"layer '{self.layer}': " if self.layer else ""
        return one_line(f"{self.pos}: {where}{self.message}")


class SpecErrors(SpecError):
    """Several independent problems of one spec: it reads as the first in file order (line,
    then column) and `errors` holds them all, one per source position."""

    def __init__(self, errors: Sequence[SpecError], stopped: int = 0) -> None:
        self.all = tuple(sorted(errors, key=lambda e: (e.line or 0, e.column or 0)))
        self.stopped = stopped  # errors met when the search stopped (0: it did not)
        first = self.all[0]
        super().__init__(first.message, first.pos, first.layer)

    @property
    def errors(self) -> tuple[CnncalcError, ...]:
        return self.all


class Collector:
    """The independent errors of one spec, gathered as its stages meet them; one per source
    position (a block used ten times reports a bad layer of it once)."""

    def __init__(self, errors: Sequence[SpecError] = ()) -> None:
        self.found: dict[Pos, SpecError] = {}
        self.seen = 0
        for err in errors:
            self.add(err)

    def add(self, err: SpecError) -> None:
        """Keep `err`; raise them all once MAX_COLLECTED distinct errors, or MAX_MET in all,
        have been met (it bounds the work)."""
        if isinstance(err, (BudgetError, SpecErrors)):  # a limit, or a search that stopped
            raise err
        self.found.setdefault(err.pos, err)
        self.seen += 1
        if len(self.found) >= MAX_COLLECTED or self.seen >= MAX_MET:
            raise SpecErrors(list(self.found.values()), stopped=self.seen)

    def __bool__(self) -> bool:
        return bool(self.found)

    def check(self) -> None:
        """Raise what was gathered, if anything."""
        if self.found:
            errors = list(self.found.values())
            raise errors[0] if len(errors) == 1 else SpecErrors(errors)


class BudgetError(SpecError):
    """A spec that expands past the work it may cost (--max-layers): refused before the work."""


Display = Callable[[tuple[int, ...]], tuple[int, ...]]  # a channels-first shape → as written
Wording = Callable[[Display], str]  # a message that writes shapes, given how to write them


class LayerError(CnncalcError):
    """A layer's arguments or input shapes break a rule; located later by the graph builder.

    `arg` names the argument at fault, so that the message can point at its value. A message
    that writes whole tensors' shapes is given as a Wording, and `worded` writes it in the
    spec's layout, which the graph knows; `message` writes them channels first.
    """

    def __init__(self, message: str | Wording, arg: str | None = None) -> None:
        self.wording = message if callable(message) else None
        super().__init__(message(_as_is) if callable(message) else message)
        self.arg = arg

    def worded(self, display: Display) -> str:
        """The message with shapes written as `display` writes them."""
        return self.message if self.wording is None else self.wording(display)


def _as_is(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape


class UsageError(CnncalcError):
    """A command-line option that makes no sense (an --input that is not a shape, ...)."""
