"""Summary → a Markdown table, ready to paste into an issue or pull request."""

from __future__ import annotations

from cnncalc.analysis import Summary
from cnncalc.render.text import params_cell, shape, title, totals_lines


def render_markdown(summary: Summary) -> str:
    graph = not summary.is_chain
    head = ["Layer", "Type", *(["Inputs"] if graph else []), "Output shape", "Params"]
    lines = [f"**{title(summary)}**", "", "| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] * (len(head) - 1) + ["---:"]) + "|"]
    for r in summary.rows:
        cells = [f"`{r.name}`", r.type, *([", ".join(r.inputs)] if graph else []),
                 shape(r.output_shape), params_cell(r)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{label}:** {value}" for label, value in totals_lines(summary)]
    return "\n".join(lines) + "\n"
