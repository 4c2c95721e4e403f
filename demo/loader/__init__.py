"""Load a generated demo cohort into the database, replacing the previous demo study.

The rows go in set-based (COPY on PostgreSQL, executemany on SQLite) with ids allocated up
front, so that 30,000 patients load in seconds. Each table is first built as a pandas frame whose
columns are the database columns, holding the values as the backend stores them. Every derived
value is computed by the same code as the app: doses by ``cohort.models.dose_in_mg``, schedule
windows by ``followup.schedule``, scores by ``followup.instruments``. Seeded rows get no history
rows of their own: their history starts with the first edit made in the app. Only demo sites
(``Site.is_demo``) and what hangs off them are touched.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from cohort import vocabulary as voc
from cohort.fields import encrypt
from cohort.models import (
    EnrolmentKey,
    KetamineAdministration,
    Patient,
    PatientContact,
    PatientLock,
    Signature,
    Site,
    dose_in_mg,
)
from demo.synthetic import DemoCohort
from demo.synthetic.frames import SF12_ITEM_REASONS
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
CALL_KEY = ["study_code", "timepoint"]
# Rows per COPY chunk: the CSV text of one chunk is held in memory at a time.
COPY_CHUNK_ROWS = 200_000
COPY_NULL = r"\N"
# Chunks waiting for the COPY worker: bounds the memory held by formatted text.
COPY_QUEUE_CHUNKS = 4
_END_OF_TABLE = object()
_ABORT = object()


@dataclass
class LoadReport:
    """How many rows of each kind were written."""

    counts: dict[str, int] = field(default_factory=dict)


def _plain(values: pd.Series) -> np.ndarray:
    """Return the values as a numpy array, missing values as None in an object array."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy()
    return values.astype(object).where(values.notna(), None).to_numpy()


def _table(columns: dict[str, Any]) -> pd.DataFrame:
    """Build a frame of numpy columns from arrays, series (positionally) and scalars."""
    n = next(len(v) for v in columns.values() if isinstance(v, (np.ndarray, pd.Series)))
    index = pd.RangeIndex(n)
    data: dict[str, pd.Series] = {}
    for name, values in columns.items():
        if isinstance(values, pd.Series):
            values = _plain(values)
        elif not isinstance(values, np.ndarray):
            kind = object if values is None or isinstance(values, str) else None
            values = np.full(n, values, dtype=kind)
        # An explicit dtype stops pandas from turning object text into str with NaN, whose
        # element-by-element iteration is slow.
        data[name] = pd.Series(values, index=index, dtype=values.dtype, copy=False)
    return pd.DataFrame(data, index=index)


def _text(values: pd.Series) -> np.ndarray:
    """Return text values with '' for missing ones (the text columns are NOT NULL)."""
    return values.fillna("").to_numpy(dtype=object)


def _days(values: pd.Series) -> np.ndarray:
    """Return datetimes as 'YYYY-MM-DD' text, None for NaT."""
    days = values.to_numpy(dtype="datetime64[D]")
    text = np.datetime_as_string(days, unit="D").astype(object)
    text[np.isnat(days)] = None
    return text


def _positions(index: pd.Index, keys: pd.Index, what: str) -> np.ndarray:
    """Return where each key sits in ``index``; refuse keys that are not there."""
    found = index.get_indexer(keys)
    if (found < 0).any():
        raise ValueError(f"{what} refer to rows missing from the cohort")
    return found


def _call_keys(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[CALL_KEY])


def _window_offsets(timepoints: Iterable[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Return the days before and after the target that each timepoint's window spans."""
    # Windows are fixed offsets around the target whatever the first dose, so any date will do.
    reference = dt.date(2001, 1, 1)
    before, after = {}, {}
    for timepoint in timepoints:
        if timepoint == "BL":
            before[timepoint] = after[timepoint] = 0
            continue
        planned = schedule.scheduled_call(reference, timepoint)
        before[timepoint] = (planned.target - planned.window_start).days
        after[timepoint] = (planned.window_end - planned.target).days
    return before, after


def _daily_cents(unit: pd.Series, value: pd.Series, weight: np.ndarray) -> np.ndarray:
    """Return each daily dose in hundredths of mg, calling ``dose_in_mg`` once per distinct dose."""
    keys = pd.DataFrame(
        {"unit": unit.to_numpy(dtype=object), "value": value.to_numpy(), "weight": weight}
    )
    distinct = keys.drop_duplicates(ignore_index=True)
    distinct["cents"] = [
        int(dose_in_mg(unit=u, value=Decimal(str(v)), weight_kg=Decimal(str(w))).scaleb(2))
        for u, v, w in distinct.itertuples(index=False, name=None)
    ]
    # A left merge keeps the order of the left rows.
    return keys.merge(distinct, how="left", on=["unit", "value", "weight"])["cents"].to_numpy()


def _score_rows(
    answers: np.ndarray, scorer: Callable[[tuple[int | None, ...]], tuple[Any, ...]], width: int
) -> list[np.ndarray]:
    """Score each distinct row of ``answers`` (-1 for missing) once; return one array per score."""
    if not len(answers):
        return [np.empty(0, dtype=object) for _ in range(width)]
    base = int(answers.max()) + 2
    if base ** answers.shape[1] < 2**62:
        # One integer per row: sorting integers is far cheaper than sorting rows.
        key = (answers + 1) @ (base ** np.arange(answers.shape[1], dtype=np.int64))
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        distinct = answers[first]
    else:
        distinct, inverse = np.unique(answers, axis=0, return_inverse=True)
    scored = np.empty((len(distinct), width), dtype=object)
    for i, row in enumerate(distinct.tolist()):
        scored[i] = scorer(tuple(None if v < 0 else v for v in row))
    return list(scored[inverse.ravel()].T)


def _anxiety(answers: tuple[int | None, ...]) -> tuple[int | None]:
    return (hads.score(dict(zip(hads.ANXIETY_ITEMS, answers, strict=True))).anxiety,)


def _depression(answers: tuple[int | None, ...]) -> tuple[int | None]:
    return (hads.score(dict(zip(hads.DEPRESSION_ITEMS, answers, strict=True))).depression,)


def _sf12_scores(answers: tuple[int | None, ...]) -> tuple[float | None, float | None]:
    result = sf12.score(dict(zip(sf12.ITEMS, answers, strict=True)))
    return result.pcs, result.mcs


class _Writer:
    """Insert frames of plain rows with explicit ids, as fast as the backend allows.

    On PostgreSQL a worker thread runs the COPY statements one after the other, so that the server
    ingests (and checks the foreign keys of) one table while this thread builds the next.
    """

    def __init__(self, models: Iterable[type[Model]]) -> None:
        self.vendor = connection.vendor
        self.ops = connection.ops
        self.tables = [model._meta.db_table for model in models]
        # Taken before any insert: once the worker runs, only it may use the connection.
        self.bases = {}
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                self.bases[table] = int(cursor.fetchone()[0]) + 1
        self.deferred: list[str] = []
        self.jobs: queue.Queue[Any] = queue.Queue(maxsize=COPY_QUEUE_CHUNKS)
        self.worker: threading.Thread | None = None
        self.error: BaseException | None = None

    def next_id(self, model: type[Model]) -> int:
        return self.bases[model._meta.db_table]

    def stamp(self, moment: dt.datetime) -> str:
        """Return an aware datetime as the text the backend stores."""
        if self.vendor == "postgresql":
            return moment.isoformat()
        return self.ops.adapt_datetimefield_value(moment)

    def stamps(self, moments: pd.Series) -> np.ndarray:
        """Return aware datetimes (whole seconds) as the text the backend stores, None for NaT."""
        if self.vendor == "postgresql":
            zone, suffix = dt.UTC, "+00:00"
        else:
            # Django's SQLite backend stores naive datetimes in the connection's zone.
            zone, suffix = connection.timezone, ""
        wall = moments.dt.tz_convert(zone).dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
        text = np.strings.replace(np.datetime_as_string(wall, unit="s"), "T", " ")
        text = np.strings.add(text, suffix).astype(object)
        text[np.isnat(wall)] = None
        return text

    def insert(self, model: type[Model], frame: pd.DataFrame) -> int:
        """Write (on PostgreSQL: queue) every row of ``frame``, whose columns are the table's."""
        table = model._meta.db_table
        quoted = ", ".join(self.ops.quote_name(c) for c in frame.columns)
        if self.vendor == "postgresql":
            if self.worker is None:
                self._start()
            # CSV keeps '' (many NOT NULL text columns) apart from NULL, written as \N.
            self._put(f"COPY {table} ({quoted}) FROM STDIN WITH (FORMAT csv, NULL '{COPY_NULL}')")
            for start in range(0, len(frame), COPY_CHUNK_ROWS):
                buffer = io.StringIO()
                frame.iloc[start : start + COPY_CHUNK_ROWS].to_csv(
                    buffer, header=False, index=False, na_rep=COPY_NULL
                )
                self._put(buffer.getvalue())
            self._put(_END_OF_TABLE)
        else:
            placeholders = ", ".join(["%s"] * len(frame.columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"
            with connection.cursor() as cursor:
                # The driver cursor skips Django's per-batch query logging under DEBUG.
                cursor.cursor.executemany(sql, frame.itertuples(index=False, name=None))
        return len(frame)

    def _start(self) -> None:
        with connection.cursor() as cursor:
            # Check the foreign keys at the end of each COPY, in the worker's time, rather than
            # all at commit; they are set back to deferred (their initial mode) in finish().
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable"
                " AND condeferred AND conrelid = ANY(%s::regclass[])",
                [self.tables],
            )
            self.deferred = [self.ops.quote_name(name) for (name,) in cursor.fetchall()]
            if self.deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self.deferred)} IMMEDIATE")
        raw = connection.connection.cursor()
        self.worker = threading.Thread(target=self._copy_all, args=(raw,), daemon=True)
        self.worker.start()

    def _copy_all(self, raw: Any) -> None:
        """Run the queued COPY statements: a statement, its chunks, the end marker, and so on."""
        try:
            with raw:
                while (statement := self.jobs.get()) is not None:
                    with raw.copy(statement) as copy:
                        while (chunk := self.jobs.get()) is not _END_OF_TABLE:
                            if chunk is _ABORT:
                                raise RuntimeError("demo load aborted")
                            copy.write(chunk)
        except BaseException as exc:
            self.error = exc

    def _put(self, job: Any) -> None:
        assert self.worker is not None
        while True:
            if self.error is not None:
                raise RuntimeError("demo load failed while copying rows") from self.error
            try:
                self.jobs.put(job, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self, failed: bool = False) -> None:
        """Wait for the queued rows; on failure, make the worker give up its COPY first."""
        if self.worker is None:
            return
        worker, self.worker = self.worker, None
        while worker.is_alive():
            try:
                self.jobs.put(_ABORT if failed else None, timeout=0.2)
                break
            except queue.Full:
                continue
        worker.join()
        if failed:
            return
        if self.error is not None:
            raise RuntimeError("demo load failed while copying rows") from self.error
        if self.deferred:
            with connection.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self.deferred)} DEFERRED")

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
    keys = EnrolmentKey.objects.filter(patient_id__in=demo_patients)
    removed["enrolmentkey"] = keys._raw_delete(keys.db)
    # The safety alerts of demo effects go before the effects they point at.
    from safety.models import SafetyAlert

    alerts = SafetyAlert.objects.filter(adverse_event__call_id__in=demo_calls)
    alert_history = SafetyAlert.history.model.objects.filter(id__in=alerts.values("id"))
    alert_history._raw_delete(alert_history.db)
    removed["safetyalert"] = alerts._raw_delete(alerts.db)
    # A demo follow-up may have been locked and signed on the pages: those rows go first.
    for model in (Signature, PatientLock, *CLINICAL_MODELS):
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
    sites = _site_rows(cohort.sites)
    step("sites", len(sites))
    writer = _Writer(CLINICAL_MODELS)
    try:
        report = _write_rows(cohort, sites, writer, step)
    except BaseException:
        writer.finish(failed=True)
        raise
    writer.finish()
    writer.reset_sequences(CLINICAL_MODELS)
    transaction.on_commit(_refresh_statistics)
    return report


