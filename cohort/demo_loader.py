"""Load a generated demo cohort into the database, replacing the previous demo study.

The rows go in set-based (COPY on PostgreSQL, executemany on SQLite) with ids allocated up
front, so that 30,000 patients load in seconds. Every derived value is computed by the same code
as the app: doses by ``cohort.models.dose_in_mg``, schedule windows by ``followup.schedule``,
scores by ``followup.instruments``. Seeded rows get no history rows of their own: their history
starts with the first edit made in the app. Only demo sites (``Site.is_demo``) and what hangs
off them are touched.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from cohort.demo import DemoCohort
from cohort.fields import encrypt
from cohort.models import KetamineAdministration, Patient, PatientContact, Site, dose_in_mg
from followup import schedule
from followup.instruments import hads, sf12
from followup.models import (
    TIMEPOINT_ORDER,
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    FollowUpCall,
    HadsResponse,
    NprsResponse,
    Sf12Response,
)

Progress = Callable[[str, int], None]
HADS_COLUMNS = [f"hads_{n}" for n in range(1, 15)]
SF12_COLUMNS = [f"sf12_{item.lower()}" for item in sf12.ITEMS]
# Children first: the order in which demo rows are removed.
CLINICAL_MODELS: tuple[type[Model], ...] = (
    CallAttempt,
    NprsResponse,
    HadsResponse,
    Sf12Response,
    AdverseEvent,
    ConcomitantTreatment,
    FollowUpCall,
    KetamineAdministration,
    PatientContact,
    Patient,
)


@dataclass
class LoadReport:
    """How many rows of each kind were written."""

    counts: dict[str, int] = field(default_factory=dict)


def _none(value: Any) -> Any:
    """Turn pandas' missing markers into None and numpy scalars into Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _text(value: Any) -> str:
    value = _none(value)
    return "" if value is None else str(value)


def _date(value: Any) -> dt.date | None:
    value = _none(value)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


@lru_cache(maxsize=200_000)
def _hads_scores(answers: tuple[int | None, ...]) -> tuple[int | None, int | None]:
    result = hads.score(dict(enumerate(answers, start=1)))
    return result.anxiety, result.depression


@lru_cache(maxsize=200_000)
def _sf12_scores(answers: tuple[int | None, ...]) -> tuple[float | None, float | None]:
    result = sf12.score(dict(zip(sf12.ITEMS, answers, strict=True)))
    return result.pcs, result.mcs


