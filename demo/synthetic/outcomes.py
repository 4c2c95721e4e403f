"""Structural equations of pain, depression, anxiety and quality of life over the year.

Notation (patient i, timepoint t in months: BL 0, W1 0.25, M1..M12):

* ``h(t)``: shape of the mean pain curve, ``M(t) / M(12)`` with ``M`` the expected change of
  NPRS from baseline in the population (0 at BL, about 1 from W1 on).
* Depression: ``D_it = Dtrait_i + f_g(t) + u_i h(t) + w_it``, ``f_g`` the latent shift that makes
  the measured score fall by ``fall_D h(t)`` in every group (``depression_shift``); anxiety
  ``Atrait_i + (fall_A + u_i) h(t) + w_it`` with its own ``u`` and ``w`` (correlated with
  depression's).
* ``S_it = clip(round(D_it), 0, 21)``: the HADS-D score as measured (the sum of the items).
* Pain of a non-responder in group g:
  ``Y_it = P_i + e0_i [t = 0] + C_g(t) + gamma (Dtrait_i - Dbar) t / 12 + beta (S_it - s_i -
  a_g(t)) + e_it [t > 0]`` with ``C_g`` the designed group curve (params.GROUP_CHANGE),
  ``s_i = E[S_i0 | Dtrait_i]`` and ``a_g(t) = E[S_it - S_i0 | g]``, both exact (a normal
  variable rounded and clipped); the moderation term also has ``gamma_A (Atrait_i - Abar)
  t / 12`` (baseline anxiety, given depression).
  Pain follows the measured score, not the latent D: the analyses can only read the score, and
  had pain followed D, the score's rounding and floor at 0 would attenuate every estimate of
  ``b`` and ``a`` by about 9% each (a property of the instrument, which no mediation estimator
  removes). The group means stay ``C_g(t)`` exactly.
* Responders (some T1 neuropathic patients) move to a floor level ``L_i`` over W1..M3; their pain
  does not track depression.
* ``beta`` is set so that the depression channel carries ``PROPORTION_MEDIATED`` of the expected
  pain change averaged over the follow-up timepoints W1..M12 (equal weights), the estimand of
  ``analytics.stats.mediation.within_patient_mediation``: ``beta mean_t A(t) = 0.646 mean_t
  M(t)``, ``A(t)`` the mean of ``a_g(t)`` over the non-responders. The proportion at each
  timepoint stays within a few thousandths of it (``proportion_mediated_by_timepoint``).
* Cumulative ketamine dose does not appear: its effect on pain is zero in truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from cohort.vocabulary import TIMEPOINT_MONTHS
from demo.synthetic import params
from demo.synthetic.baseline import (
    FIBRO,
    NEUROPATHIC,
    Population,
    etiology_given_sex,
    group_given_fibro,
)

MONTHS = np.array([m for _, m in TIMEPOINT_MONTHS])
TIMEPOINT_CODES: tuple[str, ...] = tuple(code for code, _ in TIMEPOINT_MONTHS)


@dataclass
class Outcomes:
    """Latent and observed outcome arrays of shape (n, 14), before any call is missed."""

    pain: np.ndarray  # latent NPRS (continuous)
    nprs_mean: np.ndarray  # int 0..10
    nprs_max: np.ndarray  # int, >= nprs_mean
    hads_d: np.ndarray  # int 0..21
    hads_a: np.ndarray  # int 0..21
    pcs: np.ndarray  # target PCS
    mcs: np.ndarray  # target MCS


def expected_structure() -> dict[str, Any]:
    """Return the expected group shares, curves and structural coefficients (the truth)."""
    p_fibro = 0.0
    p_neuro_nonfibro = 0.0
    by_sex = etiology_given_sex()
    for probs, p_sex in ((by_sex[0], params.P_WOMEN), (by_sex[1], 1 - params.P_WOMEN)):
        p_fibro += p_sex * probs[FIBRO]
        p_neuro_nonfibro += p_sex * probs[NEUROPATHIC].sum()
    p_neuro_nonfibro /= 1 - p_fibro
    by_fibro = group_given_fibro()
    shares = (1 - p_fibro) * by_fibro[0] + p_fibro * by_fibro[1]
    p_nonfibro_t1 = (1 - p_fibro) * by_fibro[0, 0] / shares[0]
    responder_in_t1 = p_nonfibro_t1 * p_neuro_nonfibro * params.T1_NEUROPATHIC_RESPONDER
    responder_share = shares[0] * responder_in_t1

    curves = np.array(params.GROUP_CHANGE, dtype=float)  # (3, 13): W1, M1..M12
    approach = np.r_[params.RESPONDER_APPROACH, np.ones(13 - len(params.RESPONDER_APPROACH))]
    responder_change = params.RESPONDER_LEVEL[0] - params.BASELINE_NPRS_BY_GROUP[0]
    responder_curve = approach * responder_change + (1 - approach) * curves[0]
    group_curves = curves.copy()
    group_curves[0] = (1 - responder_in_t1) * curves[0] + responder_in_t1 * responder_curve
    mean_curve = shares @ group_curves
    shape = mean_curve / mean_curve[-1]
    # Expected change of the measured score by group, and over the non-responders.
    shift = depression_shift(shape)  # (3, 14)
    score_change = measured_depression_change(shift, shape)  # (3, 13), fall_D h(t) in each group
    weights = shares.copy()
    weights[0] -= responder_share
    channel = weights @ score_change  # indirect(t) / beta
    beta = params.PROPORTION_MEDIATED * mean_curve.mean() / channel.mean()
    direct = curves - beta * score_change
    d_bar = float(shares @ np.asarray(params.HADS_D_BY_GROUP))
    a_bar = float(shares @ np.asarray(params.HADS_A_BY_GROUP))
    pain_bar = float(shares @ np.asarray(params.BASELINE_NPRS_BY_GROUP))
    indirect = beta * channel
    return {
        "p_fibromyalgia": float(p_fibro),
        "group_shares": shares.tolist(),
        "responder_share_of_t1": float(responder_in_t1),
        "responder_share": float(responder_share),
        "timepoints": list(TIMEPOINT_CODES[1:]),
        "group_mean_change": group_curves.tolist(),
        "non_responder_change": curves.tolist(),
        "responder_change": responder_curve.tolist(),
        "mean_change": mean_curve.tolist(),
        "shape": shape.tolist(),
        "beta_depression_to_pain": float(beta),
        "direct_change_non_responders": direct.tolist(),
        "indirect_change": indirect.tolist(),
        "direct_change": (mean_curve - indirect).tolist(),
        "proportion_mediated": float(indirect.mean() / mean_curve.mean()),
        "proportion_mediated_by_timepoint": (indirect / mean_curve).tolist(),
        "indirect_mean": float(indirect.mean()),
        "total_mean": float(mean_curve.mean()),
        "score_change_by_group": score_change.tolist(),
        "depression_shift_by_group": shift.tolist(),
        "depression_fall_latent": params.HADS_D_FALL,
        "anxiety_fall_latent": params.HADS_A_FALL,
        "baseline_depression_moderation_m12": params.BASELINE_DEPRESSION_MODERATION,
        "baseline_anxiety_moderation_m12": params.BASELINE_ANXIETY_MODERATION,
        "depression_trait_mean": d_bar,
        "anxiety_trait_mean": a_bar,
        "baseline_pain_mean": pain_bar,
        "cumulative_dose_effect": params.CUMULATIVE_DOSE_EFFECT,
    }


def expected_score(mean: np.ndarray, sd: np.ndarray | float) -> np.ndarray:
    """Return ``E[clip(round(X), 0, 21)]`` for ``X ~ N(mean, sd^2)``, exactly (elementwise)."""
    mean = np.asarray(mean, dtype=float)
    # E[clip(round(X))] = sum over k = 1..21 of P(round(X) >= k) = sum P(X >= k - 1/2).
    k = np.arange(1, 22, dtype=float)
    z = (k - 0.5 - mean[..., None]) / np.asarray(sd, dtype=float)[..., None]
    return np.asarray(special.ndtr(-z).sum(axis=-1))


def own_change_loading(h: np.ndarray) -> np.ndarray:
    """Return how a patient's own depression change ``u_i`` loads on each time (h at BL is 0).

    ``params.HADS_D_OWN_CHANGE``: "mean_shape" (the default) scales it by the mean curve's
    shape ``h(t)``; "step" makes it a level shift from W1 on (1 after baseline, 0 at it). Both
    give the same change SD at M12, where ``h`` is 1.
    """
    if params.HADS_D_OWN_CHANGE == "step":
        return np.asarray((np.asarray(h) > 0).astype(float))
    return np.asarray(h, dtype=float)


def _score_mean(shift: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Return ``E[S | group, t]`` (3, T) when the latent mean moves by ``shift`` (3, T).

    Given group, sex and the shared distress sign, ``D_t`` is normal (see baseline.py):
    mean ``HADS_D_BY_GROUP[g] + gap w + SD d s + shift``, variance ``SD^2 (1 - d^2) +
    change_SD^2 h(t)^2 + deviation_SD^2``; the expectation mixes sex (P_WOMEN) and sign (1/2).
    """
    d = params.HADS_TRAIT_BIMODALITY
    sd = np.sqrt(
        params.HADS_D_TRAIT_SD**2 * (1 - d**2)
        + params.HADS_D_CHANGE_SD**2 * own_change_loading(h) ** 2
        + params.HADS_D_DEVIATION_SD**2
    )
    out = np.zeros(shift.shape)
    for woman, p_sex in ((1.0, params.P_WOMEN), (0.0, 1 - params.P_WOMEN)):
        for sign in (1.0, -1.0):
            base = (
                np.asarray(params.HADS_D_BY_GROUP)
                + params.HADS_D_SEX_GAP * (woman - params.P_WOMEN)
                + params.HADS_D_TRAIT_SD * d * sign
            )
            mean = base[:, None] + shift
            out += 0.5 * p_sex * expected_score(mean, np.broadcast_to(sd, mean.shape))
    return out


