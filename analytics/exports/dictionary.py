"""The data dictionary, generated from the variable descriptions (CSV, HTML)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

import pandas as pd
from django.template.loader import render_to_string
from django.utils import translation

from analytics.exports import variables as var

COLUMNS = (
    "layout",
    "variable",
    "label",
    "type",
    "units",
    "allowed_values",
    "instrument",
    "label_fr",
)


def label_fr(label: str) -> str:
    """Return the French label of a variable from the catalogue, or '' where it has none."""
    with translation.override("fr"):
        french = translation.gettext(label)
    return french if french != label else ""


def dictionary_frame(rows: Iterable[tuple[str, var.Variable]] | None = None) -> pd.DataFrame:
    """Return one row per (layout, variable): default every exported variable.

    The labels are English, as the data; ``label_fr`` gives the French one where the catalogue
    has it.
    """
    rows = var.every_variable() if rows is None else rows
    return pd.DataFrame(
        [
            (layout, v.name, v.label, v.kind, v.units, v.allowed(), v.instrument, label_fr(v.label))
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
