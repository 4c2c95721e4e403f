"""Turn the live database into the tidy long frame the statistics work on.

One row per patient and timepoint (BL, W1, M1..M12), built by set-based queries whatever the
number of patients: the calls, their patients and each questionnaire's responses (read apart, no
joins, aligned by patient and call), then the administrations. This is the
only module of the analytics that reads the ORM; ``analytics.stats`` works on its output.

On PostgreSQL each query's rows come in bulk (``analytics.bulk``: an Arrow driver's binary read,
or one ``COPY ... TO STDOUT`` inside a transaction) straight into typed columns; on SQLite they
come through the ORM's ``values_list``. Every way gives the same frames
(``tests/analytics/test_dataset.py``, ``tests/analytics/test_bulk_read.py``). The reads go to
the database the router picks for the analysis (``analytics.routers``): the read replica when
``DATABASE_REPLICA_URL`` is set.

A running study is read as of a data cut (``as_of``, the day the database is read): a timepoint
has *elapsed* for a patient once its call was made or its window closed before that day. The
others are not yet observed (administrative censoring): the analyses never read them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import QuerySet
from django.utils import timezone

from analytics import bulk, by_call, reasons
from analytics.hashing import column_hashes
from analytics.routers import analysis_reads
from analytics.stats.mixed import locf as stats_locf
from cohort import vocabulary as voc
from cohort.models import KetamineAdministration, Patient
from followup.instruments import missing
from followup.models import (
    AdverseEvent,
    ConcomitantTreatment,
    FollowUpCall,
    HadsResponse,
    NprsResponse,
    Sf12Response,
)
from followup.schedule import window_closed_frame

MONTHS = voc.MONTH_OF_TIMEPOINT
OUTCOMES = ("nprs_mean", "nprs_max", "hads_a", "hads_d", "sf12_pcs", "sf12_mcs")
BASELINE_COPIES = {
    "nprs_mean": "baseline_nprs",
    "hads_a": "baseline_hads_a",
    "hads_d": "baseline_hads_d",
}
# Calls not made: still to make, or closed because the patient left the study.
NOT_MADE_STATUSES = voc.OPEN_CALL_STATUSES | {"closed"}
# Why each outcome is missing, in its own column (None when observed, or the call still due).
REASON_COLUMNS = {outcome: missing.reason_field(outcome) for outcome in OUTCOMES}
# The texts of a patient in the long frame, the same on each of their rows: held as categories,
# and so are the missing reasons (a few texts, mostly null).
_PATIENT_TEXTS = ("study_id", "site", "sex", "etiology", "status")
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
    "window_end",
    "elapsed",
    *OUTCOMES,
    "cumulative_dose_mg",
    "iv_route",
    *BASELINE_COPIES.values(),
    *REASON_COLUMNS.values(),
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
    "window_end": "window_end",
    "nprs__mean": "nprs_mean",
    "nprs__maximum": "nprs_max",
    "hads__anxiety": "hads_a",
    "hads__depression": "hads_d",
    "sf12__pcs": "sf12_pcs",
    "sf12__mcs": "sf12_mcs",
    "nprs__item_reasons": "nprs_item_reasons",
    "nprs__missing_reason": "nprs_reason",
    "hads__item_reasons": "hads_item_reasons",
    "hads__missing_reason": "hads_reason",
    "sf12__item_reasons": "sf12_item_reasons",
    "sf12__missing_reason": "sf12_reason",
}
# The same columns read without joins: the calls, their patients, and each response table by
# call (``call_rows``). The joins took half of the read's time on the server.
_OWN_CALL_FIELDS = {
    "id": "call",
    "patient_id": "patient",
    "timepoint": "timepoint",
    "status": "call_status",
    "call_date": "call_date",
    "target_date": "target_date",
    "window_end": "window_end",
    "sequence": "sequence",
}
# The administrations (not voided): the dose to date, the first route and the IV dose and days.
_DOSE_FIELDS = {
    "patient_id": "patient",
    "date": "date",
    "route": "route",
    "total_mg": "total_mg",
    "days": "days",
}
_PATIENT_OF_CALL = {
    "id": "patient",
    "study_code": "study_id",
    "site__code": "site",
    "sex": "sex",
    "age": "age",
    "etiology": "etiology",
    "status": "status",
}
_RESPONSE_FIELDS = {
    model: {
        "call_id": "call",
        **{
            lookup.split("__", 1)[1]: name
            for lookup, name in _CALL_FIELDS.items()
            if lookup.startswith(f"{related}__")
        },
    }
    for related, model in (("nprs", NprsResponse), ("hads", HadsResponse), ("sf12", Sf12Response))
}


def read_rows(queryset: QuerySet[Any], fields: Mapping[str, str] | list[str]) -> pd.DataFrame:
    """Return the rows of ``queryset.values_list(*fields)`` as a frame named by ``fields``' values.

    ``fields`` maps ORM lookups to column names (a list names columns after the lookups). On
    PostgreSQL the rows come in bulk (``analytics.bulk``); elsewhere through the ORM. Every way
    gives the same frame.
    """
    names = dict(fields) if isinstance(fields, Mapping) else {name: name for name in fields}
    return bulk.read_rows(queryset.values_list(*names), list(names.values()))


def read_ahead(queryset: QuerySet[Any], fields: Mapping[str, str]) -> None:
    """Begin the read ``read_rows(queryset, fields)`` will make (``bulk.read_ahead``)."""
    bulk.read_ahead(queryset.values_list(*fields))


def build(
    patients: QuerySet[Patient] | None = None, *, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Return the long frame of the given patients (default: all), one row per timepoint.

    Outcomes are the values recorded at that call (missing when the call was not reached); the
    cumulative ketamine dose is the total of the non-voided administrations given up to the
    call's date (its target date when it was not made); ``iv_route`` says whether the patient's
    first administration was intravenous (the paper's "IV route" patients); ``elapsed`` whether
    the timepoint had elapsed on ``as_of`` (default: today, the day of the read).
    """
    return _build(patients, as_of)[0]


