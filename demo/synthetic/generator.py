"""Assemble the demo cohort: frames of sites, patients, administrations, calls, attempts, adverse
events and treatments, plus the truth they were drawn from."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from demo.synthetic import faults, params
from demo.synthetic.baseline import COMORBIDITY_CODES, ETIOLOGY_CODES, Population, draw_population
from demo.synthetic.calls import CallPlan, plan_calls
from demo.synthetic.dosing import administrations_frame, draw_dosing
from demo.synthetic.events import LongRows, adverse_events, effect_courses, treatments
from demo.synthetic.frames import calls_frame, cut_at
from demo.synthetic.identity import make_sites, names_and_phones, study_codes
from demo.synthetic.outcomes import TIMEPOINT_CODES, expected_structure, simulate

# Named random streams: each part of the cohort has its own, so that changing one part leaves
# the draws of the others unchanged for a given seed.
STREAMS = (
    "sites",
    "population",
    "names",
    "dosing",
    "outcomes",
    "calls",
    "items",
    "events",
    "plant",
    "safety",
)


@dataclass
class DemoCohort:
    """A synthetic cohort: one DataFrame per table, and the truth it was drawn from."""

    sites: pd.DataFrame
    patients: pd.DataFrame
    administrations: pd.DataFrame
    calls: pd.DataFrame
    attempts: pd.DataFrame
    adverse_events: pd.DataFrame
    treatments: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)

    def to_truth_json(self, path: str | Path) -> None:
        """Write the truth (parameters, structure, per-patient latent values) as JSON."""
        Path(path).write_text(json.dumps(self.truth, default=_json_default, indent=1))


# Fault kinds that ``plant`` may ask for: name -> function(cohort, count, rng) that alters the
# cohort in place and returns a description of each planted fault (see ``demo.synthetic.faults``).
FaultPlanter = Callable[[DemoCohort, int, np.random.Generator], list[dict[str, Any]]]
FAULT_KINDS: dict[str, FaultPlanter] = dict(faults.PLANTERS)


def plant_faults(cohort: DemoCohort, plant: dict[str, int], rng: np.random.Generator) -> None:
    """Plant a known number of data-quality faults of each kind and record them in the truth.

    Hook for data-quality tests: ``plant`` maps a fault kind of ``FAULT_KINDS`` to how many
    faults of that kind to plant. Each planter alters the frames in place and returns one
    description per fault (table, row key, column, original and planted value), stored under
    ``truth["planted"][kind]``. An unknown kind, or more faults than candidates, raises
    ValueError.
    """
    unknown = sorted(set(plant) - set(FAULT_KINDS))
    if unknown:
        known = ", ".join(sorted(FAULT_KINDS))
        raise ValueError(f"unknown fault kinds {unknown}; known kinds: {known}")
    planted = cohort.truth.setdefault("planted", {})
    for kind, count in plant.items():
        planted[kind] = FAULT_KINDS[kind](cohort, count, rng)


def generate(
    n_patients: int = 329,
    seed: int = 0,
    *,
    enrolment_start: dt.date = dt.date(2016, 7, 7),
    enrolment_end: dt.date = dt.date(2017, 9, 21),
    as_of: dt.date | None = None,
    plant: dict[str, int] | None = None,
) -> DemoCohort:
    """Generate a synthetic cohort of ``n_patients`` with known truth; same seed, same frames.

    ``as_of`` cuts the cohort at a date: patients included later are left out, calls not yet
    resolved are "due" without values, and statuses are those known on that date.
    ``plant`` asks for known data-quality faults (see ``plant_faults``).
    """
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    if enrolment_end < enrolment_start:
        raise ValueError("enrolment_end is before enrolment_start")
    seqs = np.random.SeedSequence(seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs, strict=True)}

    sites, site_weights, site_mg_per_kg = make_sites(rng["sites"])
    pop = draw_population(
        rng["population"], n_patients, site_weights, enrolment_start, enrolment_end
    )
    codes = study_codes(pop.site, pop.inclusion.astype(np.int64))
    first, last, phones = names_and_phones(rng["names"], pop.woman)
    structure = expected_structure()
    out = simulate(rng["outcomes"], pop, structure)
    plan = plan_calls(rng["calls"], pop.inclusion)

    dosing = draw_dosing(rng["dosing"], pop.weight, site_mg_per_kg[pop.site])
    start = pop.inclusion[dosing.patient]
    course_day = start + dosing.offset_days.astype("timedelta64[D]")
    ended = plan.drop_tp[dosing.patient] < params.N_TIMEPOINTS
    keep = ~ended | (course_day <= plan.status_date[dosing.patient]) | (dosing.course < 2)
    administrations = administrations_frame(dosing, keep, codes, pop.inclusion)
    cumulative = np.bincount(
        dosing.patient[keep], weights=(dosing.dose_mg * dosing.days)[keep], minlength=pop.n
    )

    reached = plan.status == "reached"
    calls, attempts = calls_frame(rng["items"], codes, plan, out)
    ae = adverse_events(rng["events"], reached)
    tr = treatments(rng["events"], pop.woman, reached)
    patients = _patients_frame(pop, codes, sites, plan, first, last, phones)

    truth = _truth(n_patients, seed, enrolment_start, enrolment_end, as_of, structure)
    truth["patients"] = {
        "study_code": codes.tolist(),
        "latent_group": (pop.group + 1).tolist(),
        "t1_responder": pop.responder.tolist(),
        "route": dosing.route.tolist(),
        "cumulative_dose_mg": np.round(cumulative, 1).tolist(),
        "depression_trait": np.round(pop.d_trait, 3).tolist(),
        "anxiety_trait": np.round(pop.a_trait, 3).tolist(),
        "dropout_timepoint": [
            TIMEPOINT_CODES[t] if t < params.N_TIMEPOINTS else None for t in plan.drop_tp
        ],
    }
    cohort = DemoCohort(
        sites=sites,
        patients=patients,
        administrations=administrations,
        calls=calls,
        attempts=attempts,
        adverse_events=_long_frame(ae, codes),
        treatments=_long_frame(tr, codes),
        truth=truth,
    )
    if as_of is not None:
        cohort = cut_at(cohort, as_of)
    cohort.adverse_events = effect_courses(rng["safety"], cohort.adverse_events, cohort.calls)
    # What the data-quality rules find before any fault is planted (realistic, kept).
    cohort.truth["natural"] = faults.natural_findings(cohort)
    if plant:
        plant_faults(cohort, plant, rng["plant"])
    return cohort


def _patients_frame(
    pop: Population,
    codes: np.ndarray,
    sites: pd.DataFrame,
    plan: CallPlan,
    first: np.ndarray,
    last: np.ndarray,
    phones: np.ndarray,
) -> pd.DataFrame:
    comorbidity_codes = np.array(COMORBIDITY_CODES, dtype=object)
    comorbidities = [tuple(comorbidity_codes[row]) for row in pop.comorbid]
    status = np.where(plan.drop_kind == "", "completed", plan.drop_kind).astype(object)
    return pd.DataFrame(
        {
            "study_code": codes,
            "site_code": sites["code"].to_numpy()[pop.site],
            "sex": np.where(pop.woman, "F", "M").astype(object),
            "age": pop.age,
            "inclusion_date": pd.to_datetime(pop.inclusion),
            "consent_date": pd.to_datetime(pop.consent),
            "weight_kg": pop.weight,
            "etiology": np.array(ETIOLOGY_CODES, dtype=object)[pop.etiology],
            "pain_duration_months": pop.pain_duration,
            "comorbidities": comorbidities,
            "ketamine_naive": pop.naive,
            "dn4": pd.array(pop.dn4, dtype="Int64"),
            "paroxysms_per_day": pd.array(pop.paroxysms, dtype="Int64"),
            "status": status,
            "status_date": pd.to_datetime(plan.status_date),
            "status_reason": plan.status_reason,
            "first_name": first,
            "last_name": last,
            "phone": phones,
            "latent_group": pop.group + 1,
        }
    )


def _long_frame(rows: LongRows, codes: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "study_code": codes[rows.patient],
            "timepoint": np.array(TIMEPOINT_CODES, dtype=object)[rows.tp],
        }
    )
    for name, values in rows.columns.items():
        frame[name] = values
    return frame


def _truth(
    n: int,
    seed: int,
    start: dt.date,
    end: dt.date,
    as_of: dt.date | None,
    structure: dict[str, Any],
) -> dict[str, Any]:
    constants = {
        name: _jsonable(getattr(params, name))
        for name in dir(params)
        if name.isupper() and not name.startswith("_")
    }
    return {
        "paper": params.PAPER,
        "seed": seed,
        "n_patients": n,
        "enrolment": [start.isoformat(), end.isoformat()],
        "as_of": as_of.isoformat() if as_of else None,
        "parameters": constants,
        "structure": structure,
        "mediation": {
            "proportion_mediated": structure["proportion_mediated"],
            "beta_depression_to_pain": structure["beta_depression_to_pain"],
            "how": (
                "Pain follows the measured HADS-D score S: indirect(t) = beta * mean over the "
                "non-responders of E[S_t - S_0]; total(t) = M(t); beta is chosen so that the "
                "indirect change averaged over W1..M12 is PROPORTION_MEDIATED of the total "
                "change averaged over W1..M12 (time as categories, equal weights). Dose effect "
                "is exactly zero."
            ),
            "by_timepoint": structure["proportion_mediated_by_timepoint"],
            "indirect_mean": structure["indirect_mean"],
            "total_mean": structure["total_mean"],
        },
        "planted": {},
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
