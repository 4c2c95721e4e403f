"""The second study's demo: the synthetic Lan et al. 2022 trial in its own demo site.

``lan_demo`` places a ``trials.lan2022.synthetic`` trial in time (staggered inclusions, a cut
after which nothing has happened yet); ``insert_lan`` writes it set-based, as the first study's
loader does: patients without a pain history, their depression baseline, the six infusions,
the calls of the study's visits, the MADRS at each visit reached, the SF-MPQ at baseline and the
adverse effects. The mapping from the synthetic frames is written once here and read back by
``analytics.lan_dataset`` (docs/lan2022.md, "The demo"):

* the day of a visit or an infusion is counted from the inclusion, which is the day of the first
  infusion (the baseline MADRS is rated before it);
* "two or more antidepressants" is stored as a count, 2 when true and 1 when false (every
  patient of a treatment-resistant depression trial takes at least one);
* the MADRS items and the SF-MPQ descriptors are drawn at random so that they add up to the
  synthetic totals (sensory: descriptors 1-11, affective: 12-15);
* an adverse effect of an infusion is reported at the next morning's visit (its call), its onset
  on the day of the infusion, mild, resolved that day; ``perceptual_disturbance``, which the
  vocabulary does not have, is an "other" effect described "Perceptual disturbance".

The age is not part of the synthetic trial: it is drawn (N(42, 12), 18 to 75) for the demo only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings

from analytics.lan_dataset import SYMPTOM_OF_TYPE
from cohort.models import KetamineAdministration, Patient, Site, Study, dose_in_mg
from demo.loader.frames import iso_dates, table
from demo.loader.writer import RowWriter
from followup.models import (
    TIMEPOINT_ORDER,
    AdverseEvent,
    DepressionBaseline,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
)
from followup.validators import CRITERION_FIELDS
from trials import definitions
from trials.lan2022 import synthetic

KEY = "lan2022"
STUDY_CODE = "LAN2022"
SITES: tuple[tuple[str, str, str], ...] = (("GZBH", "Guangzhou Brain Hospital", "Guangzhou"),)
# A complete demo starts here; an ongoing one ends its inclusions a few days before the cut.
COMPLETE_START = dt.date(2017, 3, 6)
INCLUSION_EVERY_DAYS = 3
ONGOING_LAST_INCLUSION_DAYS = 5
RATER = "Demo rater"
MG_PER_KG = Decimal("0.5")
# The synthetic symptoms in the adverse-effect vocabulary; "other" is described by its text.
_TYPE_OF_SYMPTOM = {symptom: kind for kind, symptom in SYMPTOM_OF_TYPE.items()}
EFFECT_TYPES: dict[str, str] = {
    symptom: _TYPE_OF_SYMPTOM.get(symptom, symptom)
    for symptom in ("dissociation", "dizziness", "blurred_vision", "headache", "nausea")
}
OTHER_EFFECTS: dict[str, str] = {"perceptual_disturbance": "Perceptual disturbance"}
LAN_MODELS = (
    Patient,
    DepressionBaseline,
    KetamineAdministration,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
    AdverseEvent,
)


@dataclass(frozen=True)
class LanDemo:
    """A synthetic trial placed in time: each patient's inclusion and the day of the cut."""

    trial: synthetic.Trial
    inclusion: pd.Series  # inclusion date (datetime64) by synthetic patient number
    age: pd.Series  # by synthetic patient number
    cut: dt.date | None  # nothing after this day has happened yet; None: the trial is over


def lan_demo(seed: int = 0, *, ongoing_until: dt.date | None = None) -> LanDemo:
    """Generate the trial of ``seed`` and stagger its inclusions (in a random order).

    With ``ongoing_until`` the last patient is included a few days before it and the patients
    included in the last four weeks are mid-course; without it every visit has happened.
    """
    trial = synthetic.generate(seed)
    numbers = trial.patients["patient"].to_numpy()
    rng = np.random.default_rng([seed, 2022])
    rank = rng.permutation(len(numbers))
    if ongoing_until is None:
        first = COMPLETE_START
    else:
        last = ongoing_until - dt.timedelta(days=ONGOING_LAST_INCLUSION_DAYS)
        first = last - dt.timedelta(days=INCLUSION_EVERY_DAYS * (len(numbers) - 1))
    dates = pd.Timestamp(first) + pd.to_timedelta(rank * INCLUSION_EVERY_DAYS, unit="D")
    age = np.clip(np.round(rng.normal(42.0, 12.0, len(numbers))), 18, 75).astype(np.int64)
    return LanDemo(
        trial,
        pd.Series(dates, index=numbers),
        pd.Series(age, index=numbers),
        ongoing_until,
    )


