"""Summary → text in the format a user asked for. Each format lives in its own module."""

from __future__ import annotations

import enum
from typing import NamedTuple

from cnncalc.analysis import Summary


class Format(str, enum.Enum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"


class Columns(NamedTuple):
    """Optional columns: receptive fields (spatial networks), MACs, FLOPs."""

    rf: bool = True
    macs: bool = True
    flops: bool = False


DEFAULT_COLUMNS = Columns()


def render(
    summary: Summary, fmt: Format, *, color: bool = False, columns: Columns = DEFAULT_COLUMNS
) -> str:
    """The summary as text (colour as ANSI codes if asked). JSON has every figure."""
    columns = columns._replace(rf=columns.rf and summary.spatial)
    if fmt is Format.JSON:
        from cnncalc.render.json import render_json

        return render_json(summary)
    if fmt is Format.MARKDOWN:
        from cnncalc.render.markdown import render_markdown

        return render_markdown(summary, columns)
    if fmt is Format.CSV:
        from cnncalc.render.csv import render_csv

        return render_csv(summary, columns)
    from cnncalc.render.table import render_table

    return render_table(summary, columns, color=color)
