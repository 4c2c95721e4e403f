"""Baseline characteristics of the patients and their latent traits (pure numpy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from cohort.vocabulary import COMORBIDITIES, ETIOLOGIES, codes
from demo.synthetic import params

ETIOLOGY_CODES: tuple[str, ...] = codes(ETIOLOGIES)
COMORBIDITY_CODES: tuple[str, ...] = codes(COMORBIDITIES)
FIBRO = ETIOLOGY_CODES.index("fibromyalgia")
NEUROPATHIC = np.array([code in params.NEUROPATHIC_ETIOLOGIES for code in ETIOLOGY_CODES])


@dataclass
class Population:
    """Arrays of length n describing each patient; the truth behind the patients frame."""

    site: np.ndarray
    inclusion: np.ndarray  # datetime64[D]
    consent: np.ndarray  # datetime64[D]
    woman: np.ndarray
    age: np.ndarray
    weight: np.ndarray
    etiology: np.ndarray  # index into ETIOLOGY_CODES
    pain_duration: np.ndarray
    comorbid: np.ndarray  # (n, 15) bool
    dn4: np.ndarray  # float, nan when not asked
    paroxysms: np.ndarray  # float, nan when unknown
    naive: np.ndarray
    group: np.ndarray  # 0, 1, 2 for T1, T2, T3
    responder: np.ndarray  # T1 neuropathic patient whose pain falls below 3 from M3
    pain_level: np.ndarray  # persistent baseline pain (group mean + patient deviation)
    d_trait: np.ndarray
    a_trait: np.ndarray
    distress: np.ndarray  # +1 or -1, shared by the HADS traits and baseline pain

    @property
    def fibro(self) -> np.ndarray:
        return self.etiology == FIBRO

    @property
    def n(self) -> int:
        return int(self.woman.size)


def group_given_fibro() -> np.ndarray:
    """Return P(group | fibromyalgia) as a (2, 3) array: row 0 without, row 1 with (Bayes)."""
    share = np.asarray(params.GROUP_SHARE) / sum(params.GROUP_SHARE)
    fibro = np.asarray(params.FIBRO_SHARE_BY_GROUP)
    rows = np.vstack([share * (1 - fibro), share * fibro])
    return rows / rows.sum(axis=1, keepdims=True)


def etiology_given_sex() -> np.ndarray:
    """Return P(etiology | sex) as a (2, 8) array, row 0 women, row 1 men.

    Starts from the Table's counts by sex and rescales each etiology (iterative proportional
    fitting) until the mixture over sexes gives the Table's overall shares.
    """
    rows = np.array(
        [[params.ETIOLOGY_COUNTS[sex][code] for code in ETIOLOGY_CODES] for sex in ("F", "M")],
        dtype=float,
    )
    sex_p = np.array([params.P_WOMEN, 1 - params.P_WOMEN])
    target = np.array([params.ETIOLOGY_PCT[code] for code in ETIOLOGY_CODES])
    target = target / target.sum()
    for _ in range(50):
        rows = rows / rows.sum(axis=1, keepdims=True)
        rows = rows * (target / (sex_p @ rows))[None, :]
    return rows / rows.sum(axis=1, keepdims=True)


def comorbidity_design(sex: str) -> tuple[np.ndarray, float, float]:
    """Return (prevalences, scale c, fill-in r) reproducing the sex's prevalences and 'none'.

    Each comorbidity is drawn independently with probability c * p_j; a patient left without
    any then receives one, drawn in proportion to p, with probability r. The marginal of code j
    is c p_j + z(c) r p_j / S = p_j when r = (1 - c) S / z(c), with S = sum(p) and
    z(c) = prod(1 - c p_j); c solves z(c) (1 - r) = P(none), found by bisection.
    """
    p = np.array([params.COMORBIDITY_PCT[sex][code] for code in COMORBIDITY_CODES]) / 100
    target = params.COMORBIDITY_NONE_PCT[sex] / 100
    total = p.sum()

    def excess(c: float) -> float:
        return float(np.prod(1 - c * p) - (1 - c) * total - target)

    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if excess(mid) < 0 else (low, mid)
    c = (low + high) / 2
    r = (1 - c) * total / float(np.prod(1 - c * p))
    return p, c, r


def _comorbidities(rng: np.random.Generator, woman: np.ndarray) -> np.ndarray:
    n = woman.size
    out = np.zeros((n, len(COMORBIDITY_CODES)), dtype=bool)
    for sex, mask in (("F", woman), ("M", ~woman)):
        p, c, r = comorbidity_design(sex)
        m = int(mask.sum())
        draws = rng.random((m, p.size)) < c * p
        fill = ~draws.any(axis=1) & (rng.random(m) < r)
        picks = rng.choice(p.size, size=m, p=p / p.sum())
        draws[np.flatnonzero(fill), picks[fill]] = True
        out[mask] = draws
    return out


def _business_days(start: dt.date, end: dt.date) -> np.ndarray:
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
    workdays = days[weekday < 5]
    return workdays if workdays.size else days


def _enrolment(
    rng: np.random.Generator,
    n: int,
    site_weights: np.ndarray,
    enrolment_start: dt.date,
    enrolment_end: dt.date,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each patient's site, inclusion day (a working day) and consent day."""
    site = rng.choice(site_weights.size, size=n, p=site_weights)
    days = _business_days(enrolment_start, enrolment_end)
    inclusion = days[rng.integers(0, days.size, n)]
    before = np.where(
        rng.random(n) < params.CONSENT_SAME_DAY,
        0,
        rng.integers(1, params.CONSENT_MAX_DAYS_BEFORE + 1, n),
    )
    consent = inclusion - before.astype("timedelta64[D]")
    return site, inclusion, consent


