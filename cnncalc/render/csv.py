"""Summary → CSV, one row per layer, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io

from cnncalc.analysis import Summary
from cnncalc.render.text import rf_cells, shape

COLUMNS = ("name", "type", "inputs", "output_shape", "params", "trainable_params", "buffers")
RF_COLUMNS = ("rf_size", "rf_stride", "rf_padding")


def render_csv(summary: Summary, *, rf: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS + (RF_COLUMNS if rf else ()))
    for r in summary.rows:
        writer.writerow([r.name, r.type, ";".join(r.inputs), shape(r.output_shape, "x"),
                         r.params, r.trainable_params, r.buffers,
                         *(rf_cells(r.receptive_field, "x") if rf else ())])
    return out.getvalue()
