"""Simulated multicentre call frames with known truth, for the monitoring tests (pure pandas)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TIMEPOINTS = ["BL", "W1", *[f"M{k}" for k in range(1, 13)]]
START = dt.date(2024, 1, 1)
AS_OF = dt.date(2026, 6, 1)


def simulate(
    seed: int,
    *,
    n_sites: int = 30,
    patients: tuple[int, int] = (6, 25),
    digit_preference: str = "",
    low_spread: str = "",
    baseline_shift: str = "",
    missed_calls: str = "",
) -> pd.DataFrame:
    """Return one row per call of simulated patients; the named sites are made abnormal.

    Pain is stable within a patient (a patient effect), falls after baseline and is rounded to
    0..10; HADS subscales likewise on 0..21. Calls are reached 85% of the time, made a few days
    around their target (about one in ten outside the window).
    """
    rng = np.random.default_rng(seed)
    rows = []
    patient = 0
    for s in range(n_sites):
        site = f"S{s + 1:02d}"
        for _ in range(int(rng.integers(patients[0], patients[1] + 1))):
            patient += 1
            start = START + dt.timedelta(days=int(rng.integers(0, 200)))
            level = rng.normal(6.5, 1.4) + (2.0 if site == baseline_shift else 0.0)
            relief = rng.normal(1.5, 1.0)
            anxiety, depression = rng.normal(9, 3.5), rng.normal(8, 3.5)
            for k, timepoint in enumerate(TIMEPOINTS):
                days = 0 if k == 0 else (7 if k == 1 else 30 * (k - 1))
                target = start + dt.timedelta(days=days)
                before, after = (2, 3) if timepoint == "W1" else (7, 10)
                reach = 0.5 if site == missed_calls else 0.85
                reached = timepoint == "BL" or rng.random() < reach
                status = "reached" if reached else str(rng.choice(["unreachable", "refused"]))
                delay = (
                    int(rng.integers(-4, 8)) if rng.random() < 0.9 else int(rng.integers(11, 20))
                )
                call_date = target + dt.timedelta(days=0 if k == 0 else delay) if reached else None
                pain = level - (relief if k else 0) + rng.normal(0, 1.0)
                hads_a = anxiety + rng.normal(0, 2.0)
                hads_d = depression + rng.normal(0, 2.0)
                if site == low_spread:
                    pain = 5.5 + rng.normal(0, 0.4)
                    hads_a, hads_d = 9 + rng.normal(0, 0.6), 8 + rng.normal(0, 0.6)
                nprs = float(np.clip(np.round(pain), 0, 10))
                if site == digit_preference and rng.random() < 0.4:
                    nprs = 5.0
                rows.append(
                    {
                        "site": site,
                        "patient": patient,
                        "timepoint": timepoint,
                        "status": status,
                        "target_date": target,
                        "window_start": target - dt.timedelta(days=before),
                        "window_end": target + dt.timedelta(days=after),
                        "call_date": call_date,
                        "nprs_mean": nprs if reached else np.nan,
                        "hads_a": float(np.clip(np.round(hads_a), 0, 21)) if reached else np.nan,
                        "hads_d": float(np.clip(np.round(hads_d), 0, 21)) if reached else np.nan,
                    }
                )
    frame = pd.DataFrame(rows)
    for column in ("target_date", "window_start", "window_end", "call_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame
