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
    writer.writerow([re.sub(r"\W+", "_", h.lower()) for h in headers(summary, columns)])
    writer.writerows(cells(summary, columns, sep="x", exact=True))
    return out.getvalue()
