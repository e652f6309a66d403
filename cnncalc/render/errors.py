"""An error as a compiler shows it on stderr: the warnings found first, then each problem's
located line, the source line it points at and a caret under the column.

    net.yaml:7:45: layer 'conv4': kernel_size 5 is larger than the input 3 (no padding)
        7 |   - conv2d: {out_channels: 8, kernel_size: 5}
          |                                            ^

The first line of each problem is the one-line `FILE:LINE:COL: message` that scripts read;
every line added under it starts with white space. The source line is escaped (safetext
.terminal) and cut around the column when long.
"""

from __future__ import annotations

import re
import unicodedata

from cnncalc.errors import MAX_SHOWN, SpecError
from cnncalc.safetext import terminal

SOURCE_WIDTH = 70  # characters of a source line shown: a longer one is cut around the column
_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")  # the line breaks PyYAML counts


def report(err: SpecError) -> str:
    """Every problem of `err` with its source line, after the warnings found before it; at
    most MAX_SHOWN problems, then how many more there are."""
    lines = [str(notice) for notice in err.notices]
    source = _BREAK.split(err.source) if err.source is not None else None
    problems = err.errors
    for problem in problems[:MAX_SHOWN]:
        lines.append(str(problem))
        if source is not None and isinstance(problem, SpecError) and problem.file == err.file:
            lines += context(source, problem.pos.line, problem.pos.column)
    more = len(problems) - MAX_SHOWN
    stopped = getattr(err, "stopped", 0)
    if more > 0 or stopped:
        plural = "s" if more != 1 else ""
        count = f"... and {more:,} more error{plural}" if more > 0 else "..."
        if stopped:
            count += (
                f" (cnncalc stopped looking after meeting {stopped:,} errors,"
                " each use of a block counted)"
            )
        lines.append(count)
    return "\n".join(lines)


def context(source: list[str], line: int, column: int) -> list[str]:
    """The source line `line` (1-based) and a caret under `column`, indented; nothing when
    the position is not on a written line of the text (a blank line, the end of the file)."""
    if not 0 < line <= len(source) or column < 1 or not source[line - 1].strip():
        return []
    text = source[line - 1]
    at = min(column - 1, len(text))
    start = 0
    if len(text) > SOURCE_WIDTH:
        start = max(0, min(at - SOURCE_WIDTH // 2, len(text) - SOURCE_WIDTH))
    end = start + SOURCE_WIDTH
    lead = "…" if start > 0 else ""
    shown = lead + terminal(text[start:end]) + ("…" if end < len(text) else "")
    before = lead + terminal(text[start:at]) if at > start else lead
    number = str(line)
    gutter = " " * len(number)
    return [
        f"    {number} | {shown}".rstrip(),
        f"    {gutter} | {' ' * _width(before)}^",
    ]


def _width(text: str) -> int:
    """Columns a terminal gives `text`: wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )
