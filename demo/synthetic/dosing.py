"""Ketamine administrations: route, courses, doses as entered and in mg, dates.

Each patient has one route and one protocol: a daily dose (mg/kg/day, log-normal) given in
courses of one or more consecutive days. ``dose_value`` is the daily dose as the site writes it
(mg or mg/kg, following the site's habit), ``dose_mg`` the same daily dose in mg (mg/kg times
the patient's weight), ``days`` the consecutive days of the course. The cumulative dose of a
patient is therefore ``sum(dose_mg * days)`` over the administrations. Dose has no effect on any
outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from demo.synthetic import params


@dataclass
class Dosing:
    """Administrations (long arrays, one entry per course) and per-patient summaries."""

    patient: np.ndarray  # patient index of each administration
    course: np.ndarray  # 0-based course number within the patient
    offset_days: np.ndarray  # days from the first administration
    route: np.ndarray  # route of each patient (object array of codes)
    unit: np.ndarray  # dose unit of each administration
    value: np.ndarray  # daily dose as entered
    dose_mg: np.ndarray  # daily dose in mg
    minutes: np.ndarray  # infusion minutes (nan when not an infusion)
    days: np.ndarray  # consecutive days of the course


def _total_days(rng: np.random.Generator, route: np.ndarray) -> np.ndarray:
    n = route.size
    values = np.array(list(params.IV_DAYS_PMF))
    probs = np.array(list(params.IV_DAYS_PMF.values()))
    days = rng.choice(values, size=n, p=probs / probs.sum())
    long_course = (route == "oral") | (route == "intranasal")
    other = rng.integers(params.OTHER_DAYS_RANGE[0], params.OTHER_DAYS_RANGE[1] + 1, size=n)
    return np.where(long_course, other, days).astype(np.int64)


def draw_dosing(rng: np.random.Generator, weight: np.ndarray, site_mg_per_kg: np.ndarray) -> Dosing:
    """Draw every administration of ``weight.size`` patients; ``site_mg_per_kg`` is per patient."""
    n = weight.size
    others = list(params.OTHER_ROUTES)
    other_p = np.array(list(params.OTHER_ROUTES.values()))
    route = np.where(
        rng.random(n) < params.P_IV,
        "iv",
        np.array(others, dtype=object)[rng.choice(len(others), size=n, p=other_p / other_p.sum())],
    ).astype(object)
    is_iv = route == "iv"
    total = _total_days(rng, route)

    lengths = np.array(list(params.COURSE_DAYS))
    length_p = np.array(list(params.COURSE_DAYS.values()))
    course_len = rng.choice(lengths, size=n, p=length_p / length_p.sum())
    n_adm = np.clip(
        np.rint(total / course_len), 2, np.minimum(total, params.MAX_ADMINISTRATIONS)
    ).astype(np.int64)

    # Spread the days beyond one per course at random over the courses.
    first_row = np.r_[0, np.cumsum(n_adm)[:-1]]
    rows = int(n_adm.sum())
    extra = total - n_adm
    owner = np.repeat(np.arange(n), extra)
    slot = first_row[owner] + (rng.random(owner.size) * n_adm[owner]).astype(np.int64)
    days = 1 + np.bincount(slot, minlength=rows)
    patient = np.repeat(np.arange(n), n_adm)
    course = np.arange(rows) - first_row[patient]

    # Course start dates: the first on day 0, then a patient-specific interval with jitter.
    room = (330 - total) / np.maximum(n_adm - 1, 1)
    base_gap = rng.uniform(0.25, 1.0, n) * room
    gap = base_gap[patient] * rng.uniform(0.7, 1.3, rows)
    prev_days = np.r_[0, days[:-1]]
    step = np.where(course == 0, 0.0, prev_days + np.maximum(gap, 1.0))
    cum = np.cumsum(step)
    offset = np.rint(cum - cum[first_row][patient]).astype(np.int64)

    median, log_sd = np.where(
        is_iv[:, None],
        np.array(params.IV_DAILY_MG_PER_KG)[None, :],
        np.array(params.OTHER_DAILY_MG_PER_KG)[None, :],
    ).T
    rate = median * np.exp(rng.normal(0.0, 1.0, n) * log_sd)
    per_kg = site_mg_per_kg[patient]
    rate_rows = rate[patient]
    weight_rows = weight[patient]
    value_kg = np.maximum(0.05, np.round(rate_rows * 20) / 20)
    value_mg = np.maximum(5.0, np.round(rate_rows * weight_rows / 5) * 5)
    value = np.where(per_kg, value_kg, value_mg)
    dose_mg = np.where(per_kg, np.round(value_kg * weight_rows, 1), value_mg)
    unit = np.where(per_kg, "mg_per_kg", "mg").astype(object)
    infusion = np.array(params.INFUSION_MINUTES, dtype=float)[
        rng.integers(0, len(params.INFUSION_MINUTES), n)
    ]
    infusion = np.where((route == "iv") | (route == "sc"), infusion, np.nan)
    return Dosing(
        patient=patient,
        course=course,
        offset_days=offset,
        route=route,
        unit=unit,
        value=value,
        dose_mg=dose_mg,
        minutes=infusion[patient],
        days=days,
    )


def administrations_frame(
    dosing: Dosing, keep: np.ndarray, codes: np.ndarray, first_day: np.ndarray
) -> pd.DataFrame:
    """Return the administrations frame for the rows in ``keep`` (bool mask over courses)."""
    p = dosing.patient[keep]
    return pd.DataFrame(
        {
            "study_code": codes[p],
            "date": pd.to_datetime(
                first_day[p] + dosing.offset_days[keep].astype("timedelta64[D]")
            ),
            "route": dosing.route[p],
            "dose_unit": dosing.unit[keep],
            "dose_value": dosing.value[keep],
            "dose_mg": dosing.dose_mg[keep],
            "infusion_minutes": pd.array(dosing.minutes[keep], dtype="Int64"),
            "days": dosing.days[keep],
        }
    )
