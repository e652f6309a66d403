"""Summary (and its graph's drawing) → one self-contained HTML page, to attach to a report.

Nothing is fetched: the style is inline, there is no script, and a Content-Security-Policy
forbids loading anything or running any script, so the page reads the same offline and a
hostile name could run nothing even if it slipped through. Every piece of user text (the spec's
name, layer names and types, block names, inputs) goes through safetext.html.

The page: the title, the totals (each figure's exact value in `data-value`, for programs),
the layers table, block instances as collapsible <details> (a summary line with their layer
count and parameters), the notices, and the drawing — inline SVG when Graphviz is installed,
else the Mermaid text with a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from cnncalc import __version__
from cnncalc.analysis import Row, Summary
from cnncalc.errors import CnncalcError
from cnncalc.graph import Graph
from cnncalc.render import Columns
from cnncalc.render.text import NUMERIC, RF_HEADERS, cells, headers, title, totals_lines
from cnncalc.safetext import html

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
OPEN_LEVELS = 1  # block instances this many levels deep start open; deeper ones closed

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 80em; color: #212121;
  padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.3em 0; }
th, td { padding: 0.15em 0.8em; text-align: left; vertical-align: top; }
thead th { border-bottom: 1px solid #9e9e9e; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.empty td { color: #757575; }
tr.block td:first-child::after { content: " \\25B8"; color: #e65100; }
details { margin-left: 1.2em; border-left: 2px solid #ffe0b2; padding-left: 0.6em; }
summary { cursor: pointer; font-weight: 600; }
summary .kind { color: #e65100; font-weight: normal; }
summary .figures { color: #616161; font-weight: normal; }
table.totals th { font-weight: 600; white-space: nowrap; }
#drawing svg { max-width: 100%; height: auto; }
pre { background: #f5f5f5; padding: 1em; overflow-x: auto; }
.note { color: #616161; }
footer { margin-top: 3em; color: #9e9e9e; font-size: 0.9em; }
"""


class Figure(NamedTuple):
    """The drawing for the page: Graphviz's SVG, or else the Mermaid text (and why)."""

    svg: str | None = None
    mermaid: str | None = None
    note: str = ""  # shown above the drawing: why it is Mermaid text, or why there is none


# The figures a program reads back from the totals table (its label → id and exact value).
def _figures(summary: Summary) -> dict[str, tuple[str, int]]:
    t, m = summary.totals, summary.memory
    return {
        "Parameters": ("params", t.params),
        "Buffers": ("buffers", t.buffers),
        "Non-trainable (Keras)": ("non-trainable", t.non_trainable_params),
        "MACs": ("macs", t.macs),
        "FLOPs": ("flops", t.flops),
        "Training memory": ("training-memory", m.total_bytes),
        "Inference memory": ("inference-memory", m.inference_bytes),
        "Layers": ("layers", summary.layer_count),
    }


def render_html(summary: Summary, columns: Columns, figure: Figure | None = None) -> str:
    """The page; without a figure it has no drawing (the graph is needed to draw one)."""
    heading = title(summary, html)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{heading}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f'<h1 id="title">{heading}</h1>',
        '<section id="totals"><h2>Totals</h2>',
        *_totals(summary),
        "</section>",
        '<section id="layers"><h2>Layers</h2>',
        *_layers(summary, columns),
        "</section>",
        *_notices(summary),
        *_drawing(figure),
        f"<footer>Made by cnncalc {html(__version__)}.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _totals(summary: Summary) -> list[str]:
    """The footer of the terminal table as a two-column table, exact figures in data-value."""
    figures = _figures(summary)
    rows: list[list[str]] = []  # [label, id, value, text lines...]
    for label, value in totals_lines(summary):
        if label:
            key, figure = figures.get(label, ("", 0))
            rows.append([label, key, str(figure), value])
        else:  # a line that continues the figure above
            rows[-1].append(value)
    out = ['<table class="totals">']
    for label, key, exact, *lines in rows:
        attrs = f' id="total-{key}" data-value="{exact}"' if key else ""
        text = "<br>".join(html(line) for line in lines)
        out.append(f"<tr><th>{html(label)}</th><td{attrs}>{text}</td></tr>")
    out.append("</table>")
    return out


def _group_figures(rows: Sequence[Row]) -> dict[str, tuple[int, int]]:
    """Each block instance's layers and parameters, from the rows inside it."""
    found: dict[str, tuple[int, int]] = {}
    for row in rows:
        for name, _ in row.groups:
            layers, params = found.get(name, (0, 0))
            found[name] = (layers + row.layers, params + row.params)
    return found


