"""A synthetic Lan et al. 2022 trial with known truth (pure numpy/pandas, seeded).

Design as published: 104 patients with treatment-resistant depression (54 without pain, 23 with
mild and 27 with severe pain), six infusions of ketamine 0.5 mg/kg over 40 minutes on days
0, 2, 4, 7, 9 and 11 (Monday, Wednesday, Friday for two weeks), the MADRS at baseline (day 0,
before the first infusion), the morning after each infusion (days 1, 3, 5, 8, 10, 12) and on
day 26, the SF-MPQ at baseline.

Truth (:class:`Truth`). A latent pain severity ``s`` is drawn uniformly within the range of the
patient's pain group; the SF-MPQ domains are noisy, rounded and clipped functions of it (VAS
0-100 mm, sensory 0-33, affective 0-12, present pain intensity 0-5, total = sensory + affective).
For patient ``i`` at visit day ``d``::

    MADRS_id = a + b * VAS_i / 10 + u_i + tau_d * (1 + kappa * (VAS_i - VAS_ref) / 10) + e_id

with ``tau_0 = 0``, ``u_i ~ N(0, sd_patient^2)``, ``e_id ~ N(0, sd_residual^2)``. ``kappa`` is
the moderation: each 10 mm of baseline VAS multiplies the improvement by ``1 + kappa``. In a model
``MADRS ~ C(day) + VAS + C(day):VAS`` the true interaction at day ``d`` is ``tau_d * kappa / 10``
per mm, and the true change from baseline of patient ``i`` is ``tau_d * (1 + kappa * (VAS_i -
VAS_ref) / 10)``. ``moderation=0`` gives a trial without moderation (for type-I error checks).

With ``discretise`` (the default) MADRS totals are rounded and clipped to 0..60, as a scale
total is; rounding adds unbiased noise of variance 1/12, clipping at 0 touches a few late visits
of good responders and biases their changes slightly towards zero (docs/lan2022.md gives the
measured effect). Post-baseline visits are missing completely at random at ``missing_rate``;
the baseline visit is always observed. Every patient receives the six infusions; adverse
effects (mild dissociative and psychotomimetic symptoms) occur independently per infusion at
the rates of ``adverse_rates``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

PAIN_GROUPS: tuple[str, ...] = ("none", "mild", "severe")
DOMAINS: tuple[str, ...] = ("vas", "sensory", "affective", "ppi", "total")
INFUSION_DAYS: tuple[int, ...] = (0, 2, 4, 7, 9, 11)
MADRS_DAYS: tuple[int, ...] = (0, 1, 3, 5, 8, 10, 12, 26)
# Published baseline proportions (%) by pain (lan-2022-targets.json, baseline_by_pain).
BASELINE_PCT: dict[str, dict[str, float]] = {
    "men": {"with_pain": 52.0, "without_pain": 48.1},
    "suicidality": {"with_pain": 70.0, "without_pain": 81.5},
    "two_or_more_antidepressants": {"with_pain": 20.0, "without_pain": 14.8},
    "mood_stabilizers": {"with_pain": 28.0, "without_pain": 29.6},
    "benzodiazepines": {"with_pain": 44.0, "without_pain": 51.9},
    "antipsychotics": {"with_pain": 48.0, "without_pain": 57.4},
}
# Probability of each mild adverse effect at one infusion.
ADVERSE_RATES: dict[str, float] = {
    "dissociation": 0.18,
    "dizziness": 0.12,
    "blurred_vision": 0.08,
    "perceptual_disturbance": 0.05,
    "headache": 0.05,
    "nausea": 0.04,
}


def _time_course() -> dict[int, float]:
    return {0: 0.0, 1: -7.0, 3: -10.0, 5: -12.0, 8: -14.0, 10: -15.0, 12: -16.0, 26: -13.0}


@dataclass(frozen=True)
class Truth:
    """Every parameter of the simulation."""

    group_sizes: dict[str, int] = field(
        default_factory=lambda: {"none": 54, "mild": 23, "severe": 27}
    )
    # Range of the latent severity s (0..1) in each pain group.
    severity_range: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"none": (0.0, 0.08), "mild": (0.15, 0.45), "severe": (0.5, 0.9)}
    )
    baseline_pct: dict[str, dict[str, float]] = field(default_factory=lambda: BASELINE_PCT)
    madrs_intercept: float = 25.0  # expected baseline MADRS at VAS 0
    madrs_per_10mm_vas: float = 2.0  # baseline MADRS rises with pain (severe vs mild P < .001)
    sd_patient: float = 4.5
    sd_residual: float = 3.5
    # Expected change from baseline at each MADRS day, for a patient at vas_reference.
    time_course: dict[int, float] = field(default_factory=_time_course)
    moderation: float = 0.08  # kappa: relative extra improvement per 10 mm of VAS
    vas_reference: float = 30.0
    missing_rate: float = 0.05
    discretise: bool = True
    weight_mean_kg: float = 62.0
    weight_sd_kg: float = 10.0
    mg_per_kg: float = 0.5
    infusion_minutes: int = 40
    adverse_rates: dict[str, float] = field(default_factory=lambda: dict(ADVERSE_RATES))

    def multiplier(self, vas: np.ndarray | pd.Series) -> np.ndarray:
        """Return each patient's factor on the reference time course."""
        return 1.0 + self.moderation * (np.asarray(vas, dtype=float) - self.vas_reference) / 10.0

    def interaction_per_mm(self, day: int) -> float:
        """True coefficient of ``C(day)[day]:vas`` in ``MADRS ~ C(day) + vas + C(day):vas``."""
        return self.time_course[day] * self.moderation / 10.0

    def expected_change(self, vas: np.ndarray | pd.Series, day: int) -> np.ndarray:
        """True expected MADRS change from baseline to ``day`` for patients of baseline ``vas``."""
        return self.time_course[day] * self.multiplier(vas)


