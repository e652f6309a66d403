"""Summary → CSV, one row per layer, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io
import re

from cnncalc.analysis import Summary
from cnncalc.render import Columns
from cnncalc.render.text import cells, headers


def render_csv(summary: Summary, columns: Columns) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # snake_case column names: "Output shape" → output_shape, "RF stride" → rf_stride
    head = [re.sub(r"\W+", "_", h.lower()) for h in headers(summary, columns)]
    rows = cells(summary, columns, sep="x", exact=True)
    if any(r.shares for r in summary.rows):  # params stay numbers; whose weights, beside
        head.append("shares")
        for row, r in zip(rows, summary.rows, strict=True):
            row.append(r.shares or "")
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue()