def _body(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return sex (True for a woman), age and weight (by sex)."""
    woman = rng.random(n) < params.P_WOMEN
    age = np.clip(
        np.rint(rng.normal(params.AGE_MEAN, params.AGE_SD, n)), params.AGE_MIN, params.AGE_MAX
    )
    mean_w = np.where(woman, params.WEIGHT_BY_SEX["F"][0], params.WEIGHT_BY_SEX["M"][0])
    sd_w = np.where(woman, params.WEIGHT_BY_SEX["F"][1], params.WEIGHT_BY_SEX["M"][1])
    weight = np.round(np.clip(rng.normal(mean_w, sd_w), *params.WEIGHT_RANGE), 1)
    return woman, age, weight


def _pain_history(
    rng: np.random.Generator, woman: np.ndarray, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the etiology (by sex) and how many months the pain has lasted."""
    n = woman.size
    etiology = np.empty(n, dtype=np.int64)
    by_sex = etiology_given_sex()
    for row, mask in enumerate((woman, ~woman)):
        etiology[mask] = rng.choice(by_sex.shape[1], size=int(mask.sum()), p=by_sex[row])
    # Pain cannot have lasted longer than since the patient's childhood.
    longest = 12 * (age - params.PAIN_ONSET_MIN_AGE)
    pain_duration = np.clip(
        np.rint(
            params.PAIN_DURATION_MEDIAN_MONTHS
            * np.exp(rng.normal(0, params.PAIN_DURATION_LOG_SD, n))
        ),
        params.PAIN_DURATION_MIN_MONTHS,
        np.maximum(longest, params.PAIN_DURATION_MIN_MONTHS),
    )
    return etiology, pain_duration


def _neuropathic_signs(
    rng: np.random.Generator, fibro: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return DN4 (not asked in fibromyalgia), paroxysms per day and ketamine-naivety."""
    n = fibro.size
    dn4_value = rng.choice(11, size=n, p=np.asarray(params.DN4_PMF) / sum(params.DN4_PMF))
    dn4 = np.where(~fibro & (rng.random(n) < params.DN4_ASKED), dn4_value, np.nan)
    parox_values = np.array(list(params.PAROXYSMS_PMF), dtype=float)
    parox_p = np.array(list(params.PAROXYSMS_PMF.values()))
    parox = parox_values[rng.choice(parox_values.size, size=n, p=parox_p / parox_p.sum())]
    paroxysms = np.where(rng.random(n) < params.PAROXYSMS_KNOWN, parox, np.nan)
    naive = rng.random(n) < params.KETAMINE_NAIVE
    return dn4, paroxysms, naive


def _trajectory_groups(
    rng: np.random.Generator, fibro: np.ndarray, etiology: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return each patient's pain trajectory group (given fibromyalgia) and T1 responders."""
    n = fibro.size
    probs = group_given_fibro()[fibro.astype(int)]
    group = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    group = np.minimum(group, 2)
    responder = (
        (group == 0) & NEUROPATHIC[etiology] & (rng.random(n) < params.T1_NEUROPATHIC_RESPONDER)
    )
    return group, responder


def _latent_traits(
    rng: np.random.Generator, group: np.ndarray, woman: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return persistent pain, the depression and anxiety traits, and the shared distress sign."""
    n = group.size
    # Correlated standard normals: persistent pain, depression trait, anxiety trait.
    rho_p, rho_da = params.PAIN_HADS_CORRELATION, params.HADS_TRAIT_CORRELATION
    corr = np.array([[1.0, rho_p, rho_p], [rho_p, 1.0, rho_da], [rho_p, rho_da, 1.0]])
    z = rng.standard_normal((n, 3)) @ np.linalg.cholesky(corr).T
    w = woman.astype(float) - params.P_WOMEN  # centred so the overall means stay put
    distress = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    kappa = params.BASELINE_DISTRESS_PAIN
    persistent_sd = np.sqrt(np.asarray(params.NPRS_PERSISTENT_SD_BY_GROUP) ** 2 - kappa**2)
    pain_level = (
        np.asarray(params.BASELINE_NPRS_BY_GROUP)[group]
        + kappa * distress
        + persistent_sd[group] * z[:, 0]
    )
    d = params.HADS_TRAIT_BIMODALITY
    flat = d * distress[:, None] + np.sqrt(1 - d**2) * z[:, 1:]
    d_trait = (
        np.asarray(params.HADS_D_BY_GROUP)[group]
        + params.HADS_D_SEX_GAP * w
        + params.HADS_D_TRAIT_SD * flat[:, 0]
    )
    a_trait = (
        np.asarray(params.HADS_A_BY_GROUP)[group]
        + params.HADS_A_SEX_GAP * w
        + params.HADS_A_TRAIT_SD * flat[:, 1]
    )
    return pain_level, d_trait, a_trait, distress


def draw_population(
    rng: np.random.Generator,
    n: int,
    site_weights: np.ndarray,
    enrolment_start: dt.date,
    enrolment_end: dt.date,
) -> Population:
    """Draw every baseline characteristic and latent trait of ``n`` patients."""
    site, inclusion, consent = _enrolment(rng, n, site_weights, enrolment_start, enrolment_end)
    woman, age, weight = _body(rng, n)
    etiology, pain_duration = _pain_history(rng, woman, age)
    fibro = etiology == FIBRO
    comorbid = _comorbidities(rng, woman)
    dn4, paroxysms, naive = _neuropathic_signs(rng, fibro)
    group, responder = _trajectory_groups(rng, fibro, etiology)
    pain_level, d_trait, a_trait, distress = _latent_traits(rng, group, woman)
    return Population(
        site=site,
        inclusion=inclusion,
        consent=consent,
        woman=woman,
        age=age.astype(np.int64),
        weight=weight,
        etiology=etiology,
        pain_duration=pain_duration.astype(np.int64),
        comorbid=comorbid,
        dn4=dn4,
        paroxysms=paroxysms,
        naive=naive,
        group=group,
        responder=responder,
        pain_level=pain_level,
        d_trait=d_trait,
        a_trait=a_trait,
        distress=distress,
    )
