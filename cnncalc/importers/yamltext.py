"""Values written as YAML text that cnncalc reads back as the same values: what every
importer writes its specs with."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

# Words YAML 1.1 reads as booleans or null: written quoted, so that they stay text.
YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})
# Text that reads back as itself unquoted: a name, a qualified name, an output `lstm:1`.
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*(:[0-9]+)?\Z")


def value(v: Any) -> str:
    """One value in YAML flow style: numbers exact (1e-06 written 1.0e-06, which YAML 1.1
    reads as a float, not a string), text plain where it reads back as itself, else quoted,
    lists and mappings inline."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        text = repr(v)
        mantissa, _, exponent = text.partition("e")
        return text if "." in mantissa or not exponent else f"{mantissa}.0e{exponent}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return flow(v)
    text = str(v)
    if PLAIN.match(text) and text.lower() not in YAML_WORDS:
        return text
    return json.dumps(text)


def flow(mapping: Mapping[str, Any]) -> str:
    """A mapping in YAML flow style: `{out_channels: 64, kernel_size: 3}`."""
    return "{" + ", ".join(f"{k}: {value(v)}" for k, v in mapping.items()) + "}"
