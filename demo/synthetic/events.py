"""Adverse effects at the calls and concomitant treatments at baseline and at each call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from cohort.vocabulary import ADVERSE_EFFECTS, DRUG_CLASSES, TIMEPOINTS, codes
from demo.synthetic import params
from demo.synthetic.outcomes import MONTHS

AE_CODES: tuple[str, ...] = codes(ADVERSE_EFFECTS)
DRUG_CODES: tuple[str, ...] = codes(DRUG_CLASSES)


@dataclass
class LongRows:
    """Rows keyed by patient index and timepoint index, with their columns."""

    patient: np.ndarray
    tp: np.ndarray
    columns: dict[str, np.ndarray]


def adverse_effect_weights() -> np.ndarray:
    """Return the drawing weights of the adverse-effect types, in AE_CODES order.

    The types of one call are distinct: the first follows the weights, a second one is drawn
    among the remaining types, which favours the rarer types. The weights are adjusted (fixed
    point on the expected mix with at most two events per call) so that the mix over all events
    is the published one.
    """
    target = np.array([params.ADVERSE_EFFECT_MIX[c] for c in AE_CODES], dtype=float)
    target /= target.sum()
    extra = params.EXTRA_ADVERSE_EFFECTS
    w = target.copy()
    for _ in range(100):
        p = w / w.sum()
        second = p * ((p / (1 - p)).sum() - p / (1 - p))
        mix = (p + extra * second) / (1 + extra)
        w = w * target / mix
    return w / w.sum()


def adverse_events(rng: np.random.Generator, reached: np.ndarray) -> LongRows:
    """Draw the adverse effects reported at the reached follow-up calls (mask (n, 14))."""
    p_any = np.r_[0.0, params.ANY_ADVERSE_EFFECT]
    has = reached & (rng.random(reached.shape) < p_any[None, :])
    has[:, 0] = False
    patient, tp = np.nonzero(has)
    m = patient.size
    count = np.minimum(1 + rng.poisson(params.EXTRA_ADVERSE_EFFECTS, m), 4)
    weights = adverse_effect_weights()
    keys = rng.exponential(size=(m, weights.size)) / weights
    order = np.argsort(keys, axis=1)
    call = np.repeat(np.arange(m), count)
    rank = np.arange(call.size) - np.r_[0, np.cumsum(count)[:-1]][call]
    kind = np.array(AE_CODES, dtype=object)[order[call, rank]]
    sev_codes = np.array(list(params.SEVERITY), dtype=object)
    sev_p = np.array(list(params.SEVERITY.values()))
    severity = sev_codes[rng.choice(sev_codes.size, size=call.size, p=sev_p / sev_p.sum())]
    serious = (severity == "severe") & (rng.random(call.size) < params.SERIOUS_IF_SEVERE)
    texts = np.array(params.OTHER_ADVERSE_TEXTS, dtype=object)
    other_text = np.full(call.size, None, dtype=object)
    is_other = kind == "other"
    other_text[is_other] = texts[rng.integers(0, texts.size, int(is_other.sum()))]
    return LongRows(
        patient=patient[call],
        tp=tp[call],
        columns={"type": kind, "severity": severity, "serious": serious, "other_text": other_text},
    )


def effect_courses(
    rng: np.random.Generator, events: pd.DataFrame, calls: pd.DataFrame
) -> pd.DataFrame:
    """Add each effect's course: criterion and causality of the serious ones, and the outcome.

    An effect followed by a later reached call of the patient is over (recovered, day unknown);
    one at the patient's latest reached call is still present with
    ``STILL_PRESENT_AT_LATEST_CALL`` (recovering), else recovered.
    """
    out = events.copy()
    reached = calls.loc[calls["status"] == "reached", ["study_code", "timepoint"]]
    order = {code: i for i, code in enumerate(codes(TIMEPOINTS))}
    last = reached.assign(seq=reached["timepoint"].map(order)).groupby("study_code")["seq"].max()
    seq = out["timepoint"].map(order).to_numpy()
    followed = seq < out["study_code"].map(last).fillna(-1).to_numpy()
    still = ~followed & (rng.random(len(out)) < params.STILL_PRESENT_AT_LATEST_CALL)
    out["outcome"] = np.where(still, "recovering", "recovered")
    serious = out["serious"].to_numpy(dtype=bool)
    criteria = list(params.SERIOUS_CRITERION)
    weights = np.array(list(params.SERIOUS_CRITERION.values()))
    relations = list(params.SERIOUS_RELATION)
    rel_w = np.array(list(params.SERIOUS_RELATION.values()))
    out["criterion"] = np.where(
        serious,
        np.array(criteria, dtype=object)[rng.choice(len(criteria), len(out), p=weights)],
        "",
    )
    out["relation"] = np.where(
        serious,
        np.array(relations, dtype=object)[rng.choice(len(relations), len(out), p=rel_w)],
        "",
    )
    return out


def drug_prevalence(woman: np.ndarray) -> np.ndarray:
    """Return the chance (n, 14, 10) of each drug class at each timepoint (linear drift)."""
    base = np.where(
        woman[:, None],
        np.array([params.DRUG_PCT["F"][c] for c in DRUG_CODES])[None, :],
        np.array([params.DRUG_PCT["M"][c] for c in DRUG_CODES])[None, :],
    )
    drift = np.array([params.DRUG_CHANGE_PP.get(c, 0.0) for c in DRUG_CODES])
    pct = base[:, None, :] + drift[None, None, :] * (MONTHS / 12.0)[None, :, None]
    return np.clip(pct / 100.0, 1e-6, 1 - 1e-6)


def treatments(rng: np.random.Generator, woman: np.ndarray, recorded: np.ndarray) -> LongRows:
    """Draw the treatments recorded at baseline and at the reached calls (mask (n, 14)).

    A drug class is taken at timepoint t when a persistent patient-level latent exceeds the
    threshold of that class's prevalence at t: classes whose prevalence rises are only started,
    those whose prevalence falls only stopped, the others never change. A shared factor makes
    patients on many drugs (polypharmacy); a second drug of the same class is a second row.
    """
    n = woman.size
    lam = params.DRUG_FACTOR_LOADING
    latent = lam * rng.standard_normal(n)[:, None] + np.sqrt(1 - lam**2) * rng.standard_normal(
        (n, len(DRUG_CODES))
    )
    taking = latent[:, None, :] > ndtri(1 - drug_prevalence(woman))  # (n, 14, 10)
    second = rng.random((n, len(DRUG_CODES))) < params.SECOND_DRUG_IN_CLASS
    copies = (taking & recorded[:, :, None]) * (1 + second[:, None, :])
    p_idx, t_idx, c_idx = np.nonzero(copies)
    reps = copies[p_idx, t_idx, c_idx]
    drug_p, drug_t = np.repeat(p_idx, reps), np.repeat(t_idx, reps)
    drug_code = np.array(DRUG_CODES, dtype=object)[np.repeat(c_idx, reps)]

    parts_p, parts_t, parts_code = [drug_p], [drug_t], [drug_code]
    engaged = rng.random(n) < params.ACTIVE_THERAPY_ENGAGED
    for code, per_call in params.ACTIVE_THERAPY_PER_CALL.items():
        at_bl = np.where(engaged, *params.ACTIVE_THERAPY_BASELINE[code])
        chance = np.where(engaged[:, None], per_call, 0.0) * np.ones((1, recorded.shape[1]))
        chance[:, 0] = at_bl
        p, t = np.nonzero(recorded & (rng.random(recorded.shape) < chance))
        parts_p.append(p)
        parts_t.append(t)
        parts_code.append(np.full(p.size, code, dtype=object))
    for code, prevalence in params.OTHER_NON_DRUG.items():
        has = rng.random(n) < prevalence
        shown = has[:, None] & (rng.random(recorded.shape) < params.OTHER_NON_DRUG_PER_CALL)
        p, t = np.nonzero(recorded & shown)
        parts_p.append(p)
        parts_t.append(t)
        parts_code.append(np.full(p.size, code, dtype=object))

    kind = np.concatenate(
        [np.full(drug_p.size, "drug", dtype=object)]
        + [np.full(p.size, "non_drug", dtype=object) for p in parts_p[1:]]
    )
    patient = np.concatenate(parts_p)
    tp = np.concatenate(parts_t)
    code_all = np.concatenate(parts_code)
    order = np.lexsort((np.arange(patient.size), tp, patient))
    return LongRows(
        patient=patient[order],
        tp=tp[order],
        columns={"kind": kind[order], "code": code_all[order]},
    )
