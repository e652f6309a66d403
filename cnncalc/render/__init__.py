"""Summary → text in the format a user asked for. Each format lives in its own module."""

from __future__ import annotations

import enum

from cnncalc.analysis import Summary


class Format(str, enum.Enum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    CSV = "csv"


def render(summary: Summary, fmt: Format, *, width: int | None = None,
           color: bool = True, rf: bool = True) -> str:
    """The summary as text; rich is imported only for the table.

    `rf` shows receptive-field columns (where the network is spatial); JSON always has them.
    """
    rf = rf and summary.spatial
    if fmt is Format.JSON:
        from cnncalc.render.json import render_json

        return render_json(summary)
    if fmt is Format.MARKDOWN:
        from cnncalc.render.markdown import render_markdown

        return render_markdown(summary, rf=rf)
    if fmt is Format.CSV:
        from cnncalc.render.csv import render_csv

        return render_csv(summary, rf=rf)
    from cnncalc.render.table import render_table

    return render_table(summary, width=width, color=color, rf=rf)
