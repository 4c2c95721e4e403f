"""What a trajectory fit returns: the groups, their coefficients and how the optimum was reached."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..diagnostics import Diagnostics
from ..model import dataclass_dict


@dataclass(frozen=True)
class Coefficient:
    """One polynomial coefficient on the month scale with its standard error."""

    term: str
    estimate: float
    se: float
    z: float
    p: float

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class TrajectoryGroup:
    """Summary of one trajectory group."""

    label: str
    order: int
    pi: float
    pi_se: float
    assigned_n: int
    assigned_share: float
    app: float
    occ: float
    coefficients: tuple[Coefficient, ...]
    fitted: tuple[float, ...]  # latent mean at each timepoint
    expected: tuple[float, ...]  # expected observed value under censoring
    observed_mean: tuple[float, ...]  # mean of assigned patients (NaN if none observed)
    observed_n: tuple[int, ...]
    grid_fitted: tuple[float, ...]
    grid_expected: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class Convergence:
    """How the optimum was reached."""

    method: str
    converged: bool
    message: str
    iterations: int
    evaluations: int
    max_abs_gradient: float  # per patient, at the reported optimum
    n_starts: int
    best_start: int
    # Per start; on the screening subsample when the data exceeded `screen_size`.
    start_log_likelihoods: tuple[float, ...]
    screened: bool
    hessian_ok: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True, eq=False)
class TrajectoryFit:
    """A fitted K-group model; groups are ordered by fitted baseline level (T1 lowest)."""

    n_groups: int
    orders: tuple[int, ...]
    months: tuple[float, ...]
    grid: tuple[float, ...]
    groups: tuple[TrajectoryGroup, ...]
    sigma: float
    sigma_se: float
    theta: tuple[float, ...]  # multinomial logit, theta_1 = 0
    theta_se: tuple[float, ...]
    log_likelihood: float
    n_parameters: int
    n_patients: int
    n_observations: int
    bic: float  # traj: logL - 0.5 k ln(patients), larger is better
    bic_obs: float  # logL - 0.5 k ln(observations)
    aic: float  # traj scale: logL - k, larger is better
    posterior: NDArray[np.float64]  # input rows x K; NaN rows for patients with no observation
    assignment: NDArray[np.int64]  # 0-based group index; -1 for patients with no observation
    diagnostics: Diagnostics
    convergence: Convergence
    residual_icc: float
    warnings: tuple[str, ...]
    random_intercept_test: dict[str, float]
    parameter_names: tuple[str, ...]
    covariance: NDArray[np.float64]  # of (betas per month, sigma, theta_2..K)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(g.label for g in self.groups)

    @property
    def adequate(self) -> bool:
        return self.diagnostics.adequate

    def to_dict(self, include_posterior: bool = True) -> dict[str, Any]:
        skip = () if include_posterior else ("posterior", "assignment")
        out = dataclass_dict(self, skip=skip)
        out["labels"] = list(self.labels)
        out["adequate"] = self.adequate
        return out