def study_code(site: str, number: int) -> str:
    """Return the study code of the synthetic patient ``number``."""
    return f"{site}-{number:04d}"


def split_total(rng: np.random.Generator, totals: np.ndarray, items: int, top: int) -> np.ndarray:
    """Return ``items`` ratings 0..``top`` per row, at random, adding up to each row's total."""
    slots = items * top
    if (totals < 0).any() or (totals > slots).any():
        raise ValueError("a total is out of the instrument's range")
    order = np.argsort(rng.random((len(totals), slots)), axis=1)
    taken = order < totals[:, None].astype(np.int64)
    # Slot k belongs to item k // top: count the slots taken per item.
    return taken.reshape(len(totals), items, top).sum(axis=2)


def _happened(dates: pd.Series, cut: dt.date | None) -> np.ndarray:
    return (
        np.ones(len(dates), dtype=bool) if cut is None else (dates <= pd.Timestamp(cut)).to_numpy()
    )


def _dated(frame: pd.DataFrame, inclusion: pd.Series) -> pd.Series:
    return frame["patient"].map(inclusion) + pd.to_timedelta(frame["day"], unit="D")


def upsert_lan_sites() -> dict[str, Site]:
    """Create the second study when missing and its demo sites (``is_demo``); return the sites."""
    study, _created = Study.objects.get_or_create(
        code=STUDY_CODE,
        defaults={"name": definitions.load(KEY).reference.split(",")[0], "definition": KEY},
    )
    sites = {}
    for code, name, city in SITES:
        sites[code], _new = Site.objects.update_or_create(
            code=code, defaults={"name": name, "city": city, "is_demo": True, "study": study}
        )
    return sites


def insert_lan(demo: LanDemo, sites: dict[str, Site], now: str) -> dict[str, int]:
    """Write the trial into the first demo site of the study; return the rows written per kind."""
    writer = RowWriter(LAN_MODELS)
    try:
        counts = _write(demo, next(iter(sites.values())), writer, now)
    except BaseException:
        writer.finish(failed=True)
        raise
    writer.finish()
    writer.reset_sequences(LAN_MODELS)
    return counts


def _write(demo: LanDemo, site: Site, writer: RowWriter, now: str) -> dict[str, int]:
    trial = demo.trial
    rng = np.random.default_rng([trial.seed, 26])
    patients = trial.patients.reset_index(drop=True)
    ids = pd.Series(writer.next_id(Patient) + np.arange(len(patients)), index=patients["patient"])
    counts = {"lan_patients": _insert_patients(writer, demo, site, ids, now)}
    counts["lan_baselines"] = _insert_baselines(writer, patients, ids, now)
    counts["lan_infusions"] = _insert_infusions(writer, demo, ids, now)
    calls = _calls(demo)
    call_ids = writer.next_id(FollowUpCall) + np.arange(len(calls))
    counts["lan_calls"] = _insert_calls(writer, calls, call_ids, ids, now)
    counts["lan_madrs"] = _insert_madrs(writer, rng, calls, ids, now)
    counts["lan_sf_mpq"] = _insert_sf_mpq(writer, rng, demo, ids, now)
    call_of = pd.Series(call_ids, index=pd.MultiIndex.from_frame(calls[["patient", "day"]]))
    counts["lan_adverse_events"] = _insert_adverse(writer, demo, call_of, now)
    return counts