def _layers(summary: Summary, columns: Columns) -> list[str]:
    """The table, cut where a block instance begins or ends: each instance a <details> with
    its rows in a table of their own, nested as the blocks are."""
    head = headers(summary, columns)
    numeric = [h in NUMERIC or h in RF_HEADERS for h in head]
    figures = _group_figures(summary.rows)
    out: list[str] = []
    open_: tuple[tuple[str, str], ...] = ()
    in_table = False
    for row, cell in zip(summary.rows, cells(summary, columns, escape=html), strict=True):
        shared = 0
        while shared < min(len(open_), len(row.groups)) and open_[shared] == row.groups[shared]:
            shared += 1
        if in_table and (shared < len(open_) or shared < len(row.groups)):
            out.append("</tbody></table>")
            in_table = False
        out += ["</details>"] * (len(open_) - shared)
        for level in range(shared, len(row.groups)):
            out.append(_details(row.groups, level, figures))
        open_ = row.groups
        if not in_table:
            out.append(_table_head(head, numeric))
            in_table = True
        cell[0] = html(_local(row.name, row.groups))
        out.append(_row(row, cell, numeric))
    if in_table:
        out.append("</tbody></table>")
    out += ["</details>"] * len(open_)
    return out


def _details(
    groups: Sequence[tuple[str, str]], level: int, figures: dict[str, tuple[int, int]]
) -> str:
    name, kind = groups[level]
    layers, params = figures[name]
    local = _local(name, groups[:level])
    is_open = " open" if level < OPEN_LEVELS else ""
    return (
        f'<details class="block"{is_open}><summary>{html(local)} <span class="kind">'
        f'{html(kind)}</span> <span class="figures">{layers:,} layer{"s" if layers != 1 else ""},'
        f" {params:,} params</span></summary>"
    )


def _table_head(head: Sequence[str], numeric: Sequence[bool]) -> str:
    ths = "".join(
        f"<th{' class=num' if n else ''}>{html(h)}</th>" for h, n in zip(head, numeric, strict=True)
    )
    return f'<table class="layers"><thead><tr>{ths}</tr></thead><tbody>'


def _row(row: Row, cell: Sequence[str], numeric: Sequence[bool]) -> str:
    kind = "block" if row.group else "layer"
    empty = " empty" if row.params == 0 and not row.group else ""
    tds = "".join(
        f"<td{' class=num' if n else ''}>{c}</td>" for c, n in zip(cell, numeric, strict=True)
    )
    return f'<tr class="{kind}{empty}" data-params="{row.params}">{tds}</tr>'


def _local(name: str, groups: Sequence[tuple[str, str]]) -> str:
    """A name inside its innermost block instance: `conv1` for `layer1.0.conv1`."""
    prefix = groups[-1][0] + "." if groups else ""
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


def _notices(summary: Summary) -> list[str]:
    if not summary.notices:
        return []
    items = "".join(f"<li>{html(str(n))}</li>" for n in summary.notices)
    return [f'<section id="notices"><h2>Notices</h2><ul>{items}</ul></section>']


# What of Graphviz's SVG document is not wanted inside a page: the XML declaration, the
# doctype and comments (the drawing is the <svg> element).
_SVG_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.S)


def _drawing(figure: Figure | None) -> list[str]:
    if figure is None:
        return []
    out = ['<section id="drawing"><h2>Drawing</h2>']
    if figure.note:
        out.append(f'<p class="note">{html(figure.note)}</p>')
    if figure.svg is not None:
        out.append(_SVG_PROLOGUE.sub("", figure.svg).strip())
    elif figure.mermaid is not None:
        out.append(f'<pre class="mermaid-source">{html_block(figure.mermaid)}</pre>')
    out.append("</section>")
    return out


def html_block(text: str) -> str:
    """Lines of text for a <pre>: each line escaped, the line breaks kept."""
    return "\n".join(html(line) for line in text.split("\n"))


MAX_DRAWN = 1_000  # nodes a page draws: past that a picture is no longer read


def figure_of(graph: Graph, *, depth: int | None = None) -> Figure:
    """The drawing of a graph for the page: SVG by Graphviz if it is installed (and manages),
    else the Mermaid text; none past MAX_DRAWN nodes."""
    from cnncalc.exporters import draw

    d = draw.drawing(graph, depth=depth)
    if len(d.nodes) > MAX_DRAWN:
        return Figure(
            note=f"The drawing would have {len(d.nodes):,} nodes, too many to read; with"
            " --depth N each block instance N levels down is one node."
        )
    text = draw.mermaid(d)
    if draw.graphviz() is None:
        return Figure(
            mermaid=text,
            note=f"Graphviz is not installed ({draw.INSTALL_GRAPHVIZ}), so this is the"
            " drawing in Mermaid: GitHub shows it in a ```mermaid block.",
        )
    try:
        return Figure(svg=draw.image(draw.dot(d), "svg", edges=len(d.edges)).decode("utf-8"))
    except CnncalcError as err:
        return Figure(mermaid=text, note=f"{err}. This is the drawing in Mermaid instead.")
