"""Read the calls central monitoring compares, store its result, and word it for the page.

The worker computes the monitoring with each analysis run (``quality.services.
monitoring_compute``) and stores it without words (``snapshot``); the page reads the newest
snapshot and words it in the reader's language (``page_context``), so that opening the page
costs one small query whatever the size of the study.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from analytics.stats.pvalues import p_phrase
from analytics.templatetags.analysis_tags import p_style
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


def _number(value: float, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), digits)


def _flag(flag: monitoring.Flag) -> dict[str, Any]:
    return {
        "site": flag.site,
        "test": flag.test,
        "kind": flag.kind,
        "p_value": _number(flag.p_value, 8),
        "p_adjusted": _number(flag.p_adjusted, 8),
        "params": dict(flag.params),
    }


def snapshot(result: monitoring.Monitoring) -> dict[str, Any]:
    """Return the monitoring's figures as JSON, in no language (the page words them)."""
    rows = []
    for row in result.rows:
        rows.append(
            {
                "site": row.site,
                "patients": row.patients,
                "calls_due": row.calls_due,
                "reached_pct": _number(100 * row.reached_share, 1),
                "on_time_pct": _number(100 * row.on_time_share, 1),
                "digit_p": row.p.get("digit"),
                "sd_ratio": _number(row.sd_ratio.get("nprs_mean", math.nan), 2),
                "shift_z": _number(row.z.get("baseline", math.nan), 1),
                "tested": row.tested,
                "flags": [_flag(flag) for flag in row.flags],
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
    }
    return {
        "rows": rows,
        "flags": [_flag(flag) for flag in result.flags],
        "charts": charts,
        "q": result.q,
        "min_patients": monitoring.MIN_PATIENTS,
    }


def compute(*, as_of: dt.date) -> dict[str, Any]:
    """Run the monitoring on the live data and return its snapshot."""
    return snapshot(monitoring.monitor(load_calls(), as_of=as_of))


def message(flag: dict[str, Any]) -> str:
    """Return a stored flag's sentence in the user's language."""
    params = dict(flag["params"])
    for key in ("outcome", "measure"):
        if key in params:
            params[key] = _(params[key])
    # "P < .001" / "P = .02" without the P, written by the one P formatter.
    params["p"] = p_phrase(flag["p_adjusted"], **p_style())[2:]
    return _(monitoring.SENTENCES[flag["kind"]]).format(**params)


def page_context(data: dict[str, Any]) -> dict[str, Any]:
    """Word a stored snapshot for the page: sentences, plot labels."""
    rows = [{**row, "flags": [message(flag) for flag in row["flags"]]} for row in data["rows"]]
    charts = dict(data["charts"])
    charts["labels"] = {
        "reached": _("Due calls reached (%)"),
        "on_time": _("Reached calls on time (%)"),
        "site": _("Site"),
        "others": _("Other sites"),
        "share": _("Share of answers (%)"),
        "value": _("Mean pain (NPRS)"),
        "distribution": _("Mean-pain answers, site against the others"),
        "means": _("Site means with 95% CI"),
        "overall": _("All sites"),
    }
    return {
        "rows": rows,
        "flags": [(flag["site"], message(flag)) for flag in data["flags"]],
        "charts": charts,
        "q": data["q"],
        "min_patients": data["min_patients"],
    }


def page_data(*, as_of: dt.date) -> dict[str, Any]:
    """Run the monitoring now and word it (tests and scripts; the page reads a snapshot)."""
    return page_context(compute(as_of=as_of))
