"""Maximum-likelihood fitting of the censored-normal trajectory mixture.

``starts`` draws the starting partitions, ``optimisation`` maximises the likelihood from them,
``summary`` turns the optimum into a ``TrajectoryFit`` (``result``), and ``residuals`` tests the
residuals for a patient level the model leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..diagnostics import AdequacyThresholds
from ..model import PreparedData, plain, prepare_data
from .optimisation import Method, optimise, subsample
from .residuals import (
    ICC_WARNING_LEVEL,
    RANDOM_INTERCEPT_ALPHA,
    RANDOM_INTERCEPT_WARNING,
    random_intercept_warning,
    residual_icc,
    residual_intercept_test,
)
from .result import Coefficient, Convergence, TrajectoryFit, TrajectoryGroup
from .summary import GRADIENT_TOLERANCE, build_fit


def _orders_for(n_groups: int, order: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(order, int | np.integer):
        return (int(order),) * n_groups
    orders = tuple(int(p) for p in order)
    if len(orders) != n_groups:
        raise ValueError("give one polynomial order per group")
    return orders


def fit_prepared(
    data: PreparedData,
    n_groups: int,
    order: int | Sequence[int] = 3,
    *,
    n_starts: int = 5,
    seed: int = 0,
    method: Method = "direct",
    max_iter: int = 2000,
    thresholds: AdequacyThresholds | None = None,
    grid_points: int = 121,
    standard_errors: bool = True,
    screen_size: int = 4000,
    n_refine: int = 2,
) -> TrajectoryFit:
    """Fit a K-group model to already prepared data."""
    if n_groups < 1:
        raise ValueError("n_groups must be at least 1")
    if method not in ("direct", "em"):
        raise ValueError("method must be 'direct' or 'em'")
    orders = _orders_for(n_groups, order)
    optimum = optimise(
        data,
        orders,
        n_starts=1 if n_groups == 1 else n_starts,
        seed=seed,
        method=method,
        max_iter=max_iter,
        screen_size=screen_size,
        n_refine=n_refine,
    )
    return build_fit(optimum, thresholds or AdequacyThresholds(), grid_points, standard_errors)


def fit_trajectories(
    y: ArrayLike,
    months: ArrayLike,
    n_groups: int,
    order: int | Sequence[int] = 3,
    *,
    lower: float = 0.0,
    upper: float = 10.0,
    time_scale: float = 10.0,
    n_starts: int = 5,
    seed: int = 0,
    method: Method = "direct",
    max_iter: int = 2000,
    thresholds: AdequacyThresholds | None = None,
    grid_points: int = 121,
    standard_errors: bool = True,
    screen_size: int = 4000,
    n_refine: int = 2,
) -> TrajectoryFit:
    """Fit a censored-normal group-based trajectory model by maximum likelihood.

    `y` is patients x timepoints (NaN = missing), `months` the timepoints. `order` is one
    polynomial order (0-3) for all groups or one per group, listed from the lowest starting level.
    Several seeded starts are run and the best log-likelihood kept; above `screen_size` patients
    the starts are screened on a subsample and the `n_refine` best refitted on all patients.
    """
    data = prepare_data(y, months, lower=lower, upper=upper, time_scale=time_scale)
    return fit_prepared(
        data,
        n_groups,
        order,
        n_starts=n_starts,
        seed=seed,
        method=method,
        max_iter=max_iter,
        thresholds=thresholds,
        grid_points=grid_points,
        standard_errors=standard_errors,
        screen_size=screen_size,
        n_refine=n_refine,
    )


__all__ = [
    "GRADIENT_TOLERANCE",
    "ICC_WARNING_LEVEL",
    "RANDOM_INTERCEPT_ALPHA",
    "RANDOM_INTERCEPT_WARNING",
    "Coefficient",
    "Convergence",
    "Method",
    "TrajectoryFit",
    "TrajectoryGroup",
    "fit_prepared",
    "fit_trajectories",
    "plain",
    "random_intercept_warning",
    "residual_icc",
    "residual_intercept_test",
    "subsample",
]
