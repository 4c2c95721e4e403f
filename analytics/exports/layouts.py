"""The export layouts as frames, built patient chunk by patient chunk.

Every layout is a generator of frames over chunks of patients taken in study-code order, so that a
file of any size is written with the memory of one chunk. The long layout starts from
``analytics.dataset.build()`` and adds what the dataset leaves out (missing reasons, item answers,
enrolment data); the wide layout pivots it. Columns are those of ``variables``, typed by ``typed``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Min, Q, QuerySet

from analytics import dataset, reasons
from analytics.exports import variables as var
from cohort import vocabulary as voc
from cohort.models import KetamineAdministration, Patient
from followup.instruments import madrs, missing
from followup.instruments.missing import INSTRUMENT_FIELDS
from followup.models import (
    HADS_ITEM_FIELDS,
    SF12_ITEM_FIELDS,
    AdverseEvent,
    ConcomitantTreatment,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
)
from trials import definitions

CHUNK_PATIENTS = 2000
TIMEPOINT_ORDER = {code: n for n, code in enumerate(voc.codes(voc.TIMEPOINTS))}
# Every study's visit codes in the order of their calls (``trials.definitions.timepoints``).
VISIT_ORDER = {code: n for n, code in enumerate(definitions.timepoints())}

_REASONS = {
    "nprs__missing_reason": "nprs_missing_reason",
    "hads__missing_reason": "hads_missing_reason",
    "sf12__missing_reason": "sf12_missing_reason",
}
_ITEM_REASONS = {f"{name}__item_reasons": f"{name}_item_reasons" for name in INSTRUMENT_FIELDS}
_ITEMS = {
    **{f"hads__{field}": f"hads_{field.removeprefix('item_')}" for field in HADS_ITEM_FIELDS},
    **{f"sf12__{field}": f"sf12_{field}" for field in SF12_ITEM_FIELDS},
}
_ENROLMENT = {
    "id": "patient",
    "study_code": "study_id",
    "site__code": "site",
    "sex": "sex",
    "age": "age",
    "etiology": "etiology",
    "status": "status",
    "status_date": "status_date",
    "inclusion_date": "inclusion_date",
    "consent_date": "consent_date",
    "weight_kg": "weight_kg",
    "pain_duration_months": "pain_duration_months",
    "ketamine_naive": "ketamine_naive",
    "dn4": "dn4",
    "dn4_missing_reason": "dn4_missing_reason",
    "paroxysms_per_day": "paroxysms_per_day",
    "comorbidities": "comorbidities",
    "first_admin_date": "first_admin_date",
}


def typed(frame: pd.DataFrame, variables: tuple[var.Variable, ...]) -> pd.DataFrame:
    """Return the columns of ``variables`` in order, each with the dtype of its kind.

    Integers and flags are nullable integers, codes and text are strings with missing values
    (never ''), dates are dates; a missing value is missing in every format.
    """
    columns: dict[str, Any] = {}
    for variable in variables:
        values = frame[variable.name] if variable.name in frame else pd.Series(index=frame.index)
        if variable.kind in (var.INTEGER, var.FLAG):
            numbers = pd.to_numeric(values.astype(object), errors="coerce")
            columns[variable.name] = numbers.round().astype("Int64")
        elif variable.kind == var.NUMBER:
            columns[variable.name] = pd.to_numeric(values.astype(object), errors="coerce").astype(
                "float64"
            )
        elif variable.kind == var.DATE:
            columns[variable.name] = pd.to_datetime(values).astype("datetime64[s]")
        else:
            text = values.astype(object).where(values.notna() & (values.astype(object) != ""))
            columns[variable.name] = text.astype(object).where(text.notna(), None)
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)


def patient_chunks(
    patients: QuerySet[Patient] | None = None, size: int = CHUNK_PATIENTS
) -> Iterator[QuerySet[Patient]]:
    """Yield querysets of at most ``size`` patients each, in study-code order."""
    source = Patient.objects.all() if patients is None else patients
    ids = list(source.order_by("study_code").values_list("id", flat=True))
    for start in range(0, len(ids), size):
        yield Patient.objects.filter(id__in=ids[start : start + size])


def _study_order(frame: pd.DataFrame, *extra: str) -> pd.DataFrame:
    return frame.sort_values(["study_id", *extra], kind="stable").reset_index(drop=True)


def _enrolment(patients: QuerySet[Patient]) -> pd.DataFrame:
    """Return the patient-level columns (comorbidities as 0/1 columns), one row per patient."""
    rows = patients.annotate(
        first_admin_date=Min(
            "administrations__date", filter=Q(administrations__voided_at__isnull=True)
        )
    ).values_list(*_ENROLMENT)
    frame = pd.DataFrame.from_records(list(rows), columns=list(_ENROLMENT.values()))
    for code in voc.codes(voc.COMORBIDITIES):
        name = f"cm_{var.SHORT_CODES.get(code, code)}"
        frame[name] = [int(code in (held or [])) for held in frame["comorbidities"]]
    return frame.drop(columns="comorbidities")


def item_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """Return why each item of each row is missing (pure pandas), one column per item.

    An answered item has no reason; a blank one has its stored reason, else its instrument's,
    else (a call not made) the reason derived from the call and the patient.
    """
    derived = reasons.call_reasons(frame)
    out = pd.DataFrame(index=frame.index)
    for instrument, fields in INSTRUMENT_FIELDS.items():
        stored = frame[f"{instrument}_item_reasons"]
        whole = frame[f"{instrument}_missing_reason"]
        fallback = whole.where(whole.notna() & whole.ne(""), derived)
        for field in fields:
            own = stored.map(
                lambda given, f=field: given.get(f) if isinstance(given, dict) else None
            )
            reason = own.where(own.notna() & own.ne(""), fallback)
            out[missing.reason_field(field)] = reason.where(frame[field].isna(), None)
    return out


def _long(patients: QuerySet[Patient], *, items: bool) -> pd.DataFrame:
    frame = dataset.build(patients)
    at_baseline = frame[frame["timepoint"] == "BL"].set_index("patient")
    for column in dataset.REASON_COLUMNS.values():
        frame[f"{column}_bl"] = frame["patient"].map(at_baseline[column])
    extra = {**_REASONS, **(_ITEMS | _ITEM_REASONS if items else {})}
    rows = FollowUpCall.objects.filter(patient__in=patients).values_list(
        "patient_id", "timepoint", *extra
    )
    answers = pd.DataFrame.from_records(
        list(rows), columns=["patient", "timepoint", *extra.values()]
    )
    frame = frame.merge(answers, on=["patient", "timepoint"], how="left", validate="1:1")
    if items:
        frame = frame.join(
            item_reasons(frame).drop(columns=list(dataset.REASON_COLUMNS.values()), errors="ignore")
        )
    # Calls not made: every instrument is missing for the reason the call gives.
    derived = reasons.call_reasons(frame)
    for column in _REASONS.values():
        stored = frame[column]
        frame[column] = stored.where(stored.notna() & stored.ne(""), derived)
    if items:
        enrolment = _enrolment(patients).drop(
            columns=["study_id", "site", "sex", "age", "etiology", "status"]
        )
        frame = frame.merge(enrolment, on="patient", how="left", validate="m:1")
    return _study_order(frame, "month")


def long_frames(
    patients: QuerySet[Patient] | None = None, *, items: bool = False, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the long layout (one row per patient and timepoint), chunk by chunk."""
    variables = var.variables_of("long", items=items)
    for chunk in patient_chunks(patients, size):
        yield typed(_long(chunk, items=items), variables)


