"""Summary → CSV, one row per layer, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io

from cnncalc.analysis import Summary
from cnncalc.render.text import shape

COLUMNS = ("name", "type", "inputs", "output_shape", "params", "trainable_params", "buffers")


def render_csv(summary: Summary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in summary.rows:
        writer.writerow([r.name, r.type, ";".join(r.inputs), shape(r.output_shape, "x"),
                         r.params, r.trainable_params, r.buffers])
    return out.getvalue()
