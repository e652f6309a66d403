"""Summary → text in the format a user asked for. Each format lives in its own module."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from cnncalc.enums import Format as Format

if TYPE_CHECKING:  # only for annotations: `cnncalc layers` imports render.catalog, not the core
    from cnncalc.analysis import Summary
    from cnncalc.render.grid import Laid


class Columns(NamedTuple):
    """Optional columns: receptive fields (spatial networks), MACs, FLOPs, saved memory."""

    rf: bool = True
    macs: bool = True
    flops: bool = False
    memory: bool = False  # "Saved": the bytes each layer's backward keeps


DEFAULT_COLUMNS = Columns()


# Each renderer imports its module on first use: machine formats never load the table's.
def _table(summary: Summary, columns: Columns, color: bool) -> str:
    from cnncalc.render.table import render_table

    return render_table(summary, columns, color=color)


def laid_out(
    summary: Summary, *, columns: Columns = DEFAULT_COLUMNS, width: int | None = None
) -> Laid:
    """The summary table laid out for `width` columns (None: in full), for a rich Console to
    print (it is a renderable)."""
    from cnncalc.render.table import laid_out as lay_out

    return lay_out(summary, columns._replace(rf=columns.rf and summary.spatial), width=width)


def _json(summary: Summary, columns: Columns, color: bool) -> str:
    from cnncalc.render.json import render_json

    return render_json(summary)


def _markdown(summary: Summary, columns: Columns, color: bool) -> str:
    from cnncalc.render.markdown import render_markdown

    return render_markdown(summary, columns)


def _csv(summary: Summary, columns: Columns, color: bool) -> str:
    from cnncalc.render.csv import render_csv

    return render_csv(summary, columns)


def _html(summary: Summary, columns: Columns, color: bool) -> str:
    from cnncalc.render.html import render_html

    return render_html(summary, columns)  # no drawing: api.html_report draws the graph too


RENDERERS: dict[Format, Callable[[Summary, Columns, bool], str]] = {
    Format.TABLE: _table,
    Format.JSON: _json,
    Format.MARKDOWN: _markdown,
    Format.CSV: _csv,
    Format.HTML: _html,
}


def render(
    summary: Summary, fmt: Format, *, color: bool = False, columns: Columns = DEFAULT_COLUMNS
) -> str:
    """The summary as text (colour as ANSI codes if asked). JSON has every figure."""
    columns = columns._replace(rf=columns.rf and summary.spatial)
    return RENDERERS[fmt](summary, columns, color)
