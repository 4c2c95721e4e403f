"""Structural equations of pain, depression, anxiety and quality of life over the year.

Notation (patient i, timepoint t in months: BL 0, W1 0.25, M1..M12):

* ``h(t)``: shape of the mean pain curve, ``M(t) / M(12)`` with ``M`` the expected change of
  NPRS from baseline in the population (0 at BL, about 1 from W1 on).
* Depression: ``D_it = Dtrait_i + (fall_D + u_i) h(t) + w_it``; anxiety likewise with its own
  fall, ``u`` and ``w`` (correlated with depression's).
* Pain of a non-responder in group g:
  ``Y_it = P_i + e0_i [t = 0] + direct_g(t) + gamma (Dtrait_i - Dbar) t / 12 + beta (D_it -
  Dtrait_i) + e_it [t > 0]`` with ``direct_g(t) = C_g(t) - beta fall_D h(t)``, ``C_g`` the designed
  group curve (params.GROUP_CHANGE); the moderation term also has ``gamma_A (Atrait_i - Abar)
  t / 12`` (baseline anxiety, given depression).
* Responders (some T1 neuropathic patients) move to a floor level ``L_i`` over W1..M3; their pain
  does not track depression.
* ``beta`` is set so that the depression channel carries ``PROPORTION_MEDIATED`` of the expected
  pain change at every timepoint: ``(1 - share_responders) beta fall_D h(t) = 0.646 M(t)``.
  Because the indirect and the direct parts have the same time shape ``h``, any linear reading of
  time (categorical, linear in months, before/after) gives the same proportion in expectation.
* Cumulative ketamine dose does not appear: its effect on pain is zero in truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cohort.demo import params
from cohort.demo.baseline import (
    FIBRO,
    NEUROPATHIC,
    Population,
    etiology_given_sex,
    group_given_fibro,
)
from cohort.vocabulary import TIMEPOINT_MONTHS

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
    beta = (
        params.PROPORTION_MEDIATED * mean_curve[-1] / ((1 - responder_share) * params.HADS_D_FALL)
    )
    direct = curves - beta * params.HADS_D_FALL * shape[None, :]
    d_bar = float(shares @ np.asarray(params.HADS_D_BY_GROUP))
    a_bar = float(shares @ np.asarray(params.HADS_A_BY_GROUP))
    pain_bar = float(shares @ np.asarray(params.BASELINE_NPRS_BY_GROUP))
    indirect = (1 - responder_share) * beta * params.HADS_D_FALL * shape
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
        "proportion_mediated": float(indirect[-1] / mean_curve[-1]),
        "depression_fall_latent": params.HADS_D_FALL,
        "anxiety_fall_latent": params.HADS_A_FALL,
        "baseline_depression_moderation_m12": params.BASELINE_DEPRESSION_MODERATION,
        "baseline_anxiety_moderation_m12": params.BASELINE_ANXIETY_MODERATION,
        "depression_trait_mean": d_bar,
        "anxiety_trait_mean": a_bar,
        "baseline_pain_mean": pain_bar,
        "cumulative_dose_effect": params.CUMULATIVE_DOSE_EFFECT,
    }


def _pair(rng: np.random.Generator, shape: tuple[int, ...], rho: float) -> np.ndarray:
    """Return two standard normal arrays with correlation rho, stacked on a new first axis."""
    a = rng.standard_normal(shape)
    b = rho * a + np.sqrt(1 - rho**2) * rng.standard_normal(shape)
    return np.stack([a, b])


def simulate(rng: np.random.Generator, pop: Population, truth: dict[str, Any]) -> Outcomes:
    """Draw the outcome trajectories of every patient at the 14 timepoints."""
    n, k = pop.n, MONTHS.size
    shape = np.r_[0.0, truth["shape"]]  # (14,)
    ramp = MONTHS / 12.0

    u_d, u_a = _pair(rng, (n,), params.HADS_CHANGE_CORRELATION)
    w_d, w_a = _pair(rng, (n, k), params.HADS_DEVIATION_CORRELATION)
    dep_dev = (params.HADS_D_FALL + params.HADS_D_CHANGE_SD * u_d)[:, None] * shape[
        None, :
    ] + params.HADS_D_DEVIATION_SD * w_d
    anx_dev = (params.HADS_A_FALL + params.HADS_A_CHANGE_SD * u_a)[:, None] * shape[
        None, :
    ] + params.HADS_A_DEVIATION_SD * w_a
    dep = pop.d_trait[:, None] + dep_dev
    anx = pop.a_trait[:, None] + anx_dev

    beta = truth["beta_depression_to_pain"]
    direct = np.hstack([np.zeros((3, 1)), np.asarray(truth["direct_change_non_responders"])])
    transient = np.zeros((n, k))
    shape_k = params.NPRS_BASELINE_TRANSIENT_SHAPE
    skewed = (shape_k - rng.gamma(shape_k, 1.0, n)) / np.sqrt(shape_k)  # mean 0, SD 1
    transient[:, 0] = params.NPRS_BASELINE_TRANSIENT_SD * skewed
    transient[:, 1:] = params.NPRS_FOLLOWUP_NOISE_SD * rng.standard_normal((n, k - 1))
    moderation = (
        params.BASELINE_DEPRESSION_MODERATION * (pop.d_trait - truth["depression_trait_mean"])
        + params.BASELINE_ANXIETY_MODERATION * (pop.a_trait - truth["anxiety_trait_mean"])
    )[:, None] * ramp[None, :]
    pain = pop.pain_level[:, None] + direct[pop.group] + moderation + beta * dep_dev + transient

    # Responders: the designed T1 curve without the depression channel, then the floor level.
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

    nprs_mean = np.clip(np.rint(pain), 0, 10).astype(np.int64)
    fraction = np.clip(rng.normal(*params.MAX_PAIN_FRACTION, size=(n, k)), 0.0, 1.0)
    top = pain + (10.0 - np.clip(pain, 0.0, 10.0)) * fraction
    nprs_max = np.clip(np.rint(top), nprs_mean, 10).astype(np.int64)
    hads_d = np.clip(np.rint(dep), 0, 21).astype(np.int64)
    hads_a = np.clip(np.rint(anx), 0, 21).astype(np.int64)

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
    return Outcomes(
        pain=pain,
        nprs_mean=nprs_mean,
        nprs_max=nprs_max,
        hads_d=hads_d,
        hads_a=hads_a,
        pcs=pcs,
        mcs=mcs,
    )
