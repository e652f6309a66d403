"""Human output through a rich Console: the colour system, NO_COLOR, FORCE_COLOR, TERM=dumb.

Machine formats (json, csv, markdown, github, junit) never import this module, nor rich.

Colour follows rich (no-color.org, force-color.org), with one exception: FORCE_COLOR=0 turns
colour off, as Node's chalk and supports-color read it, where force-color.org would force it
on (a user who writes 0 means "no"). So:

- NO_COLOR set and not empty: no colours (bold and dim stay, as no-color.org allows);
- FORCE_COLOR=0: no styles at all;
- FORCE_COLOR set to anything else: styles even when piped;
- TERM=dumb (or unknown): no styles;
- otherwise styles on a terminal only.

The width a table is laid out for is a separate question (`layout_width`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.console import RenderableType


def console(*, stderr: bool = False) -> Console:
    """A Console on standard output (or error) that treats every text as plain data: no
    markup, no emoji codes, no highlighting, and no wrapping (tables are laid out to fit)."""
    off = os.environ.get("FORCE_COLOR") == "0"
    return Console(
        stderr=stderr,
        color_system=None if off else "auto",
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=True,
    )


def styled(out: Console) -> bool:
    """Whether `out` prints styles: what the renderers that still make ANSI codes are told."""
    return out.color_system is not None


def layout_width(out: Console, *, width: int | None, wide: bool) -> int | None:
    """Columns to lay a table out for, None for the full layout: --wide, or output that is not
    a terminal (piped: scripts and files get every column, whatever COLUMNS says); --width N
    wins over both; a terminal's own width otherwise (rich reads COLUMNS, then the tty)."""
    if width is not None:
        return width
    if wide or not _isatty(out):
        return None
    return out.width


def _isatty(out: Console) -> bool:
    try:
        return out.file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def emit(out: Console, content: str | RenderableType) -> None:
    """Print a renderer's output: a renderable (a laid-out table) as it is, a string (ANSI
    codes and all) decoded into a rich Text; user text in it is already escaped (safetext),
    and never read as markup."""
    from rich.text import Text

    if isinstance(content, str):
        content = Text.from_ansi(content, end="") if "\x1b" in content else Text(content, end="")
    out.print(content, end="")
