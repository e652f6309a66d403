"""Summary → a Markdown table, ready to paste into an issue or pull request."""

from __future__ import annotations

from cnncalc.analysis import Summary
from cnncalc.render.text import RF_HEADERS, params_cell, rf_cells, shape, title, totals_lines


def render_markdown(summary: Summary, *, rf: bool = True) -> str:
    graph = not summary.is_chain
    head = ["Layer", "Type", *(["Inputs"] if graph else []), "Output shape", "Params",
            *(RF_HEADERS if rf else ())]
    align = ["---"] * (len(head) - (4 if rf else 1)) + ["---:"] * (4 if rf else 1)
    lines = [f"**{title(summary)}**", "", "| " + " | ".join(head) + " |",
             "|" + "|".join(align) + "|"]
    for r in summary.rows:
        cells = [f"`{r.name}`", r.type, *([", ".join(r.inputs)] if graph else []),
                 shape(r.output_shape), params_cell(r),
                 *(rf_cells(r.receptive_field) if rf else ())]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{label}:** {value}" for label, value in totals_lines(summary)]
    return "\n".join(lines) + "\n"
