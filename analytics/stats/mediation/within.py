"""The 1-1-1 within-patient mediation, time coded as the study's timepoints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from scipy import stats

from analytics.stats.mixed import MixedResult

from .models import _Z975, COVARIATES, _Model, _num, _prepare, _term
from .reml import inverse_permutation
from .resampling import _bootstrap, _intervals, _proportion, _ratio_intervals


@dataclass(frozen=True)
class _Time:
    """Coding of time in a model: term names, and the weights of the contrast reported.

    Categorical: one indicator per timepoint after the reference (the first one present); the
    contrast is the mean of the indicators' coefficients, i.e. the change from the reference
    averaged over the later timepoints, each weighted equally. Linear: one slope, weight 1.
    """

    names: tuple[str, ...]
    levels: tuple[float, ...]
    weights: np.ndarray
    categorical: bool

    def contrast(self, betas: np.ndarray, model_names: Sequence[str]) -> np.ndarray:
        idx = [list(model_names).index(name) for name in self.names]
        return np.asarray(betas[..., idx] @ self.weights)


def _code_time(data: pd.DataFrame, x: str, categorical: bool) -> _Time:
    """Add the time columns of ``x`` to ``data`` (in place) and return their coding."""
    if not categorical:
        return _Time((x,), (), np.ones(1), False)
    levels = sorted(float(v) for v in data[x].unique())
    if len(levels) < 2:
        raise ValueError(f"need at least two timepoints of {x!r}")
    later = levels[1:]
    names = []
    for level in later:
        name = f"{x}=={level:g}"
        # 0/1 as one byte a row: the designs read it as the floats 0.0 and 1.0, exactly.
        data[name] = (data[x].to_numpy(dtype=float) == level).astype(np.int8)
        names.append(name)
    return _Time(tuple(names), tuple(later), np.full(len(later), 1.0 / len(later)), True)


def _contrast(result: MixedResult, time: _Time) -> dict[str, object]:
    """The time contrast of ``result`` with its model-based SE, 95% CI and P."""
    idx = [result.term_names.index(name) for name in time.names]
    w = time.weights
    estimate = float(result.params[idx] @ w)
    se = math.sqrt(max(float(w @ result.cov[np.ix_(idx, idx)] @ w), 0.0))
    p = 2.0 * stats.norm.sf(abs(estimate) / se) if se > 0 else float("nan")
    return {
        "coefficient": _num(estimate),
        "se": _num(se),
        "ci95": [_num(estimate - _Z975 * se), _num(estimate + _Z975 * se)],
        "p": _num(p),
    }


def _estimand(x: str, time: _Time) -> str:
    if time.categorical:
        return (
            f"change from the first timepoint of {x} ({len(time.levels)} later timepoints, "
            "time as categories), averaged over the later timepoints with equal weights: "
            "a = mean of the timepoint contrasts of M, c' = mean of those of Y given M"
        )
    return f"per unit of {x} (time as a straight line)"


@dataclass(frozen=True, eq=False)
class _WithinModels:
    """The rows and the three models of a within-patient mediation (a; b and c'; c)."""

    data: pd.DataFrame
    n: int
    time: _Time
    a: _Model
    b: _Model
    c: _Model


def _within_models(frame: pd.DataFrame, x: str, m: str, y: str, categorical: bool) -> _WithinModels:
    """Fit M on time, Y on M (between and within) and time, and Y on time, on the same rows."""
    data = _prepare(frame, ["patient", x, m, y])
    n = int(data["_code"].max()) + 1 if len(data) else 0
    if n < 3:
        raise ValueError("need at least three patients with complete rows")
    time = _code_time(data, x, categorical)
    # Splitting M into patient mean and deviation keeps b a within-patient effect (no
    # between-patient confounding of the mediator).
    data["m_between"] = data.groupby("_code")[m].transform("mean")
    data["m_within"] = data[m] - data["m_between"]
    cov = list(COVARIATES)
    model_a = _Model(data, m, [*time.names, *cov], n)
    model_b = _Model(data, y, ["m_between", "m_within", *time.names, *cov], n)
    model_c = _Model(data, y, [*time.names, *cov], n)
    return _WithinModels(data, n, time, model_a, model_b, model_c)


def _reordering(have: np.ndarray, want: np.ndarray) -> np.ndarray | None:
    """Positions that put columns in the patients' order ``have`` into the order ``want``
    (None: the orders are the same)."""
    return None if np.array_equal(have, want) else inverse_permutation(have)[want]


def _sobel(indirect: float, a: float, b: float, se_a: float, se_b: float) -> dict[str, object]:
    """Return the indirect effect with its Sobel (delta-method) SE, 95% CI and P."""
    sobel = math.sqrt(a * a * se_b * se_b + b * b * se_a * se_a)
    return {
        "estimate": _num(indirect),
        "sobel_se": _num(sobel),
        "sobel_ci95": [_num(indirect - _Z975 * sobel), _num(indirect + _Z975 * sobel)],
        "sobel_p": _num(2.0 * stats.norm.sf(abs(indirect) / sobel)) if sobel > 0 else None,
    }


def _by_timepoint(x: str, models: _WithinModels, b: float) -> list[dict[str, object]]:
    """Return a, the indirect effect, c' and c at each later timepoint (time as categories)."""
    rows: list[dict[str, object]] = []
    if not models.time.categorical:
        return rows
    for name, level in zip(models.time.names, models.time.levels, strict=True):
        a_t = models.a.result.coef(name)
        rows.append(
            {
                x: level,
                "a": _num(a_t),
                "indirect": _num(a_t * b),
                "c_prime": _num(models.b.result.coef(name)),
                "c": _num(models.c.result.coef(name)),
            }
        )
    return rows


def _within_model_text(x: str, m: str, y: str, time: _Time) -> str:
    """Describe the within-patient model in one sentence."""
    return (
        f"1-1-1 multilevel mediation (Krull & MacKinnon 2001): X = time ({x}, "
        f"{'categorical timepoints' if time.categorical else 'linear'}), M = {m} "
        f"(patient mean and within-patient deviation), Y = {y}; random intercept per patient, "
        "REML, adjusted for sex and age"
    )


def within_patient_mediation(
    frame: pd.DataFrame,
    x: str = "month",
    m: str = "hads_d",
    y: str = "nprs_mean",
    *,
    categorical: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, object]:
    """Estimate a 1-1-1 multilevel mediation of time ``x`` on ``y`` through ``m``, within patient.

    a: ``m ~ time + sex + age``; b and c': ``y ~ m_between + m_within + time + sex + age`` (b is
    the within-patient part); c: ``y ~ time + sex + age``; all random-intercept REML on the same
    rows. With ``categorical`` (the default) time is the study's timepoints, so a course of any
    shape (a step after the first week) is modelled exactly and a mediator that merely rises
    with time cannot pick up the part of the course a straight line misses.
    """
    models = _within_models(frame, x, m, y, categorical)
    time, model_a, model_b, n = models.time, models.a, models.b, models.n
    a = float(time.contrast(model_a.result.params, model_a.names))
    b = model_b.result.coef("m_within")
    direct = float(time.contrast(model_b.result.params, model_b.names))
    a_block, c_prime_block = _contrast(model_a.result, time), _contrast(model_b.result, time)
    # b from the patient-cluster robust SE: a mediator that drifts with time at a rate of the
    # patient's own (cumulative dose) meets pain courses of the patient's own, which the random
    # intercept alone does not describe, and the model-based SE is then too small.
    b_block = model_b.robust_term("m_within")
    indirect = a * b
    proportion = float(_proportion(indirect, direct))
    ind = _sobel(indirect, a, b, cast(float, a_block["se"]), cast(float, b_block["se"]))
    total: dict[str, object] = {"estimate": _num(indirect + direct)}
    prop: dict[str, object] = {"estimate": _num(proportion)}
    if n_boot > 0:
        # Both models over each block of resamples, drawn once, in the patients' order of the
        # statistics (the same for both: the same rows and time indicators; were it not, b's
        # counts are gathered into its own).
        order = model_a.prepare().stats.order
        to_b = _reordering(order, model_b.prepare().stats.order)
        boot_a, betas_b = _bootstrap(
            lambda counts: (
                time.contrast(model_a.betas(counts, True), model_a.names),
                model_b.betas(counts if to_b is None else np.take(counts, to_b, axis=1), True),
            ),
            n,
            n_boot,
            seed,
            order=order,
        )
        model_a.release()
        model_b.release()
        boot_ind = boot_a * betas_b[:, model_b.names.index("m_within")]
        boot_direct = time.contrast(betas_b, model_b.names)
        ind.update(_intervals(indirect, boot_ind))
        total.update(_intervals(indirect + direct, boot_ind + boot_direct))
        prop.update(_ratio_intervals(proportion, _proportion(boot_ind, boot_direct), total))
    return {
        "model": _within_model_text(x, m, y, time),
        "time": "categorical" if time.categorical else "linear",
        "estimand": _estimand(x, time),
        "formula": "indirect = a*b; total = a*b + c'; proportion = a*b / (a*b + c')",
        "n_patients": n,
        "n_observations": len(models.data),
        "a": a_block,
        "b": b_block,
        "b_between": _term(model_b.result, "m_between"),
        "c_prime": c_prime_block,
        "c": _contrast(models.c.result, time),
        "indirect": ind,
        "total": total,
        "proportion_mediated": prop,
        "by_timepoint": _by_timepoint(x, models, b),
        "bootstrap": {"unit": "patient", "n_boot": int(n_boot), "seed": int(seed)},
    }