def _build(
    patients: QuerySet[Patient] | None,
    as_of: dt.date | None,
    read_next: Callable[[], None] = lambda: None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the long frame, the calls read (call id, patient, timepoint, sequence) and the
    administrations read (patient, date, route, total_mg, days; in the model's order).

    Within ``bulk.arrow_reads`` the responses and administrations are read ahead while the
    calls are read, then whatever ``read_next`` begins to read ahead.
    """
    # In no order: the frame is sorted by patient and month (one call per timepoint).
    calls = FollowUpCall.objects.order_by()
    administrations = KetamineAdministration.objects.filter(voided_at__isnull=True)
    if patients is not None:
        calls = calls.filter(patient__in=patients)
        administrations = administrations.filter(patient__in=patients)
    with analysis_reads():
        for rows, fields in [*_answered(patients), (administrations, _DOSE_FIELDS)]:
            read_ahead(rows, fields)
        read_next()
        frame, read = _call_rows(calls, patients)
        doses = read_rows(administrations, _DOSE_FIELDS)
    return assemble(frame, doses, as_of=as_of or timezone.localdate()), read, doses


def call_rows(calls: QuerySet[FollowUpCall], patients: QuerySet[Patient] | None) -> pd.DataFrame:
    """Return the rows ``read_rows(calls, _CALL_FIELDS)`` gives, read without joins.

    The calls, their patients and each response table are read on their own and aligned here
    by patient and by call: the same frame (same columns, values and dtypes) in the calls' order.
    """
    return _call_rows(calls, patients)[0]


def _call_rows(
    calls: QuerySet[FollowUpCall], patients: QuerySet[Patient] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``call_rows`` and the calls read (call id, patient, timepoint, sequence)."""
    own = read_rows(calls, _OWN_CALL_FIELDS)
    read = own[["call", "patient", "timepoint", "sequence"]]
    people = Patient.objects.order_by()
    if patients is not None:
        people = people.filter(pk__in=patients)
    columns: dict[str, Any] = {"patient": own["patient"]}
    of_patient = read_rows(people, _PATIENT_OF_CALL)
    at = bulk.positions(of_patient.pop("patient"), own["patient"])
    for name in list(of_patient.columns):
        columns[name] = _aligned(of_patient.pop(name), at)
    for name in ("timepoint", "call_status", "call_date", "target_date", "window_end"):
        columns[name] = own.pop(name)
    for answered, fields in _answered(patients):
        rows = read_rows(answered, fields)
        at = bulk.positions(rows.pop("call"), own["call"])
        for name in list(rows.columns):
            columns[name] = _aligned(rows.pop(name), at)
    frame = pd.DataFrame({name: columns[name] for name in _CALL_FIELDS.values()}, copy=False)
    return frame, read


def _answered(patients: QuerySet[Patient] | None) -> list[tuple[QuerySet[Any], dict[str, str]]]:
    """The responses of each instrument (of ``patients``) and the fields read of them."""
    reads = []
    for model, fields in _RESPONSE_FIELDS.items():
        answered = model.objects.order_by()
        if patients is not None:
            answered = answered.filter(call__patient__in=patients)
        reads.append((answered, fields))
    return reads


def _aligned(values: pd.Series, at: np.ndarray) -> pd.Series:
    """Return ``values`` taken at positions ``at`` (-1: none, a null as the joined read gives).

    A column all null is the joined read's: objects (None), or floats (NaN) for numbers.
    """
    found = at >= 0
    if values.dtype.kind in "iuf":
        taken = np.full(len(at), np.nan)
        taken[found] = values.to_numpy(dtype=float)[at[found]]
        if found.all() and values.dtype.kind in "iu":
            return pd.Series(values.to_numpy()[at])
        return pd.Series(taken)
    if isinstance(values.dtype, pd.StringDtype):  # texts: the same dtype, with nulls
        texts = pd.Series(values.array.take(at, allow_fill=True))
        if texts.notna().any():
            return texts
        return pd.Series(np.full(len(at), None, dtype=object))
    if found.all() and values.notna().take(at).any():
        return values.take(at).reset_index(drop=True)
    taken_objects = np.full(len(at), None, dtype=object)
    source = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    taken_objects[found] = source[at[found]]
    return pd.Series(taken_objects, dtype=object).infer_objects()


def elapsed(frame: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Return, per row, whether its timepoint had elapsed for the patient on ``as_of``.

    A timepoint has elapsed once its call was made (reached, unreachable, refused, or the
    patient withdrew during it) or once its window closed before ``as_of``. A call still due
    inside its window, or closed because the patient left before a window that has not closed
    yet, is not yet observed: neither a value nor a missing value.
    """
    made = ~frame["call_status"].isin(NOT_MADE_STATUSES)
    closed = window_closed_frame(as_of, frame["window_end"]).fillna(False).astype(bool)
    return (made | closed).astype(bool)


def assemble(calls: pd.DataFrame, doses: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """Assemble the long frame from the raw call rows and administration rows (pure pandas)."""
    frame = calls.copy(deep=False)  # copied on write: the caller's frame is left as it was
    frame["month"] = _months(frame["timepoint"])
    for column in OUTCOMES:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["call_date"] = pd.to_datetime(frame["call_date"])
    frame["target_date"] = pd.to_datetime(frame["target_date"])
    frame["window_end"] = pd.to_datetime(frame["window_end"])
    frame["elapsed"] = elapsed(frame, as_of)
    if not _by_patient_and_month(frame):  # as the calls are stored, mostly
        frame = frame.sort_values(["patient", "month"], kind="stable")
    frame = frame.reset_index(drop=True)
    frame["cumulative_dose_mg"] = _dose_to_date(frame, doses)
    first_route = (
        doses.sort_values(["patient", "date"], kind="stable").groupby("patient").route.first()
    )
    frame["iv_route"] = frame["patient"].map(first_route).eq("iv")
    baseline = frame[frame["timepoint"] == "BL"].set_index("patient")
    for column, copy in BASELINE_COPIES.items():
        frame[copy] = frame["patient"].map(baseline[column])
    reasons = outcome_reasons(frame)
    for column in reasons.columns:
        frame[column] = reasons[column]
    return frame[list(COLUMNS)]


def _months(timepoints: pd.Series) -> pd.Series:
    """Return ``timepoints.map(MONTHS).astype(float)``, mapped once per distinct timepoint."""
    codes, uniques = pd.factorize(timepoints)
    months = np.append(pd.Series(uniques, dtype=object).map(MONTHS).to_numpy(dtype=float), np.nan)
    return pd.Series(months[codes], index=timepoints.index, dtype=float)


def _by_patient_and_month(frame: pd.DataFrame) -> bool:
    """Return whether the rows are sorted by patient, then month (no month missing)."""
    patient = frame["patient"].to_numpy()
    month = frame["month"].to_numpy()
    if patient.dtype.kind not in "iu" or np.isnan(month).any():
        return False
    same = patient[1:] == patient[:-1]
    return bool(np.all(patient[1:] >= patient[:-1]) and np.all(month[1:][same] >= month[:-1][same]))


def outcome_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """Why each outcome of each row is missing, one column per outcome (``REASON_COLUMNS``):
    see ``analytics.reasons.outcome_reasons``."""
    return reasons.outcome_reasons(frame, REASON_COLUMNS)


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


# Patient-level columns of the baseline table, read from the patient rows.
_PATIENT_FIELDS = {
    "id": "patient",
    "sex": "sex",
    "age": "age",
    "comorbidities": "comorbidities",
    "etiology": "etiology",
    "dn4": "dn4",
    "paroxysms_per_day": "paroxysms_per_day",
    "ketamine_naive": "ketamine_naive",
}


@dataclass(frozen=True)
class StudyData:
    """Everything one analysis reads: the long frame and the per-patient and per-event tables."""

    long: pd.DataFrame
    patients: pd.DataFrame  # one row per patient, the inputs of the baseline table
    treatments: pd.DataFrame  # patient, timepoint, kind, code
    adverse_events: pd.DataFrame  # patient, timepoint, type, severity, serious
    as_of: dt.date  # the data cut: the day the study was read

    @property
    def calls(self) -> pd.DataFrame:
        """Return the (patient, timepoint, call_status) rows of the long frame."""
        return self.long[["patient", "timepoint", "call_status"]]

    def fingerprint(self) -> str:
        """Return a hash of the analysed content (not of edit times): same data, same hash."""
        digest = hashlib.sha256()
        for name in ("long", "patients", "treatments", "adverse_events"):
            frame = getattr(self, name)
            digest.update(f"{name}:{len(frame)}:{','.join(frame.columns)}".encode())
            for column in frame.columns:
                digest.update(column_hashes(frame[column]).tobytes())
        return digest.hexdigest()


def load(patients: QuerySet[Patient] | None = None, *, as_of: dt.date | None = None) -> StudyData:
    """Read the study with five set-based queries: calls, doses, patients, treatments, events.

    ``as_of`` is the data cut (default: today); the fingerprint hashes which timepoints had
    elapsed on it, so a window closing changes the fingerprint while a quiet day does not.
    """
    as_of = as_of or timezone.localdate()
    with analysis_reads(), bulk.arrow_reads():
        return _load(patients, as_of)


def _load(patients: QuerySet[Patient] | None, as_of: dt.date) -> StudyData:
    people = Patient.objects.all()
    treatments = ConcomitantTreatment.objects.filter(voided_at__isnull=True)
    events = AdverseEvent.objects.filter(voided_at__isnull=True)
    if patients is not None:
        people = people.filter(pk__in=patients)
        treatments = treatments.filter(call__patient__in=patients)
        events = events.filter(call__patient__in=patients)
    of_call = {"call__patient_id": "patient", "call__timepoint": "timepoint"}
    treatment_fields = {**of_call, "kind": "kind", "code": "code"}
    event_fields = {**of_call, "type": "type", "severity": "severity", "serious": "serious"}

    def read_next() -> None:  # the rows recorded at the calls (millions of treatments)
        by_call.read_ahead(treatments, treatment_fields)
        by_call.read_ahead(events, event_fields)

    long, calls, doses = _build(patients, as_of, read_next)
    long = bulk.categories(long, [*_PATIENT_TEXTS, *REASON_COLUMNS.values()])
    patient_rows = read_rows(people.order_by("pk"), _PATIENT_FIELDS)
    with by_call.placed_on(calls):  # the rows of these calls, read without the join
        treatment_rows = _treatment_rows(treatments, treatment_fields)
        event_rows = _treatment_rows(events, event_fields)
    del calls
    # The IV administrations, in the order read (the model's): as read with a filter on route.
    iv = doses.loc[doses["route"].eq("iv").to_numpy(), ["patient", "total_mg", "days"]]
    iv = iv.reset_index(drop=True)
    del doses
    table = patient_table(patient_rows, long, iv)
    return StudyData(
        long=long,
        patients=table,
        treatments=bulk.categories(treatment_rows, ["timepoint", "kind", "code"]),
        adverse_events=event_rows,
        as_of=as_of,
    )


# The treatments and the adverse events in their models' order (by call, then kind and code, or
# type): see ``analytics.by_call``.
_treatment_rows = by_call.rows_by_call


def patient_table(rows: pd.DataFrame, long: pd.DataFrame, iv: pd.DataFrame) -> pd.DataFrame:
    """Add baseline scores, the IV route and the IV dose and days to the patient rows."""
    table = rows.copy()
    table["dn4"] = pd.to_numeric(table["dn4"], errors="coerce").astype(float)
    table["paroxysms_per_day"] = pd.to_numeric(table["paroxysms_per_day"], errors="coerce").astype(
        float
    )
    table["ketamine_naive"] = table["ketamine_naive"].astype(object)
    baseline = long[long["timepoint"] == "BL"].set_index("patient")
    for column in OUTCOMES:
        table[column] = table["patient"].map(baseline[column]).astype(float)
    first_iv = long.groupby("patient")["iv_route"].first()
    table["iv_route"] = table["patient"].map(first_iv).fillna(False).astype(bool)
    given = iv.assign(total_mg=pd.to_numeric(iv["total_mg"]).astype(float))
    dose = given.groupby("patient")["total_mg"].sum()
    days = given.groupby("patient")["days"].sum().astype(float)
    table["iv_cumulative_dose_mg"] = table["patient"].map(dose).where(table["iv_route"])
    table["iv_duration_days"] = table["patient"].map(days).where(table["iv_route"])
    return table
