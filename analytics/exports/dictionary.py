"""The data dictionary, generated from the variable descriptions (CSV, HTML)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

import pandas as pd
from django.template.loader import render_to_string

from analytics.exports import variables as var

COLUMNS = ("layout", "variable", "label", "type", "units", "allowed_values", "instrument")


def dictionary_frame(rows: Iterable[tuple[str, var.Variable]] | None = None) -> pd.DataFrame:
    """Return one row per (layout, variable): default every exported variable."""
    rows = var.every_variable() if rows is None else rows
    return pd.DataFrame(
        [
            (layout, v.name, v.label, v.kind, v.units, v.allowed(), v.instrument)
            for layout, v in rows
        ],
        columns=list(COLUMNS),
    )


def write_dictionary_csv(out: IO[str]) -> int:
    """Write the whole dictionary as CSV; return the number of variables."""
    frame = dictionary_frame()
    frame.to_csv(out, index=False, lineterminator="\n")
    return len(frame)


def dictionary_html() -> str:
    """Render the whole dictionary as a standalone HTML page, one table per layout."""
    frame = dictionary_frame()
    layouts = [
        {
            "code": layout,
            "title": var.LAYOUT_LABELS[layout],
            "rows": group.to_dict("records"),
        }
        for layout, group in frame.groupby("layout", sort=False)
    ]
    return render_to_string("analytics/data_dictionary.html", {"layouts": layouts})
