"""Read the calls central monitoring compares, in one set-based query, and shape them for pages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from followup.models import FollowUpCall
from quality import monitoring

_FIELDS = {
    "patient__site__code": "site",
    "patient_id": "patient",
    "timepoint": "timepoint",
    "status": "status",
    "window_start": "window_start",
    "window_end": "window_end",
    "call_date": "call_date",
    "nprs__mean": "nprs_mean",
    "hads__anxiety": "hads_a",
    "hads__depression": "hads_d",
}


def load_calls() -> pd.DataFrame:
    """Return every call with its site, window, date and scores (one query)."""
    rows = list(FollowUpCall.objects.order_by().values_list(*_FIELDS))
    frame = pd.DataFrame.from_records(rows, columns=list(_FIELDS.values()))
    for column in ("window_start", "window_end", "call_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("nprs_mean", "hads_a", "hads_d"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def message(flag: monitoring.Flag) -> str:
    """Return a flag's sentence in the user's language."""
    params = dict(flag.params)
    for key in ("outcome", "measure"):
        if key in params:
            params[key] = _(params[key])
    return _(monitoring.SENTENCES[flag.kind]).format(**params)


def _number(value: float, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), digits)


def page_data(*, as_of: dt.date) -> dict[str, Any]:
    """Run the monitoring on the live data; return the table rows and the charts' data."""
    result = monitoring.monitor(load_calls(), as_of=as_of)
    rows = []
    for row in result.rows:
        digit = row.p.get("digit")
        rows.append(
            {
                "site": row.site,
                "patients": row.patients,
                "calls_due": row.calls_due,
                "reached_pct": _number(100 * row.reached_share, 1),
                "on_time_pct": _number(100 * row.on_time_share, 1),
                "digit_p": digit,
                "sd_ratio": _number(row.sd_ratio.get("nprs_mean", math.nan), 2),
                "shift_z": _number(row.z.get("baseline", math.nan), 1),
                "tested": row.tested,
                "flags": [message(flag) for flag in row.flags],
            }
        )
    flagged = [flag.site for flag in result.flags if flag.test == "digit"]
    charts = {
        "sites": [row.site for row in result.rows],
        "reached": [_number(100 * row.reached_share, 1) for row in result.rows],
        "on_time": [_number(100 * row.on_time_share, 1) for row in result.rows],
        "counts": {row.site: row.nprs_counts for row in result.rows},
        "pooled": result.nprs_counts,
        "selected": flagged[0] if flagged else (result.rows[0].site if result.rows else ""),
        "means": {
            measure: {
                "overall": _number(result.means[measure][1], 2),
                "sites": [
                    {
                        "site": row.site,
                        "n": row.means[measure][0],
                        "mean": _number(row.means[measure][1], 2),
                        "low": _number(row.means[measure][2], 2),
                        "high": _number(row.means[measure][3], 2),
                    }
                    for row in result.rows
                    if measure in row.means
                ],
            }
            for measure in monitoring.SHIFT_MEASURES
        },
        "labels": {
            "reached": _("Due calls reached (%)"),
            "on_time": _("Reached calls on time (%)"),
            "site": _("Site"),
            "others": _("Other sites"),
            "share": _("Share of answers (%)"),
            "value": _("Mean pain (NPRS)"),
            "distribution": _("Mean-pain answers, site against the others"),
            "means": _("Site means with 95% CI"),
            "overall": _("All sites"),
        },
    }
    return {
        "rows": rows,
        "flags": [(flag.site, message(flag)) for flag in result.flags],
        "charts": charts,
        "q": result.q,
        "min_patients": monitoring.MIN_PATIENTS,
    }