@dataclass(frozen=True, eq=False)
class Trial:
    """One simulated trial: patients (baseline), MADRS visits, infusions, adverse effects."""

    patients: pd.DataFrame
    visits: pd.DataFrame  # every planned visit; madrs is NaN when missed
    infusions: pd.DataFrame
    adverse: pd.DataFrame  # one row per adverse effect at one infusion
    truth: Truth
    seed: int

    def long(self) -> pd.DataFrame:
        """Return the observed visits with the patient's baseline columns (analysis frame)."""
        observed = self.visits.loc[self.visits["madrs"].notna()]
        return observed.merge(self.patients, on="patient", how="left", validate="many_to_one")

    def estimands(self, groups: tuple[str, ...] = PAIN_GROUPS) -> dict[str, Any]:
        """True values of the analysis's estimands for this trial's patients.

        ``vas_raw``: the ``C(day):vas`` interaction per mm averaged over the post-baseline visits
        (``mean_post``) and at the last visit (``last``). ``groups``: the expected change from
        baseline within each pain group, averaged over its patients (their baseline VAS is
        fixed), with the same two summaries; ``contrasts``: the last group minus each other.
        Before rounding and clipping (see the module docstring).
        """
        truth, days = self.truth, MADRS_DAYS[1:]
        vas = self.patients["vas"].to_numpy(dtype=float)
        per_group: dict[str, dict[str, float]] = {}
        for group in groups:
            mask = (self.patients["pain_group"] == group).to_numpy()
            changes = [float(truth.expected_change(vas[mask], d).mean()) for d in days]
            per_group[group] = {"mean_post": float(np.mean(changes)), "last": changes[-1]}
        top = groups[-1]
        contrasts = {
            f"{top}_vs_{other}": {
                k: per_group[top][k] - per_group[other][k] for k in ("mean_post", "last")
            }
            for other in groups[:-1]
        }
        slopes = [truth.interaction_per_mm(d) for d in days]
        return {
            "vas_raw": {"mean_post": float(np.mean(slopes)), "last": slopes[-1]},
            "groups": per_group,
            "contrasts": contrasts,
        }


def _exact_flags(rng: np.random.Generator, n: int, pct: float) -> np.ndarray:
    """Return ``n`` booleans with exactly ``round(pct% of n)`` true, in random order."""
    flags = np.zeros(n, dtype=bool)
    flags[: round(pct / 100.0 * n)] = True
    return rng.permutation(flags)