def _insert_patients(writer: RowWriter, demo: LanDemo, site: Site, ids: pd.Series, now: str) -> int:
    patients = demo.trial.patients
    number = patients["patient"]
    inclusion = number.map(demo.inclusion)
    last_visit = inclusion + pd.Timedelta(days=synthetic.MADRS_DAYS[-1])
    over = _happened(last_visit, demo.cut)
    return writer.insert(
        Patient,
        table(
            {
                "id": ids.to_numpy(),
                "study_code": np.array([study_code(site.code, int(k)) for k in number], object),
                "site_id": site.pk,
                "sex": np.where(patients["men"], "M", "F").astype(object),
                "age": number.map(demo.age).to_numpy(dtype=np.int64),
                "inclusion_date": iso_dates(inclusion),
                "consent_date": iso_dates(inclusion),
                "weight_kg": patients["weight_kg"].round(1).to_numpy(),
                "etiology": "",
                "pain_duration_months": None,
                "comorbidities": json.dumps([]),
                "ketamine_naive": None,
                "dn4": None,
                "dn4_missing_reason": "",
                "paroxysms_per_day": None,
                "status": np.where(over, "completed", "active").astype(object),
                "status_date": iso_dates(last_visit.where(over)),
                "status_reason": "",
                "call_from": None,
                "call_to": None,
                "call_days": "",
                "call_note": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def _insert_baselines(writer: RowWriter, patients: pd.DataFrame, ids: pd.Series, now: str) -> int:
    return writer.insert(
        DepressionBaseline,
        table(
            {
                "id": writer.next_id(DepressionBaseline) + np.arange(len(patients)),
                "patient_id": ids.to_numpy(),
                "pain_group": patients["pain_group"].astype(object),
                "suicidality": patients["suicidality"].to_numpy(dtype=bool),
                "antidepressants": np.where(patients["two_or_more_antidepressants"], 2, 1),
                "mood_stabilisers": patients["mood_stabilizers"].to_numpy(dtype=bool),
                "benzodiazepines": patients["benzodiazepines"].to_numpy(dtype=bool),
                "antipsychotics": patients["antipsychotics"].to_numpy(dtype=bool),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def _insert_infusions(writer: RowWriter, demo: LanDemo, ids: pd.Series, now: str) -> int:
    infusions = demo.trial.infusions
    dates = _dated(infusions, demo.inclusion)
    given = infusions.loc[_happened(dates, demo.cut)].reset_index(drop=True)
    weight = given["patient"].map(demo.trial.patients.set_index("patient")["weight_kg"]).round(1)
    mg = np.array(
        [
            float(dose_in_mg(unit="mg_per_kg", value=MG_PER_KG, weight_kg=Decimal(str(w))))
            for w in weight
        ]
    )
    return writer.insert(
        KetamineAdministration,
        table(
            {
                "id": writer.next_id(KetamineAdministration) + np.arange(len(given)),
                "patient_id": given["patient"].map(ids).to_numpy(),
                "date": iso_dates(_dated(given, demo.inclusion)),
                "route": "iv",
                "dose_unit": "mg_per_kg",
                "dose_value": float(MG_PER_KG),
                "weight_kg": weight.to_numpy(),
                "dose_mg": mg,
                "days": 1,
                "total_mg": mg,
                "infusion_minutes": given["minutes"].to_numpy(dtype=np.int64),
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def _calls(demo: LanDemo) -> pd.DataFrame:
    """Return every planned visit with its code, date, window and the status of its call."""
    visits = definitions.load(KEY).visits
    by_day = {v.days: v for v in visits}
    calls = demo.trial.visits.reset_index(drop=True).copy()
    calls["code"] = calls["day"].map({d: v.code for d, v in by_day.items()})
    calls["date"] = _dated(calls, demo.inclusion)
    happened = _happened(calls["date"], demo.cut)
    calls["happened"] = happened
    reached = happened & calls["madrs"].notna().to_numpy()
    calls["status"] = np.select([reached, happened], ["reached", "unreachable"], "due")
    calls["before"] = calls["day"].map({d: v.before for d, v in by_day.items()})
    calls["after"] = calls["day"].map({d: v.after for d, v in by_day.items()})
    return calls


def _insert_calls(
    writer: RowWriter, calls: pd.DataFrame, call_ids: np.ndarray, ids: pd.Series, now: str
) -> int:
    local = ZoneInfo(settings.TIME_ZONE)
    reached = calls["status"].eq("reached").to_numpy()
    call_day = calls["date"].where(reached)
    return writer.insert(
        FollowUpCall,
        table(
            {
                "id": call_ids,
                "patient_id": calls["patient"].map(ids).to_numpy(),
                "timepoint": calls["code"].astype(object),
                "sequence": calls["code"].map(TIMEPOINT_ORDER).to_numpy(dtype=np.int64),
                "target_date": iso_dates(calls["date"]),
                "window_start": iso_dates(calls["date"] - pd.to_timedelta(calls["before"], "D")),
                "window_end": iso_dates(calls["date"] + pd.to_timedelta(calls["after"], "D")),
                "status": calls["status"].astype(object),
                "status_reason": "",
                "call_date": iso_dates(call_day),
                "completed_at": writer.stamps(
                    (call_day + pd.Timedelta(hours=9)).dt.tz_localize(local)
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


def _assessment_columns(
    writer: RowWriter,
    model: type[MadrsAssessment | SfMpqAssessment],
    rated: pd.DataFrame,
    ids: pd.Series,
    now: str,
) -> dict[str, Any]:
    return {
        "id": writer.next_id(model) + np.arange(len(rated)),
        "patient_id": rated["patient"].map(ids).to_numpy(),
        "visit_code": rated["code"].astype(object),
        "assessed_on": iso_dates(rated["date"]),
        "version": 1,
        "voided_at": None,
        "void_reason": "",
        "created_at": now,
        "updated_at": now,
    }


def _insert_madrs(
    writer: RowWriter, rng: np.random.Generator, calls: pd.DataFrame, ids: pd.Series, now: str
) -> int:
    rated = calls.loc[calls["status"].eq("reached")].reset_index(drop=True)
    items = split_total(rng, rated["madrs"].to_numpy(dtype=np.int64), 10, 6)
    return writer.insert(
        MadrsAssessment,
        table(
            _assessment_columns(writer, MadrsAssessment, rated, ids, now)
            | {"rater": RATER}
            | {f"item_{n}": items[:, n - 1] for n in range(1, 11)}
            | {"total": items.sum(axis=1)}
        ),
    )


def _insert_sf_mpq(
    writer: RowWriter, rng: np.random.Generator, demo: LanDemo, ids: pd.Series, now: str
) -> int:
    patients = demo.trial.patients.reset_index(drop=True)
    rated = pd.DataFrame({"patient": patients["patient"], "code": "BL", "day": 0})
    rated["date"] = _dated(rated, demo.inclusion)
    sensory = split_total(rng, patients["sensory"].to_numpy(dtype=np.int64), 11, 3)
    affective = split_total(rng, patients["affective"].to_numpy(dtype=np.int64), 4, 3)
    descriptors = np.hstack([sensory, affective])
    return writer.insert(
        SfMpqAssessment,
        table(
            _assessment_columns(writer, SfMpqAssessment, rated, ids, now)
            | {f"descriptor_{n}": descriptors[:, n - 1] for n in range(1, 16)}
            | {
                "vas_mm": patients["vas"].to_numpy(dtype=np.int64),
                "ppi": patients["ppi"].to_numpy(dtype=np.int64),
                "sensory": sensory.sum(axis=1),
                "affective": affective.sum(axis=1),
                "total": descriptors.sum(axis=1),
            }
        ),
    )


def _insert_adverse(writer: RowWriter, demo: LanDemo, call_of: pd.Series, now: str) -> int:
    from safety.models import ExpectedEffect

    adverse = demo.trial.adverse
    onset = _dated(adverse, demo.inclusion)
    effects = adverse.loc[_happened(onset, demo.cut)].reset_index(drop=True)
    onset = _dated(effects, demo.inclusion)
    # Reported at the morning after the infusion: the visit of the next day.
    key = pd.MultiIndex.from_arrays([effects["patient"], effects["day"] + 1])
    kind = effects["symptom"].map(EFFECT_TYPES).fillna("other")
    expected = set(ExpectedEffect.objects.values_list("type", flat=True))
    return writer.insert(
        AdverseEvent,
        table(
            {
                "id": writer.next_id(AdverseEvent) + np.arange(len(effects)),
                "call_id": call_of.reindex(key).to_numpy(dtype=np.int64),
                "type": kind.astype(object),
                "other_text": effects["symptom"].map(OTHER_EFFECTS).fillna("").astype(object),
                "severity": effects["severity"].astype(object),
                "serious": False,
                **dict.fromkeys(CRITERION_FIELDS, False),
                "start_date": iso_dates(onset),
                "relation": "probable",
                "expected": np.array(
                    [None if k == "other" else k in expected for k in kind], dtype=object
                ),
                "action_taken": "",
                "outcome": "recovered",
                "resolution_date": iso_dates(onset),
                "voided_at": None,
                "void_reason": "",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
