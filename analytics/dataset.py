"""Turn the live database into the tidy long frame the statistics work on.

One row per patient and timepoint (BL, W1, M1..M12), built by two set-based queries (calls with
their questionnaire scores, then administrations) whatever the number of patients. This is the
only module of the analytics that reads the ORM; ``analytics.stats`` works on its output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db.models import QuerySet

from analytics.stats.mixed import locf as stats_locf
from cohort import vocabulary as voc
from cohort.models import KetamineAdministration, Patient
from followup.models import FollowUpCall

MONTHS = voc.MONTH_OF_TIMEPOINT
OUTCOMES = ("nprs_mean", "nprs_max", "hads_a", "hads_d", "sf12_pcs", "sf12_mcs")
BASELINE_COPIES = {
    "nprs_mean": "baseline_nprs",
    "hads_a": "baseline_hads_a",
    "hads_d": "baseline_hads_d",
}
COLUMNS = (
    "patient",
    "study_id",
    "site",
    "sex",
    "age",
    "etiology",
    "status",
    "timepoint",
    "month",
    "call_status",
    "call_date",
    "target_date",
    *OUTCOMES,
    "cumulative_dose_mg",
    "iv_route",
    *BASELINE_COPIES.values(),
)

_CALL_FIELDS = {
    "patient_id": "patient",
    "patient__study_code": "study_id",
    "patient__site__code": "site",
    "patient__sex": "sex",
    "patient__age": "age",
    "patient__etiology": "etiology",
    "patient__status": "status",
    "timepoint": "timepoint",
    "status": "call_status",
    "call_date": "call_date",
    "target_date": "target_date",
    "nprs__mean": "nprs_mean",
    "nprs__maximum": "nprs_max",
    "hads__anxiety": "hads_a",
    "hads__depression": "hads_d",
    "sf12__pcs": "sf12_pcs",
    "sf12__mcs": "sf12_mcs",
}


def build(patients: QuerySet[Patient] | None = None) -> pd.DataFrame:
    """Return the long frame of the given patients (default: all), one row per timepoint.

    Outcomes are the values recorded at that call (missing when the call was not reached); the
    cumulative ketamine dose is the total of the non-voided administrations given up to the
    call's date (its target date when it was not made); ``iv_route`` says whether the patient's
    first administration was intravenous (the paper's "IV route" patients).
    """
    calls = FollowUpCall.objects.all()
    administrations = KetamineAdministration.objects.filter(voided_at__isnull=True)
    if patients is not None:
        calls = calls.filter(patient__in=patients)
        administrations = administrations.filter(patient__in=patients)
    frame = pd.DataFrame.from_records(
        list(calls.values_list(*_CALL_FIELDS)), columns=list(_CALL_FIELDS.values())
    )
    doses = pd.DataFrame.from_records(
        list(administrations.values_list("patient_id", "date", "route", "total_mg")),
        columns=["patient", "date", "route", "total_mg"],
    )
    return assemble(frame, doses)


def assemble(calls: pd.DataFrame, doses: pd.DataFrame) -> pd.DataFrame:
    """Assemble the long frame from the raw call rows and administration rows (pure pandas)."""
    frame = calls.copy()
    frame["month"] = frame["timepoint"].map(MONTHS).astype(float)
    for column in OUTCOMES:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["call_date"] = pd.to_datetime(frame["call_date"])
    frame["target_date"] = pd.to_datetime(frame["target_date"])
    frame = frame.sort_values(["patient", "month"], kind="stable").reset_index(drop=True)
    frame["cumulative_dose_mg"] = _dose_to_date(frame, doses)
    first_route = (
        doses.sort_values(["patient", "date"], kind="stable").groupby("patient").route.first()
    )
    frame["iv_route"] = frame["patient"].map(first_route).eq("iv")
    baseline = frame[frame["timepoint"] == "BL"].set_index("patient")
    for column, copy in BASELINE_COPIES.items():
        frame[copy] = frame["patient"].map(baseline[column])
    return frame[list(COLUMNS)]


def _dose_to_date(frame: pd.DataFrame, doses: pd.DataFrame) -> np.ndarray:
    """Return, per row, the ketamine given to the patient up to the row's date (mg)."""
    result = np.zeros(len(frame))
    if doses.empty or frame.empty:
        return result
    given = doses.assign(date=pd.to_datetime(doses["date"]), mg=doses["total_mg"].astype(float))
    given = given.sort_values(["patient", "date"], kind="stable")
    given["cumulative"] = given.groupby("patient")["mg"].cumsum()
    # The last cumulative total on or before each row's date, patient by patient.
    on = frame["call_date"].fillna(frame["target_date"])
    rows = pd.DataFrame({"patient": frame["patient"], "date": on, "row": np.arange(len(frame))})
    merged = pd.merge_asof(
        rows.sort_values("date", kind="stable"),
        given[["patient", "date", "cumulative"]].sort_values("date", kind="stable"),
        on="date",
        by="patient",
        direction="backward",
    )
    result[merged["row"].to_numpy()] = merged["cumulative"].fillna(0.0).to_numpy()
    return result


def locf(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carry the last observed NPRS, HADS and SF-12 forward, as the paper did.

    Baseline is never imputed; see ``analytics.stats.mixed.locf``. Return the imputed frame and
    the number of values carried forward per timepoint and outcome.
    """
    return stats_locf(frame, OUTCOMES, by="patient", order="month")