def _baseline(rng: np.random.Generator, truth: Truth) -> pd.DataFrame:
    group = np.concatenate([[g] * truth.group_sizes[g] for g in PAIN_GROUPS])
    n = len(group)
    with_pain = group != "none"
    frame = pd.DataFrame({"patient": np.arange(1, n + 1), "pain_group": group})
    for column, pct in truth.baseline_pct.items():
        flags = np.zeros(n, dtype=bool)
        flags[with_pain] = _exact_flags(rng, int(with_pain.sum()), pct["with_pain"])
        flags[~with_pain] = _exact_flags(rng, int((~with_pain).sum()), pct["without_pain"])
        frame[column] = flags
    low = np.array([truth.severity_range[g][0] for g in group])
    high = np.array([truth.severity_range[g][1] for g in group])
    s = rng.uniform(low, high)

    def score(mean: np.ndarray, sd: float, top: int) -> np.ndarray:
        return np.clip(np.round(mean + rng.normal(0.0, sd, n)), 0, top).astype(int)

    frame["vas"] = score(100.0 * s, 5.0, 100)
    frame["sensory"] = score(33.0 * 0.7 * s, 2.0, 33)
    frame["affective"] = score(12.0 * 0.6 * s, 1.0, 12)
    frame["ppi"] = score(5.0 * s, 0.5, 5)
    frame["total"] = frame["sensory"] + frame["affective"]
    frame["weight_kg"] = np.round(rng.normal(truth.weight_mean_kg, truth.weight_sd_kg, n), 1)
    return frame


def _visits(rng: np.random.Generator, truth: Truth, patients: pd.DataFrame) -> pd.DataFrame:
    n, days = len(patients), np.array(MADRS_DAYS)
    vas = patients["vas"].to_numpy(dtype=float)
    level = truth.madrs_intercept + truth.madrs_per_10mm_vas * vas / 10.0
    level = level + rng.normal(0.0, truth.sd_patient, n)
    tau = np.array([truth.time_course[int(d)] for d in days])
    mean = level[:, None] + tau[None, :] * truth.multiplier(vas)[:, None]
    madrs = mean + rng.normal(0.0, truth.sd_residual, (n, len(days)))
    if truth.discretise:
        madrs = np.clip(np.round(madrs), 0, 60)
    missed = rng.random((n, len(days))) < truth.missing_rate
    missed[:, 0] = False
    madrs[missed] = np.nan
    return pd.DataFrame(
        {
            "patient": np.repeat(patients["patient"].to_numpy(), len(days)),
            "visit": np.tile(np.arange(len(days)), n),
            "day": np.tile(days, n),
            "madrs": madrs.ravel(),
        }
    )


def _infusions(
    rng: np.random.Generator, truth: Truth, patients: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n, k = len(patients), len(INFUSION_DAYS)
    infusions = pd.DataFrame(
        {
            "patient": np.repeat(patients["patient"].to_numpy(), k),
            "infusion": np.tile(np.arange(1, k + 1), n),
            "day": np.tile(INFUSION_DAYS, n),
            "dose_mg": np.repeat(
                np.round(truth.mg_per_kg * patients["weight_kg"].to_numpy(), 1), k
            ),
            "minutes": truth.infusion_minutes,
        }
    )
    symptoms = list(truth.adverse_rates)
    rates = np.array([truth.adverse_rates[s] for s in symptoms])
    hit = rng.random((len(infusions), len(symptoms))) < rates[None, :]
    rows, cols = np.nonzero(hit)
    adverse = infusions.iloc[rows][["patient", "infusion", "day"]].reset_index(drop=True)
    adverse["symptom"] = np.array(symptoms, dtype=object)[cols]
    adverse["severity"] = "mild"
    return infusions, adverse


def generate(
    seed: int = 0, truth: Truth | None = None, *, moderation: float | None = None
) -> Trial:
    """Simulate one trial; ``moderation`` overrides ``truth.moderation`` (0 for no moderation)."""
    truth = truth or Truth()
    if moderation is not None:
        truth = replace(truth, moderation=float(moderation))
    rng = np.random.default_rng(seed)
    patients = _baseline(rng, truth)
    visits = _visits(rng, truth, patients)
    infusions, adverse = _infusions(rng, truth, patients)
    return Trial(patients, visits, infusions, adverse, truth, seed)