def wide_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the wide layout: one row per patient, measures suffixed by timepoint."""
    measures = var.names(var.WIDE_MEASURES)
    for chunk in patient_chunks(patients, size):
        frame = _long(chunk, items=False)
        if frame.empty:
            continue
        per_patient = frame.drop_duplicates("study_id").set_index("study_id")
        per_patient = per_patient.drop(columns=var.names(var.BASELINE_REASONS))
        pivot = frame.pivot(index="study_id", columns="timepoint", values=measures)
        pivot.columns = [f"{measure}_{tp.lower()}" for measure, tp in pivot.columns]
        wide = per_patient.join(pivot).reset_index()
        yield typed(_study_order(wide), var.WIDE)


def baseline_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the baseline table: one row per patient."""
    for chunk in patient_chunks(patients, size):
        frame = _enrolment(chunk)
        scores = FollowUpCall.objects.filter(patient__in=chunk, timepoint="BL").values_list(
            "patient_id",
            "nprs__mean",
            "nprs__maximum",
            "hads__anxiety",
            "hads__depression",
            "sf12__pcs",
            "sf12__mcs",
        )
        names = ["baseline_nprs", "baseline_nprs_max", "baseline_hads_a", "baseline_hads_d"]
        names += ["baseline_sf12_pcs", "baseline_sf12_mcs"]
        baseline = pd.DataFrame.from_records(list(scores), columns=["patient", *names])
        frame = frame.merge(baseline, on="patient", how="left")
        long = dataset.build(chunk)
        reasons = long.loc[long["timepoint"] == "BL", ["patient", *dataset.REASON_COLUMNS.values()]]
        reasons.columns = ["patient", *(v.name for v in var.BASELINE_REASONS)]
        frame = frame.merge(reasons, on="patient", how="left")
        given = KetamineAdministration.objects.filter(
            patient__in=chunk, voided_at__isnull=True
        ).order_by("patient_id", "date", "id")
        first = pd.DataFrame.from_records(
            list(given.values_list("patient_id", "route")), columns=["patient", "first_route"]
        ).drop_duplicates("patient")
        frame = frame.merge(first, on="patient", how="left")
        frame["iv_route"] = frame["first_route"].eq("iv")
        taken = ConcomitantTreatment.objects.filter(
            call__patient__in=chunk, call__timepoint="BL", voided_at__isnull=True
        ).values_list("call__patient_id", "kind", "code")
        treatments = pd.DataFrame.from_records(list(taken), columns=["patient", "kind", "code"])
        prefix = treatments["kind"].map({"drug": "drug_", "non_drug": "nondrug_"})
        treatments["flag"] = prefix + treatments["code"]
        held = set(zip(treatments["patient"], treatments["flag"], strict=True))
        for variable in (*var.DRUG_FLAGS, *var.NON_DRUG_FLAGS):
            frame[variable.name] = [int((p, variable.name) in held) for p in frame["patient"]]
        yield typed(_study_order(frame), var.BASELINE)


def _call_rows(queryset: QuerySet[Any], fields: dict[str, str]) -> pd.DataFrame:
    key = {
        "call__patient__study_code": "study_id",
        "call__patient__site__code": "site",
        "call__timepoint": "timepoint",
        "call__call_date": "call_date",
    }
    rows = queryset.values_list(*key, *fields)
    frame = pd.DataFrame.from_records(list(rows), columns=[*key.values(), *fields.values()])
    frame["order"] = frame["timepoint"].map(TIMEPOINT_ORDER)
    return frame


def adverse_event_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the adverse events: one row per (non-voided) event."""
    for chunk in patient_chunks(patients, size):
        events = AdverseEvent.objects.filter(call__patient__in=chunk, voided_at__isnull=True)
        frame = _call_rows(
            events.order_by("id"),
            {
                "type": "ae_type",
                "severity": "severity",
                "serious": "serious",
                "start_date": "start_date",
            },
        )
        yield typed(_study_order(frame, "order", "ae_type"), var.ADVERSE_EVENTS)


def treatment_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the concomitant treatments: one row per (non-voided) treatment per call."""
    for chunk in patient_chunks(patients, size):
        taken = ConcomitantTreatment.objects.filter(call__patient__in=chunk, voided_at__isnull=True)
        frame = _call_rows(taken.order_by("id"), {"kind": "kind", "code": "code"})
        drug = frame["kind"].eq("drug")
        frame["drug_class"] = frame["code"].where(drug)
        frame["non_drug"] = frame["code"].where(~drug)
        yield typed(_study_order(frame, "order", "kind", "code"), var.TREATMENTS)


def administration_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the (non-voided) ketamine administrations: one row per administration."""
    fields = {
        "patient__study_code": "study_id",
        "patient__site__code": "site",
        "date": "admin_date",
        "route": "route",
        "dose_unit": "dose_unit",
        "dose_value": "dose_value",
        "weight_kg": "weight_kg",
        "dose_mg": "dose_mg",
        "days": "days",
        "total_mg": "total_mg",
        "infusion_minutes": "infusion_minutes",
    }
    for chunk in patient_chunks(patients, size):
        given = KetamineAdministration.objects.filter(patient__in=chunk, voided_at__isnull=True)
        rows = given.order_by("id").values_list(*fields)
        frame = pd.DataFrame.from_records(list(rows), columns=list(fields.values()))
        yield typed(_study_order(frame, "admin_date"), var.ADMINISTRATIONS)


def _rated_rows(model: Any, chunk: QuerySet[Patient], fields: dict[str, str]) -> pd.DataFrame:
    """Return the live assessments of a chunk's patients, keyed by patient and visit."""
    key = {
        "patient_id": "patient",
        "patient__study_code": "study_id",
        "patient__site__code": "site",
        "visit_code": "visit",
        "assessed_on": "assessed_on",
    }
    rows = model.objects.filter(patient__in=chunk, voided_at__isnull=True).values_list(
        *key, *fields
    )
    frame = pd.DataFrame.from_records(list(rows), columns=[*key.values(), *fields.values()])
    frame["order"] = frame["visit"].map(VISIT_ORDER)
    return frame


