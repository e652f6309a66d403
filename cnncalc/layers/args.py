"""Layer arguments: how each is declared (Arg), parsed from the spec and defaulted."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from cnncalc.errors import LayerError, shown

Parser = Callable[[Any, int], Any]  # (raw value, spatial dims of the layer) -> normalized value


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED: Any = _Required()


class Arg(NamedTuple):
    """One keyword argument of a layer type."""

    name: str
    parse: Parser
    default: Any = REQUIRED
    help: str = ""
    kind: str = ""  # how the value is written, for `cnncalc layers`
    inferred: bool = False  # a size the input implies (in_channels): writing it only checks


def inferred_size(name: str) -> Arg:
    """in_channels, in_features, num_features: read from the input, checked when written."""
    return Arg(
        name, optional(integer(lo=1)), None, "inferred; checked when given", "int", inferred=True
    )


def _is_int(v: Any) -> bool:
    """An int and not a bool (Python counts true as an int; a spec does not)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _describe(v: Any) -> str:
    """A wrong value as a message names it: 'the boolean true', 'a list', 'empty'."""
    if isinstance(v, bool):
        return f"the boolean {str(v).lower()}"
    if isinstance(v, (list, dict)):
        return f"a {'list' if isinstance(v, list) else 'mapping'}"
    if v is None:
        return "empty"
    return shown(v)


def _in_range(v: float, lo: float | None, hi: float | None) -> None:
    """Fail unless lo ≤ v ≤ hi (either bound may be absent)."""
    if lo is not None and v < lo:
        raise LayerError(f"must be at least {lo}, got {v}")
    if hi is not None and v > hi:
        raise LayerError(f"must be at most {hi}, got {v}")


def integer(lo: int | None = None, hi: int | None = None) -> Parser:
    """One integer, within bounds if given."""

    def parse(v: Any, dims: int) -> int:
        if not _is_int(v):
            raise LayerError(f"must be an integer, got {_describe(v)}")
        _in_range(v, lo, hi)
        return int(v)

    return parse


def per_dim(lo: int = 1) -> Parser:
    """An int for every spatial dimension, or a list with one value per dimension."""

    def parse(v: Any, dims: int) -> tuple[int, ...]:
        values = v if isinstance(v, list) else [v] * max(dims, 1)
        if isinstance(v, list) and len(v) != dims:
            raise LayerError(f"needs one value per spatial dimension ({dims}), got {len(v)}")
        for x in values:
            if not _is_int(x):
                raise LayerError(f"must be an integer or a list of {dims}, got {_describe(x)}")
            if x < lo:
                raise LayerError(f"must be at least {lo}, got {x}")
        return tuple(int(x) for x in values)

    return parse


def padding() -> Parser:
    """Explicit per-dimension padding, or 'valid' (none) or 'same' (TensorFlow's rule)."""
    ints = per_dim(lo=0)

    def parse(v: Any, dims: int) -> tuple[int, ...] | str:
        if isinstance(v, str):
            if v.lower() == "valid":
                return (0,) * dims
            if v.lower() == "same":
                return "same"
            raise LayerError(f"must be an integer, a list, 'same' or 'valid', got {shown(v)}")
        return ints(v, dims)  # type: ignore[no-any-return]

    return parse


def boolean() -> Parser:
    """true or false, nothing that merely converts to them."""

    def parse(v: Any, dims: int) -> bool:
        if not isinstance(v, bool):
            raise LayerError(f"must be true or false, got {_describe(v)}")
        return v

    return parse


def number(lo: float | None = None, hi: float | None = None) -> Parser:
    """A finite int or float, within bounds if given, as a float."""

    def parse(v: Any, dims: int) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise LayerError(f"must be a number, got {_describe(v)}")
        _in_range(v, lo, hi)
        return float(v)

    return parse


def choice(*options: str) -> Parser:
    """One of the given words, spelt exactly."""

    def parse(v: Any, dims: int) -> str:
        if not isinstance(v, str) or v not in options:
            raise LayerError(f"must be one of {', '.join(options)}; got {_describe(v)}")
        return v

    return parse


def optional(inner: Parser) -> Parser:
    """null, or what `inner` accepts."""

    def parse(v: Any, dims: int) -> Any:
        return None if v is None else inner(v, dims)

    return parse


def int_list(lo: int = 1, wildcard: bool = False) -> Parser:
    """A non-empty list of sizes (or one int); with `wildcard`, one -1 may stand for the rest."""

    def parse(v: Any, dims: int) -> tuple[int, ...]:
        values = v if isinstance(v, list) else [v]
        if not values:
            raise LayerError("must not be an empty list")
        for x in values:
            if not _is_int(x):
                raise LayerError(f"must be a list of integers, got {_describe(x)}")
            if x < lo and not (wildcard and x == -1):
                raise LayerError(f"sizes must be at least {lo}, got {x}")
        if wildcard and values.count(-1) > 1:
            raise LayerError("at most one size may be -1")
        return tuple(int(x) for x in values)

    return parse


def anything() -> Parser:
    """Accepted and ignored: it changes values, not shapes or counts (init, inplace, ...)."""
    return lambda v, dims: v


# Arguments that many layer types share.
INPLACE = Arg("inplace", boolean(), False, "overwrite the input: memory only, no count", "bool")
BIAS = Arg("bias", boolean(), True, "learn an additive bias", "bool")
EPS = Arg("eps", number(lo=0), 1e-5, "ignored: changes values only", "float")
MOMENTUM = Arg("momentum", optional(number(0, 1)), 0.1, "ignored: changes values only", "float")
