"""cnncalc: shapes, parameter counts and more for neural networks described in YAML.

    >>> import cnncalc
    >>> s = cnncalc.summarize("specs/lenet5.yaml")
    >>> s.totals.params, s.layers[0].output_shape
    (61706, (6, 28, 28))

The API (`summarize`, `rf`, `check`, `explain`, `import_model`, `Summary`, `Error`) lives in
cnncalc.api and is loaded on first use, so that the command line's `--help` imports nothing of
the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Error", "Summary", "check", "explain", "import_model", "rf", "summarize"]

if TYPE_CHECKING:
    from cnncalc.api import Summary, check, explain, import_model, rf, summarize
    from cnncalc.errors import CnncalcError as Error


def __getattr__(name: str) -> Any:
    if name == "Error":
        from cnncalc.errors import CnncalcError

        return CnncalcError
    if name in __all__:
        from cnncalc import api

        return getattr(api, name)
    raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
