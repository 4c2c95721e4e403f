"""The batched bootstrap fits against a slow reference: each resample fitted on its own.

The reference expands a resample into its rows (a patient drawn twice is two patients), reduces
them with the mixed-model solver's own sufficient statistics and finds the REML optimum as the
root of a Richardson-extrapolated difference of the solver's profiled likelihood: nothing of
the batched path (packed per-patient statistics, per-size sums, the analytic slope) is shared.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import optimize

from analytics.stats import mediation
from analytics.stats.mediation import paper as paper_module
from analytics.stats.mediation.within import _within_models
from analytics.stats.mixed import model as mixed

SEEDS = (0, 1, 2)
RESAMPLES = 12


def _loglik(suff: mixed._Sufficient, x: float) -> float:
    return mixed._profile(suff, math.exp(x), True).loglik


def _slope(suff: mixed._Sufficient, x: float) -> float:
    """d loglik / d log g by central differences, Richardson-extrapolated (error O(h^4))."""

    def central(h: float) -> float:
        return (_loglik(suff, x + h) - _loglik(suff, x - h)) / (2.0 * h)

    return (4.0 * central(5e-5) - central(1e-4)) / 3.0


def _reference_betas(model: mediation._Model, counts: np.ndarray) -> np.ndarray:
    """Fit each resample alone: expanded rows, the solver's statistics, a root of the slope."""
    y, X, codes, n = model._design
    rows_of = [np.flatnonzero(codes == i) for i in range(n)]
    out = []
    for row in counts.astype(int):
        drawn = np.repeat(np.arange(n), row)
        index = np.concatenate([rows_of[i] for i in drawn])
        groups = np.repeat(np.arange(drawn.size), [rows_of[i].size for i in drawn])
        suff = mixed._sufficient(y[index], X[index], groups)
        grid = np.log(np.logspace(-10, 8, 73))
        best = int(np.argmax([_loglik(suff, x) for x in grid]))
        assert 0 < best < grid.size - 1
        x = optimize.brentq(
            lambda t, s=suff: _slope(s, t), grid[best - 1], grid[best + 1], xtol=1e-13
        )
        out.append(mixed._profile(suff, math.exp(x), True).beta)
    return np.array(out)


@functools.cache
def _models(seed: int) -> dict[str, mediation._Model]:
    from demo.synthetic import generate
    from demo.synthetic.analysis_frame import mediation_frame

    cohort = generate(160, seed=seed)
    observed = mediation_frame(cohort, carry_forward=False)
    within = _within_models(observed, "month", "hads_d", "nprs_mean", True)
    data, n = paper_module._pain_change_rows(mediation_frame(cohort))
    time = mediation.within._code_time(data, "month", True)
    terms = [paper_module._DEPRESSION, paper_module._DOSE, *time.names, "sex_male", "age"]
    path3 = mediation._Model(data, "pain_change", terms, n)
    return {"a": within.a, "b": within.b, "path3": path3}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["a", "b", "path3"])
def test_batched_fits_equal_resamples_fitted_one_at_a_time(seed: int, name: str) -> None:
    model = _models(seed)[name]
    n = model._design[3]
    counts = mediation._resample_counts(n, RESAMPLES, seed)
    batched = model.betas(counts)
    reference = _reference_betas(model, counts)
    # Each coefficient to 1e-10 of the largest of its column (the search on likelihood values
    # this replaced was 2e-8 off on the paper model; the slope root is 2e-11 off).
    scale = np.abs(reference).max(0)
    assert np.all(np.abs(batched - reference) <= 1e-10 * scale), np.max(
        np.abs(batched - reference) / scale
    )


def test_a_resample_is_the_same_fit_whichever_block_it_is_in() -> None:
    model = _models(0)["b"]
    counts = mediation._resample_counts(model._design[3], 40, 3)
    whole = model.betas(counts)
    parts = np.vstack([model.betas(counts[k : k + 7]) for k in range(0, 40, 7)])
    assert np.allclose(parts, whole, rtol=0.0, atol=1e-11 * np.abs(whole).max())


def test_the_full_sample_as_a_resample_gives_the_point_fit() -> None:
    for model in _models(1).values():
        ones = np.ones((1, model._design[3]))
        params = model.result.params
        assert np.allclose(model.betas(ones)[0], params, rtol=0.0, atol=1e-9 * np.abs(params).max())


