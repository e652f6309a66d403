"""Summary → a Markdown table, ready to paste into an issue or pull request."""

from __future__ import annotations

from cnncalc.analysis import Summary
from cnncalc.render import Columns
from cnncalc.render.text import NUMERIC, cells, headers, title, totals_lines
from cnncalc.safetext import markdown, markdown_code


def render_markdown(summary: Summary, columns: Columns) -> str:
    head = headers(summary, columns)
    lines = [
        f"**{title(summary, markdown)}**",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---:" if h in NUMERIC else "---" for h in head) + "|",
    ]
    for row, r in zip(cells(summary, columns, escape=markdown), summary.rows, strict=True):
        row[0] = markdown_code(r.name)
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for label, value in totals_lines(summary):
        if label:
            lines.append(f"- **{label}:** {value}")
        else:  # a value the table footer continues on a second line
            lines[-1] += f" {value}"
    return "\n".join(lines) + "\n"