class _Writer:
    """Insert plain rows with explicit ids, as fast as the backend allows."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.ops = connection.ops

    def next_id(self, model: type[Model]) -> int:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            return int(cursor.fetchone()[0]) + 1

    def insert(
        self, model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        table = model._meta.db_table
        quoted = ", ".join(self.ops.quote_name(c) for c in columns)
        count = 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                raw = cursor.cursor  # the psycopg cursor, for COPY
                with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"
                batch: list[list[Any]] = []
                for row in rows:
                    batch.append([self._adapt(v) for v in row])
                    if len(batch) >= 5000:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
        return count

    def _adapt(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return self.ops.adapt_datefield_value(value)
        if isinstance(value, Decimal):
            return str(value)
        return value

    def reset_sequences(self, models: Iterable[type[Model]]) -> None:
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )


def demo_purge() -> dict[str, int]:
    """Remove every patient of the demo sites, with their history; keep the sites and users."""
    demo_patients = Patient.objects.filter(site__is_demo=True).values("id")
    demo_calls = FollowUpCall.objects.filter(patient__site__is_demo=True).values("id")
    removed: dict[str, int] = {}
    for model in CLINICAL_MODELS:
        if model is Patient:
            live = model.objects.filter(id__in=demo_patients)
        elif hasattr(model, "call"):
            live = model.objects.filter(call_id__in=demo_calls)
        else:
            live = model.objects.filter(patient_id__in=demo_patients)
        history = model.history.model.objects.filter(id__in=live.values("id"))  # type: ignore[attr-defined]
        history._raw_delete(history.db)
        removed[model._meta.model_name] = live._raw_delete(live.db)
    return removed


def _site_rows(frame: pd.DataFrame) -> dict[str, Site]:
    sites = {}
    for row in frame.itertuples(index=False):
        site, _ = Site.objects.update_or_create(
            code=row.code, defaults={"name": row.name, "city": row.city, "is_demo": True}
        )
        sites[row.code] = site
    return sites


@transaction.atomic
def demo_load(cohort: DemoCohort, *, progress: Progress | None = None) -> LoadReport:
    """Replace the demo study by ``cohort``; return the number of rows written per table."""
    step = progress or (lambda label, n: None)
    clash = Site.objects.filter(code__in=list(cohort.sites.code), is_demo=False)
    if clash.exists():
        raise ValueError(
            "Refused: demo site codes are used by real sites: "
            + ", ".join(clash.values_list("code", flat=True))
        )
    demo_purge()
    step("purged", 0)
    writer = _Writer()
    now = timezone.now()
    local = ZoneInfo(settings.TIME_ZONE)
    report = LoadReport()
    sites = _site_rows(cohort.sites)
    step("sites", len(sites))

    patients = cohort.patients.reset_index(drop=True)
    base = writer.next_id(Patient)
    patient_id = {code: base + i for i, code in enumerate(patients.study_code)}
    weight = dict(zip(patients.study_code, patients.weight_kg.round(1), strict=True))
    inclusion = {
        code: _date(day)
        for code, day in zip(patients.study_code, patients.inclusion_date, strict=True)
    }

    report.counts["patients"] = writer.insert(
        Patient,
        [
            "id",
            "study_code",
            "site_id",
            "sex",
            "age",
            "inclusion_date",
            "consent_date",
            "weight_kg",
            "etiology",
            "pain_duration_months",
            "comorbidities",
            "ketamine_naive",
            "dn4",
            "dn4_missing_reason",
            "paroxysms_per_day",
            "status",
            "status_date",
            "status_reason",
            "created_at",
            "updated_at",
        ],
        (
            [
                patient_id[r.study_code],
                r.study_code,
                sites[r.site_code].pk,
                r.sex,
                int(r.age),
                _date(r.inclusion_date),
                _date(r.consent_date),
                Decimal(str(round(r.weight_kg, 1))),
                r.etiology,
                int(r.pain_duration_months),
                json.dumps(list(r.comorbidities)),
                _none(r.ketamine_naive),
                _none(r.dn4),
                ""
                if _none(r.dn4) is not None or r.etiology != "fibromyalgia"
                else "not_applicable",
                _none(r.paroxysms_per_day),
                r.status,
                _date(r.status_date),
                _text(r.status_reason),
                now,
                now,
            ]
            for r in patients.itertuples(index=False)
        ),
    )
    step("patients", report.counts["patients"])
    base = writer.next_id(PatientContact)
    report.counts["contacts"] = writer.insert(
        PatientContact,
        [
            "id",
            "patient_id",
            "first_name",
            "last_name",
            "phone",
            "phone_alt",
            "preferred_call_time",
            "created_at",
            "updated_at",
        ],
        (
            [
                base + i,
                patient_id[r.study_code],
                encrypt(r.first_name),
                encrypt(r.last_name),
                encrypt(r.phone),
                "",
                "",
                now,
                now,
            ]
            for i, r in enumerate(patients.itertuples(index=False))
        ),
    )
    step("contacts", report.counts["contacts"])

    administrations = cohort.administrations
    base = writer.next_id(KetamineAdministration)

    def administration_rows() -> Iterable[list[Any]]:
        for i, r in enumerate(administrations.itertuples(index=False)):
            kg = Decimal(str(weight[r.study_code]))
            value = Decimal(str(r.dose_value))
            daily = dose_in_mg(unit=r.dose_unit, value=value, weight_kg=kg)
            yield [
                base + i,
                patient_id[r.study_code],
                _date(r.date),
                r.route,
                r.dose_unit,
                value,
                kg,
                daily,
                int(r.days),
                daily * int(r.days),
                _none(r.infusion_minutes),
                None,
                "",
                now,
                now,
            ]

    report.counts["administrations"] = writer.insert(
        KetamineAdministration,
        [
            "id",
            "patient_id",
            "date",
            "route",
            "dose_unit",
            "dose_value",
            "weight_kg",
            "dose_mg",
            "days",
            "total_mg",
            "infusion_minutes",
            "voided_at",
            "void_reason",
            "created_at",
            "updated_at",
        ],
        administration_rows(),
    )
    step("administrations", report.counts["administrations"])
    first_dose = {
        code: _date(day) for code, day in administrations.groupby("study_code").date.min().items()
    }

    calls = cohort.calls.reset_index(drop=True)
    base = writer.next_id(FollowUpCall)
    call_id = {
        (code, tp): base + i
        for i, (code, tp) in enumerate(zip(calls.study_code, calls.timepoint, strict=True))
    }

    def call_rows() -> Iterable[list[Any]]:
        for r in calls.itertuples(index=False):
            target = _date(r.target_date)
            if r.timepoint == "BL":
                start = end = target
            else:
                planned = schedule.scheduled_call(
                    first_dose.get(r.study_code) or inclusion[r.study_code], r.timepoint
                )
                start = target - (planned.target - planned.window_start)
                end = target + (planned.window_end - planned.target)
            day = _date(r.call_date)
            reached = r.status == "reached"
            completed = (
                dt.datetime.combine(day, dt.time(12), tzinfo=local) if reached and day else None
            )
            yield [
                call_id[(r.study_code, r.timepoint)],
                patient_id[r.study_code],
                r.timepoint,
                TIMEPOINT_ORDER[r.timepoint],
                target,
                start,
                end,
                r.status,
                "",
                day if reached else None,
                completed,
                None,
                False,
                "[]",
                "",
                1,
                now,
                now,
            ]

    report.counts["calls"] = writer.insert(
        FollowUpCall,
        [
            "id",
            "patient_id",
            "timepoint",
            "sequence",
            "target_date",
            "window_start",
            "window_end",
            "status",
            "status_reason",
            "call_date",
            "completed_at",
            "completed_by_id",
            "needs_review",
            "review_reasons",
            "notes",
            "version",
            "created_at",
            "updated_at",
        ],
        call_rows(),
    )
    step("calls", report.counts["calls"])

    attempts = cohort.attempts
    base = writer.next_id(CallAttempt)
    report.counts["attempts"] = writer.insert(
        CallAttempt,
        ["id", "call_id", "attempted_at", "by_id", "outcome", "note", "created_at", "updated_at"],
        (
            [
                base + i,
                call_id[(r.study_code, r.timepoint)],
                pd.Timestamp(r.at).to_pydatetime().replace(tzinfo=local),
                None,
                r.outcome,
                "",
                now,
                now,
            ]
            for i, r in enumerate(attempts.itertuples(index=False))
        ),
    )
    step("attempts", report.counts["attempts"])

    report.counts.update(_load_responses(writer, calls, call_id, now))
    step("questionnaires", report.counts["nprs"] + report.counts["hads"] + report.counts["sf12"])

    events = cohort.adverse_events
    base = writer.next_id(AdverseEvent)
    report.counts["adverse_events"] = writer.insert(
        AdverseEvent,
        [
            "id",
            "call_id",
            "type",
            "other_text",
            "severity",
            "serious",
            "start_date",
            "voided_at",
            "void_reason",
            "created_at",
            "updated_at",
        ],
        (
            [
                base + i,
                call_id[(r.study_code, r.timepoint)],
                r.type,
                _text(r.other_text),
                r.severity,
                bool(r.serious),
                None,
                None,
                "",
                now,
                now,
            ]
            for i, r in enumerate(events.itertuples(index=False))
        ),
    )
    step("adverse events", report.counts["adverse_events"])
    treatments = cohort.treatments
    base = writer.next_id(ConcomitantTreatment)
    report.counts["treatments"] = writer.insert(
        ConcomitantTreatment,
        [
            "id",
            "call_id",
            "kind",
            "code",
            "name",
            "other_text",
            "voided_at",
            "void_reason",
            "created_at",
            "updated_at",
        ],
        (
            [
                base + i,
                call_id[(r.study_code, r.timepoint)],
                r.kind,
                r.code,
                "",
                "",
                None,
                "",
                now,
                now,
            ]
            for i, r in enumerate(treatments.itertuples(index=False))
        ),
    )
    step("treatments", report.counts["treatments"])
    writer.reset_sequences(CLINICAL_MODELS)
    return report


def _load_responses(
    writer: _Writer, calls: pd.DataFrame, call_id: dict[tuple[str, str], int], now: dt.datetime
) -> dict[str, int]:
    """Insert the NPRS, HADS and SF-12 rows of every call that has values or a reason."""
    counts = {}
    keys = list(zip(calls.study_code, calls.timepoint, strict=True))
    nprs_reason = calls.nprs_missing_reason.fillna("")
    has_nprs = calls.nprs_mean.notna() | calls.nprs_max.notna() | (nprs_reason != "")
    base = writer.next_id(NprsResponse)
    counts["nprs"] = writer.insert(
        NprsResponse,
        ["id", "call_id", "mean", "maximum", "missing_reason", "created_at", "updated_at"],
        (
            [
                base + n,
                call_id[keys[i]],
                _none(calls.nprs_mean.iat[i]),
                _none(calls.nprs_max.iat[i]),
                nprs_reason.iat[i],
                now,
                now,
            ]
            for n, i in enumerate(has_nprs.to_numpy().nonzero()[0])
        ),
    )
    for name, model, columns, scorer, fields in (
        (
            "hads",
            HadsResponse,
            HADS_COLUMNS,
            _hads_scores,
            [f"item_{n}" for n in range(1, 15)] + ["anxiety", "depression"],
        ),
        (
            "sf12",
            Sf12Response,
            SF12_COLUMNS,
            _sf12_scores,
            [c.removeprefix("sf12_") for c in SF12_COLUMNS] + ["pcs", "mcs"],
        ),
    ):
        reason = calls[f"{name}_missing_reason"].fillna("")
        values = calls[columns]
        present = values.notna().any(axis=1) | (reason != "")
        items = values.astype("object").where(values.notna(), None).to_numpy()
        base = writer.next_id(model)

        def rows(
            items: Any = items,
            reason: pd.Series = reason,
            present: pd.Series = present,
            base: int = base,
            scorer: Callable[..., tuple[Any, Any]] = scorer,
        ) -> Iterable[list[Any]]:
            for n, i in enumerate(present.to_numpy().nonzero()[0]):
                answers = tuple(None if v is None else int(v) for v in items[i])
                yield [
                    base + n,
                    call_id[keys[i]],
                    *answers,
                    *scorer(answers),
                    reason.iat[i],
                    now,
                    now,
                ]

        counts[name] = writer.insert(
            model, ["id", "call_id", *fields, "missing_reason", "created_at", "updated_at"], rows()
        )
    return counts