def _patient_products(columns: list[np.ndarray], y: np.ndarray, codes: np.ndarray, n: int):
    """Each patient's packed within and between products, taken from the statistics through a
    resample of that patient alone."""
    from analytics.stats.mediation.reml import _patient_stats, _resampled

    ps = _patient_stats(y, columns, codes, n)
    rs = _resampled(ps, np.eye(n))
    size_of = np.searchsorted(ps.sizes, np.bincount(codes, minlength=n))
    return ps, rs.within, rs.between[size_of, np.arange(n)]


@pytest.mark.parametrize("exclusive", [True, False])
def test_patient_statistics_are_each_patients_products(exclusive: bool) -> None:
    from analytics.stats.mediation.reml import _pack

    rng = np.random.default_rng(5)
    n, rows = 30, 200
    codes = rng.integers(0, n, rows)
    codes[0] = n - 1
    per_patient = rng.normal(size=n)
    level = rng.integers(0, 3, rows)
    second = level == 2 if exclusive else rng.random(rows) < 0.5  # then two set on some rows
    columns = [
        np.ones(rows),
        rng.normal(size=rows),
        per_patient[codes],  # constant within each patient
        (level == 1).astype(np.int8),
        second.astype(np.int8),
    ]
    y = rng.normal(size=rows)
    ps, within, between = _patient_products(columns, y, codes, n)
    # The indicators' products are kept by kind of patient only when they are a set.
    assert ps.fixed.size == (3 if exclusive else 0)
    a = np.column_stack([*columns, y])
    upper = _pack(a.shape[1])
    for patient in range(n):
        part = a[codes == patient]
        centred = part - part.mean(0)
        expected = (centred.T @ centred)[upper]
        assert np.allclose(within[patient], expected, rtol=1e-12, atol=1e-12)
        mean = part.mean(0)
        assert np.allclose(between[patient], np.outer(mean, mean)[upper], rtol=1e-12, atol=0.0)


def test_a_released_model_drops_its_statistics_and_rebuilds_the_same() -> None:
    model = _models(2)["a"]
    counts = mediation._resample_counts(model._design[3], 5, 1)
    before = model.betas(counts)
    assert "stats" in model.__dict__
    model.release()
    assert "stats" not in model.__dict__
    assert np.array_equal(model.betas(counts), before)


def test_counts_drawn_in_a_models_order_are_the_gathered_counts_and_fit_the_same():
    from analytics.stats.mediation.resampling import _resample_blocks

    from .test_mediation import simulate

    frame = simulate(150, seed=6).sample(frac=0.8, random_state=1).sort_index()  # calls missed
    models = _within_models(frame, "month", "hads_d", "nprs_mean", True)
    model, n = models.b, models.n
    order = model.stats.order
    assert not np.array_equal(order, np.arange(n))  # patients of unequal rows: a real permutation
    plain = list(_resample_blocks(n, 70, seed=9, block=32))
    ordered = list(_resample_blocks(n, 70, seed=9, block=32, order=order))
    assert [b.shape for b in ordered] == [(32, n), (32, n), (6, n)]
    for counts, in_order in zip(plain, ordered, strict=True):
        assert np.array_equal(counts[:, order], in_order)
        assert np.array_equal(model.betas(counts), model.betas(in_order, True))


@pytest.mark.parametrize("indicators", [3, 70])  # packed into one integer, or too wide for one
def test_kinds_of_patients_are_the_distinct_rows_in_order(indicators: int) -> None:
    from analytics.stats.mediation.reml import _kinds

    rng = np.random.default_rng(indicators)
    rows = rng.integers(1, 6, 500)
    counts = rng.integers(0, 2, (500, indicators)).astype(float)
    counts[:250] = counts[250:]  # kinds shared by several patients
    key = np.column_stack([rows, counts]).astype(np.int64)
    _, first, expected = np.unique(key, axis=0, return_index=True, return_inverse=True)
    kind, first_of_kind = _kinds(rows, counts)
    assert np.array_equal(kind, expected.ravel())
    assert np.array_equal(first_of_kind, first)
    assert kind.max() + 1 < 500


def test_counts_in_one_models_order_are_put_in_anothers():
    from analytics.stats.mediation.within import _reordering

    rng = np.random.default_rng(2)
    have, want = rng.permutation(40), rng.permutation(40)
    counts = rng.integers(0, 4, (5, 40)).astype(float)  # column j counts patient have[j]
    by_patient = np.empty_like(counts)
    by_patient[:, have] = counts
    assert np.array_equal(counts[:, _reordering(have, want)], by_patient[:, want])
    assert _reordering(have, have.copy()) is None