def depression_shift(shape: np.ndarray) -> np.ndarray:
    """Return the latent mean shift (3, 14) at BL and W1..M12 that makes the measured score fall.

    by ``fall_D h(t)`` in expectation in every group: the score's floor at 0 would otherwise
    shrink the fall most in the groups with the lowest depression, and a depression course that
    differs by trajectory group would confound the within-patient pain-depression relation
    through the groups' pain courses (a confounder no 1-1-1 model sees).
    """
    h = np.r_[0.0, np.asarray(shape, dtype=float)]
    hh = np.broadcast_to(h, (3, h.size))
    start = _score_mean(np.zeros((3, h.size)), hh)[:, :1]
    target = params.HADS_D_FALL * hh
    low = np.full(hh.shape, 3.0 * min(params.HADS_D_FALL, 0.0) * h.max() - 5.0)
    high = np.full(hh.shape, 5.0)
    for _ in range(60):  # bisection: the expected score rises with the shift
        mid = 0.5 * (low + high)
        above = _score_mean(mid, hh) - start > target
        high = np.where(above, mid, high)
        low = np.where(above, low, mid)
    shift = 0.5 * (low + high)
    shift[:, 0] = 0.0
    return np.asarray(shift)


def measured_depression_change(shift: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Return ``E[S_t - S_0 | group]`` (3, 13) for the latent shifts of ``depression_shift``."""
    h = np.broadcast_to(np.r_[0.0, np.asarray(shape, dtype=float)], shift.shape)
    mean = _score_mean(shift, h)
    return np.asarray(mean[:, 1:] - mean[:, :1])


def _pair(rng: np.random.Generator, shape: tuple[int, ...], rho: float) -> np.ndarray:
    """Return two standard normal arrays with correlation rho, stacked on a new first axis."""
    a = rng.standard_normal(shape)
    b = rho * a + np.sqrt(1 - rho**2) * rng.standard_normal(shape)
    return np.stack([a, b])


def _hads_latent(
    rng: np.random.Generator, pop: Population, truth: dict[str, Any], shape: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the latent depression and anxiety (n, 14): trait, group shift, change, deviation."""
    n, k = pop.n, MONTHS.size
    u_d, u_a = _pair(rng, (n,), params.HADS_CHANGE_CORRELATION)
    w_d, w_a = _pair(rng, (n, k), params.HADS_DEVIATION_CORRELATION)
    shift = np.asarray(truth["depression_shift_by_group"])[pop.group]  # (n, 14)
    dep_dev = (
        shift
        + (params.HADS_D_CHANGE_SD * u_d)[:, None] * own_change_loading(shape)[None, :]
        + params.HADS_D_DEVIATION_SD * w_d
    )
    anx_dev = (params.HADS_A_FALL + params.HADS_A_CHANGE_SD * u_a)[:, None] * shape[
        None, :
    ] + params.HADS_A_DEVIATION_SD * w_a
    return pop.d_trait[:, None] + dep_dev, pop.a_trait[:, None] + anx_dev


def _transient(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Return the pain noise (n, k): a skewed baseline excess, then follow-up noise."""
    transient = np.zeros((n, k))
    shape_k = params.NPRS_BASELINE_TRANSIENT_SHAPE
    skewed = (shape_k - rng.gamma(shape_k, 1.0, n)) / np.sqrt(shape_k)  # mean 0, SD 1
    transient[:, 0] = params.NPRS_BASELINE_TRANSIENT_SD * skewed
    transient[:, 1:] = params.NPRS_FOLLOWUP_NOISE_SD * rng.standard_normal((n, k - 1))
    return transient


def _pain(
    rng: np.random.Generator, pop: Population, truth: dict[str, Any], hads_d: np.ndarray
) -> np.ndarray:
    """Return latent pain (n, 14): the group curve, the depression channel, moderation, noise."""
    n, k = pop.n, MONTHS.size
    ramp = MONTHS / 12.0
    beta = truth["beta_depression_to_pain"]
    direct = np.hstack([np.zeros((3, 1)), np.asarray(truth["direct_change_non_responders"])])
    score_change = np.hstack([np.zeros((3, 1)), np.asarray(truth["score_change_by_group"])])
    # The measured score's departure from what the patient's trait and group lead to expect.
    expected = expected_score(pop.d_trait, params.HADS_D_DEVIATION_SD)[:, None]
    channel = hads_d - expected - score_change[pop.group]
    transient = _transient(rng, n, k)
    moderation = (
        params.BASELINE_DEPRESSION_MODERATION * (pop.d_trait - truth["depression_trait_mean"])
        + params.BASELINE_ANXIETY_MODERATION * (pop.a_trait - truth["anxiety_trait_mean"])
    )[:, None] * ramp[None, :]
    # direct + beta * score_change is the designed group curve C_g: the channel is centred.
    pain = (
        pop.pain_level[:, None]
        + direct[pop.group]
        + beta * (score_change[pop.group] + channel)
        + moderation
        + transient
    )
    _responders_to_floor(rng, pop, pain, transient)
    return pain


def _responders_to_floor(
    rng: np.random.Generator, pop: Population, pain: np.ndarray, transient: np.ndarray
) -> None:
    """Responders: the designed T1 curve without the depression channel, then the floor level."""
    k = MONTHS.size
    r = np.flatnonzero(pop.responder)
    if r.size:
        t1 = np.r_[0.0, params.GROUP_CHANGE[0]]
        approach = np.r_[
            0.0,
            params.RESPONDER_APPROACH,
            np.ones(k - 1 - len(params.RESPONDER_APPROACH)),
        ]
        level = rng.normal(*params.RESPONDER_LEVEL, size=r.size)
        floor = level[:, None] + params.RESPONDER_NOISE_SD * rng.standard_normal((r.size, k))
        usual = pop.pain_level[r, None] + t1[None, :] + transient[r]
        pain[r] = (1 - approach) * usual + approach * floor


def _quality_of_life(
    rng: np.random.Generator,
    truth: dict[str, Any],
    shape: np.ndarray,
    pain: np.ndarray,
    dep: np.ndarray,
    anx: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the SF-12 PCS (following pain) and MCS (following depression and anxiety)."""
    n, k = int(pain.shape[0]), int(pain.shape[1])
    pcs = (
        params.PCS_MEAN
        + params.PCS_PER_PAIN_POINT * (pain - truth["baseline_pain_mean"])
        + params.PCS_PERSON_SD * rng.standard_normal(n)[:, None]
        + params.PCS_CHANGE_SD * rng.standard_normal(n)[:, None] * shape[None, :]
        + params.PCS_NOISE_SD * rng.standard_normal((n, k))
    )
    mcs = (
        params.MCS_MEAN
        + params.MCS_PER_HADS_POINT
        * ((dep - truth["depression_trait_mean"]) + (anx - truth["anxiety_trait_mean"]))
        + params.MCS_PERSON_SD * rng.standard_normal(n)[:, None]
        + params.MCS_NOISE_SD * rng.standard_normal((n, k))
    )
    return pcs, mcs


def simulate(rng: np.random.Generator, pop: Population, truth: dict[str, Any]) -> Outcomes:
    """Draw the outcome trajectories of every patient at the 14 timepoints."""
    n, k = pop.n, MONTHS.size
    shape = np.r_[0.0, truth["shape"]]  # (14,)
    dep, anx = _hads_latent(rng, pop, truth, shape)
    hads_d = np.clip(np.rint(dep), 0, 21).astype(np.int64)
    pain = _pain(rng, pop, truth, hads_d)
    nprs_mean = np.clip(np.rint(pain), 0, 10).astype(np.int64)
    fraction = np.clip(rng.normal(*params.MAX_PAIN_FRACTION, size=(n, k)), 0.0, 1.0)
    top = pain + (10.0 - np.clip(pain, 0.0, 10.0)) * fraction
    nprs_max = np.clip(np.rint(top), nprs_mean, 10).astype(np.int64)
    hads_a = np.clip(np.rint(anx), 0, 21).astype(np.int64)
    pcs, mcs = _quality_of_life(rng, truth, shape, pain, dep, anx)
    return Outcomes(
        pain=pain,
        nprs_mean=nprs_mean,
        nprs_max=nprs_max,
        hads_d=hads_d,
        hads_a=hads_a,
        pcs=pcs,
        mcs=mcs,
    )