def madrs_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the baseline total, the change from it, response and remission (pure pandas).

    Each row is compared with the same patient's baseline (visit ``BL``) by the scale's own
    rules (``followup.instruments.madrs``); the baseline row itself has neither response nor
    remission (outcomes of the treatment, as on the patient's page).
    """
    baseline = frame[frame["visit"].eq("BL")].set_index("patient")["madrs_total"]
    frame = frame.assign(madrs_total_bl=frame["patient"].map(baseline))
    pairs = list(zip(frame["madrs_total_bl"], frame["madrs_total"], strict=True))
    known = [(None if pd.isna(b) else int(b), None if pd.isna(t) else int(t)) for b, t in pairs]
    later = frame["visit"].ne("BL").tolist()
    frame["madrs_change_pct"] = [
        madrs.percent_change(b, t) if on else None for (b, t), on in zip(known, later, strict=True)
    ]
    frame["madrs_response"] = [
        madrs.response(b, t) if on else None for (b, t), on in zip(known, later, strict=True)
    ]
    frame["madrs_remission"] = [
        madrs.remission(t) if on else None for (_b, t), on in zip(known, later, strict=True)
    ]
    return frame


def madrs_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the MADRS rated at the visits: one row per patient and visit rated."""
    fields = {f"item_{n}": f"madrs_{n}" for n in madrs.ITEMS} | {"total": "madrs_total"}
    for chunk in patient_chunks(patients, size):
        frame = madrs_outcomes(_rated_rows(MadrsAssessment, chunk, fields))
        yield typed(_study_order(frame, "order"), var.MADRS)


def sf_mpq_frames(
    patients: QuerySet[Patient] | None = None, *, size: int = CHUNK_PATIENTS
) -> Iterator[pd.DataFrame]:
    """Yield the SF-MPQ rated at the visits: one row per patient and visit rated."""
    fields = {f"descriptor_{n}": f"sf_mpq_{n}" for n in range(1, 16)}
    fields |= {"vas_mm": "sf_mpq_vas", "ppi": "sf_mpq_ppi", "sensory": "sf_mpq_sensory"}
    fields |= {"affective": "sf_mpq_affective", "total": "sf_mpq_total"}
    for chunk in patient_chunks(patients, size):
        frame = _rated_rows(SfMpqAssessment, chunk, fields)
        yield typed(_study_order(frame, "order"), var.SF_MPQ)


BUILDERS = {
    "long": long_frames,
    "wide": wide_frames,
    "baseline": baseline_frames,
    "adverse_events": adverse_event_frames,
    "treatments": treatment_frames,
    "administrations": administration_frames,
    "madrs": madrs_frames,
    "sf_mpq": sf_mpq_frames,
}


_END = object()


def read_ahead(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """Build the next chunk in a second thread while the caller writes this one.

    The database works on the next chunk while this process formats the current one; at most
    two chunks wait, so memory stays flat. Inside a transaction (whose uncommitted rows another
    connection cannot see) the chunks are built here instead.
    """
    if connection.in_atomic_block:
        yield from frames
        return
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def build() -> None:
        try:
            for chunk in frames:
                while not stop.is_set():
                    try:
                        ready.put(chunk, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_END)
        except BaseException as exc:
            ready.put(exc)
        finally:
            # This thread's own connection.
            connection.close()

    worker = threading.Thread(target=build, name="export-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        # Take whatever the worker still hands over, so that it never waits on a full queue.
        while worker.is_alive():
            try:
                ready.get(timeout=0.1)
            except queue.Empty:
                continue
        worker.join()


def of_layout(layout: str, patients: QuerySet[Patient] | None = None) -> QuerySet[Patient]:
    """Return the patients (default: all) of the studies whose data ``layout`` holds."""
    source = Patient.objects.all() if patients is None else patients
    return source.filter(site__study__definition__in=var.definitions_of(layout))


def frames(
    layout: str,
    patients: QuerySet[Patient] | None = None,
    *,
    items: bool = False,
    size: int = CHUNK_PATIENTS,
) -> Iterator[pd.DataFrame]:
    """Yield the frames of a layout, chunk by chunk (``items`` for the long layout).

    Only the patients of the studies whose data the layout holds are read
    (``variables.definitions_of``): the first study's layouts never hold a second study's
    patients, nor the other way round.
    """
    var.variables_of(layout, items=items)
    patients = of_layout(layout, patients)
    if layout == "long":
        return read_ahead(long_frames(patients, items=items, size=size))
    return read_ahead(BUILDERS[layout](patients, size=size))


def frame(
    layout: str, patients: QuerySet[Patient] | None = None, *, items: bool = False
) -> pd.DataFrame:
    """Return a whole layout as one frame (for the formats that cannot be streamed)."""
    parts = list(frames(layout, patients, items=items))
    if not parts:
        return typed(pd.DataFrame(), var.variables_of(layout, items=items))
    return pd.concat(parts, ignore_index=True)