def _refresh_statistics() -> None:
    """Let PostgreSQL's planner see the new row counts at once (autovacuum would, later).

    Run once the load has committed: without it the planner takes the freshly filled tables
    for empty ones and scans them whole. The vacuum marks the new pages all-visible, so that
    the covering indexes (the worklist's) answer from the index alone from the first request.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def _write_rows(
    cohort: DemoCohort, sites: dict[str, Site], writer: _Writer, step: Progress
) -> LoadReport:
    """Build and write the rows of every clinical table, parents first."""
    now = writer.stamp(timezone.now())
    local = ZoneInfo(settings.TIME_ZONE)
    report = LoadReport()

    patients = cohort.patients.reset_index(drop=True)
    codes = pd.Index(patients.study_code)
    patient_base = writer.next_id(Patient)
    patient_ids = patient_base + np.arange(len(patients))
    weight = patients.weight_kg.round(1).to_numpy()
    dn4 = patients.dn4
    site_ids = pd.Series({code: site.pk for code, site in sites.items()})
    report.counts["patients"] = writer.insert(
        Patient,
        _table(
            {
                "id": patient_ids,
                "study_code": patients.study_code,
                "site_id": site_ids.to_numpy()[
                    _positions(site_ids.index, pd.Index(patients.site_code), "Patients")
                ],
                "sex": patients.sex,
                "age": patients.age.astype(np.int64),
                "inclusion_date": _days(patients.inclusion_date),
                "consent_date": _days(patients.consent_date),
                "weight_kg": weight,
                "etiology": patients.etiology,
                "pain_duration_months": patients.pain_duration_months.astype(np.int64),
                "comorbidities": np.array(
                    [json.dumps(list(c)) for c in patients.comorbidities], dtype=object
                ),
                "ketamine_naive": patients.ketamine_naive,
                "dn4": dn4,
                "dn4_missing_reason": np.where(
                    dn4.isna().to_numpy() & (patients.etiology == "fibromyalgia").to_numpy(),
                    "not_applicable",
                    "",
                ).astype(object),
                "paroxysms_per_day": patients.paroxysms_per_day,
                "status": patients.status,
                "status_date": _days(patients.status_date),
                "status_reason": _text(patients.status_reason),
                "call_from": None,
                "call_to": None,
                "call_days": "",
                "call_note": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("patients", report.counts["patients"])
    report.counts["contacts"] = writer.insert(
        PatientContact,
        _table(
            {
                "id": writer.next_id(PatientContact) + np.arange(len(patients)),
                "patient_id": patient_ids,
                "first_name": np.array([encrypt(v) for v in patients.first_name], dtype=object),
                "last_name": np.array([encrypt(v) for v in patients.last_name], dtype=object),
                "phone": np.array([encrypt(v) for v in patients.phone], dtype=object),
                "phone_alt": "",
                "preferred_call_time": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("contacts", report.counts["contacts"])

    administrations = cohort.administrations.reset_index(drop=True)
    owner = _positions(codes, pd.Index(administrations.study_code), "Administrations")
    kg = weight[owner]
    days = administrations.days.to_numpy(dtype=np.int64)
    # Whole hundredths keep dose and total exact; k / 100 as a float prints back as k / 100.
    cents = _daily_cents(administrations.dose_unit, administrations.dose_value, kg)
    report.counts["administrations"] = writer.insert(
        KetamineAdministration,
        _table(
            {
                "id": writer.next_id(KetamineAdministration) + np.arange(len(administrations)),
                "patient_id": patient_ids[owner],
                "date": _days(administrations.date),
                "route": administrations.route,
                "dose_unit": administrations.dose_unit,
                "dose_value": administrations.dose_value.to_numpy(dtype=float),
                "weight_kg": kg,
                "dose_mg": cents / 100,
                "days": days,
                "total_mg": cents * days / 100,
                "infusion_minutes": administrations.infusion_minutes,
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("administrations", report.counts["administrations"])

    calls = cohort.calls.reset_index(drop=True)
    call_keys = _call_keys(calls)
    call_ids = writer.next_id(FollowUpCall) + np.arange(len(calls))
    timepoint = calls.timepoint
    before, after = _window_offsets(timepoint.unique())
    target = calls.target_date.dt.normalize()
    reached = (calls.status == "reached").to_numpy()
    call_day = calls.call_date.dt.normalize().where(reached)
    report.counts["calls"] = writer.insert(
        FollowUpCall,
        _table(
            {
                "id": call_ids,
                "patient_id": patient_ids[_positions(codes, pd.Index(calls.study_code), "Calls")],
                "timepoint": timepoint,
                "sequence": timepoint.map(TIMEPOINT_ORDER).astype(np.int64),
                "target_date": _days(target),
                "window_start": _days(
                    target - pd.to_timedelta(timepoint.map(before).astype(np.int64), unit="D")
                ),
                "window_end": _days(
                    target + pd.to_timedelta(timepoint.map(after).astype(np.int64), unit="D")
                ),
                "status": calls.status,
                "status_reason": "",
                "call_date": _days(call_day),
                "completed_at": writer.stamps(
                    (call_day + pd.Timedelta(hours=12)).dt.tz_localize(local)
                ),
                "completed_by_id": None,
                "needs_review": False,
                "review_reasons": "[]",
                "notes": "",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("calls", report.counts["calls"])

    attempts = cohort.attempts.reset_index(drop=True)
    report.counts["attempts"] = writer.insert(
        CallAttempt,
        _table(
            {
                "id": writer.next_id(CallAttempt) + np.arange(len(attempts)),
                "call_id": call_ids[_positions(call_keys, _call_keys(attempts), "Attempts")],
                # Local wall times; calls are made in daytime, so no DST gap or overlap occurs.
                "attempted_at": writer.stamps(attempts["at"].dt.tz_localize(local)),
                "by_id": None,
                "outcome": attempts.outcome,
                "note": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("attempts", report.counts["attempts"])

    report.counts.update(_load_responses(writer, calls, call_ids, now))
    step("questionnaires", report.counts["nprs"] + report.counts["hads"] + report.counts["sf12"])

    events = cohort.adverse_events.reset_index(drop=True)
    report.counts["adverse_events"] = writer.insert(
        AdverseEvent,
        _table(
            {
                "id": writer.next_id(AdverseEvent) + np.arange(len(events)),
                "call_id": call_ids[_positions(call_keys, _call_keys(events), "Adverse events")],
                "type": events.type,
                "other_text": _text(events.other_text),
                "severity": events.severity,
                "serious": events.serious.astype(bool),
                **{
                    f"criterion_{code}": events.criterion.eq(code).to_numpy()
                    for code in voc.codes(voc.SERIOUSNESS_CRITERIA)
                },
                "start_date": None,
                "relation": events.relation.fillna("").to_numpy(),
                "expected": np.where(
                    events.type.eq("other"), None, events.type.isin(_expected_types())
                ),
                "action_taken": "",
                "outcome": events.outcome.to_numpy(),
                "resolution_date": None,
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("adverse events", report.counts["adverse_events"])
    treatments = cohort.treatments.reset_index(drop=True)
    report.counts["treatments"] = writer.insert(
        ConcomitantTreatment,
        _table(
            {
                "id": writer.next_id(ConcomitantTreatment) + np.arange(len(treatments)),
                "call_id": call_ids[_positions(call_keys, _call_keys(treatments), "Treatments")],
                "kind": treatments.kind,
                "code": treatments.code,
                "name": "",
                "other_text": "",
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    step("treatments", report.counts["treatments"])
    return report


def _expected_types() -> list[str]:
    from safety.models import ExpectedEffect

    return list(ExpectedEffect.objects.values_list("type", flat=True))


def _load_responses(
    writer: _Writer, calls: pd.DataFrame, call_ids: np.ndarray, now: str
) -> dict[str, int]:
    """Insert the NPRS, HADS and SF-12 rows of every call that has values or a reason.

    Only reached calls store reasons: those of calls not made are derived when read.
    """
    counts = {}
    made = calls.status.eq("reached")
    calls = calls.assign(
        **{
            f"{name}_missing_reason": calls[f"{name}_missing_reason"].where(made, None)
            for name in ("nprs", "hads", "sf12")
        }
    )
    reason = calls.nprs_missing_reason.fillna("")
    rows = (calls.nprs_mean.notna() | calls.nprs_max.notna() | (reason != "")).to_numpy()
    counts["nprs"] = writer.insert(
        NprsResponse,
        _table(
            {
                "id": writer.next_id(NprsResponse) + np.arange(rows.sum()),
                "call_id": call_ids[rows],
                "mean": calls.nprs_mean[rows],
                "maximum": calls.nprs_max[rows],
                "missing_reason": _text(reason[rows]),
                "item_reasons": "{}",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )

    def answered(name: str, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
        """Return which calls get a row, their answers, and the answers as ints (-1 missing)."""
        reason = calls[f"{name}_missing_reason"].fillna("")
        values = calls[columns]
        rows = (values.notna().any(axis=1) | (reason != "")).to_numpy()
        values = values[rows]
        codes = values.astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
        return rows, values, codes

    rows, values, codes = answered("hads", HADS_COLUMNS)
    items = {f"item_{n}": values[f"hads_{n}"] for n in range(1, 15)}
    # The subscales are scored apart, so each is scored once per distinct set of seven answers.
    (anxiety,) = _score_rows(codes[:, [n - 1 for n in hads.ANXIETY_ITEMS]], _anxiety, 1)
    (depression,) = _score_rows(codes[:, [n - 1 for n in hads.DEPRESSION_ITEMS]], _depression, 1)
    counts["hads"] = writer.insert(
        HadsResponse,
        _table(
            {
                "id": writer.next_id(HadsResponse) + np.arange(rows.sum()),
                "call_id": call_ids[rows],
                **items,
                "anxiety": anxiety,
                "depression": depression,
                "missing_reason": _text(calls.hads_missing_reason[rows]),
                "item_reasons": "{}",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )

    rows, values, codes = answered("sf12", SF12_COLUMNS)
    items = {c.removeprefix("sf12_"): values[c] for c in SF12_COLUMNS}
    given = calls.get(SF12_ITEM_REASONS)
    sf12_item_reasons = (
        np.array([json.dumps(r) if r else "{}" for r in given[rows]], dtype=object)
        if given is not None
        else "{}"
    )
    pcs, mcs = _score_rows(codes, _sf12_scores, 2)
    counts["sf12"] = writer.insert(
        Sf12Response,
        _table(
            {
                "id": writer.next_id(Sf12Response) + np.arange(rows.sum()),
                "call_id": call_ids[rows],
                **items,
                "pcs": pcs,
                "mcs": mcs,
                "missing_reason": _text(calls.sf12_missing_reason[rows]),
                "item_reasons": sf12_item_reasons,
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
    return counts
