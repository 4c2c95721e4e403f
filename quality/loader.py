"""Read what the data-quality rules need from the database: two set-based queries."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cohort import vocabulary as voc
from cohort.models import KetamineAdministration
from followup.models import FollowUpCall
from trials.definitions import FIRST_STUDY

_CALL_FIELDS = {
    "id": "call_id",
    "patient_id": "patient_id",
    "patient__study_code": "study_code",
    "timepoint": "timepoint",
    "status": "status",
    "call_date": "call_date",
    "window_start": "window_start",
    "window_end": "window_end",
    "nprs__mean": "nprs_mean",
    "nprs__maximum": "nprs_max",
    "nprs__missing_reason": "nprs_missing_reason",
    "hads__anxiety": "hads_a",
    "hads__depression": "hads_d",
    "hads__missing_reason": "hads_missing_reason",
    "sf12__pcs": "sf12_pcs",
    "sf12__mcs": "sf12_mcs",
    "sf12__missing_reason": "sf12_missing_reason",
}
_ADMINISTRATION_FIELDS = {
    "id": "admin_id",
    "patient_id": "patient_id",
    "patient__study_code": "study_code",
    "date": "date",
    "total_mg": "total_mg",
    "patient__status": "patient_status",
    "patient__status_date": "status_date",
}
_DATES = ("call_date", "window_start", "window_end", "date", "status_date")
_NUMBERS = ("nprs_mean", "nprs_max", "hads_a", "hads_d", "sf12_pcs", "sf12_mcs", "total_mg")


@dataclass(frozen=True)
class QualityData:
    """The frames the rules read (see ``quality.rules``)."""

    calls: pd.DataFrame
    administrations: pd.DataFrame


def _frame(rows: list[tuple[object, ...]], columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns.values()))
    for column in frame.columns:
        if column in _DATES:
            frame[column] = pd.to_datetime(frame[column])
        elif column in _NUMBERS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def load() -> QualityData:
    """Return every call (with its scores) and every live administration as frames.

    The rules are the first study's (its questionnaires, its timepoints): they read the patients
    of the studies following its definition only, as the live report does; a patient of the
    depression study, who answers none of them, would otherwise raise a query per instrument.
    """
    study = {"patient__site__study__definition": FIRST_STUDY}
    calls = _frame(
        list(FollowUpCall.objects.filter(**study).order_by().values_list(*_CALL_FIELDS)),
        _CALL_FIELDS,
    )
    calls["month"] = calls["timepoint"].map(voc.MONTH_OF_TIMEPOINT).astype(float)
    administrations = _frame(
        list(
            KetamineAdministration.objects.filter(voided_at__isnull=True, **study)
            .order_by()
            .values_list(*_ADMINISTRATION_FIELDS)
        ),
        _ADMINISTRATION_FIELDS,
    )
    return QualityData(calls=calls, administrations=administrations)
