"""Censored-normal group-based trajectory likelihood (Nagin; Stata traj, cnorm)."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .masks import MaskedFeatures, masked_features, masked_pass, normalise_block

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
DEFAULT_TIME_SCALE = 10.0
MAX_ORDER = 3
TERM_NAMES = ("intercept", "linear", "quadratic", "cubic")
CHUNK_ELEMENTS = 2**18
# From this many patients an evaluation groups them by observed-time mask (masks.py): it reads a
# quarter of the features. Below, the dense pass is as fast (they break even at 4,000-8,000).
MASKED_FROM = 8000


def plain(value: Any) -> Any:
    """Convert numpy and dataclass values to JSON-serialisable builtins (non-finite -> None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def dataclass_dict(obj: Any, skip: Sequence[str] = ()) -> dict[str, Any]:
    """Return the fields of a dataclass instance as plain types."""
    return {
        f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in skip
    }


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Wide outcome matrix reduced to the per-patient statistics the likelihood needs."""

    y: FloatArray  # included patients x timepoints, NaN = missing
    months: FloatArray
    time_scale: float
    lower: float
    upper: float
    included: BoolArray  # over the rows given by the caller
    # Rows: [at lower | at upper | interior | interior*y] per timepoint, then sum of interior y^2;
    # one column per patient so reductions over groups run along contiguous memory.
    features: FloatArray
    n_observations: int

    @property
    def n_patients(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_times(self) -> int:
        return int(self.y.shape[1])

    @property
    def scaled_times(self) -> FloatArray:
        return self.months / self.time_scale

    @functools.cached_property
    def masked(self) -> MaskedFeatures:
        """The features split by observed-time mask, built once for every model fitted."""
        return masked_features(self.features, self.n_times)


def prepare_data(
    y: ArrayLike,
    months: ArrayLike,
    *,
    lower: float = 0.0,
    upper: float = 10.0,
    time_scale: float = DEFAULT_TIME_SCALE,
) -> PreparedData:
    """Validate a wide matrix and build the censoring-aware feature matrix.

    Rows with no observation are excluded (they carry no information) and flagged in `included`.
    """
    values = np.array(y, dtype=np.float64, ndmin=2)
    times = np.asarray(months, dtype=np.float64).ravel()
    if values.ndim != 2 or values.shape[1] != times.size:
        raise ValueError("y must be patients x timepoints with one column per month")
    if not lower < upper:
        raise ValueError("lower must be below upper")
    observed = ~np.isnan(values)
    if np.any(values[observed] < lower - 1e-9) or np.any(values[observed] > upper + 1e-9):
        raise ValueError(f"observations must lie within [{lower}, {upper}]")
    included: BoolArray = np.asarray(observed.any(axis=1), dtype=bool)
    values = values[included]
    observed = observed[included]
    filled = np.where(observed, values, 0.0)
    at_lower = observed & (filled <= lower)
    at_upper = observed & (filled >= upper)
    interior = observed & ~at_lower & ~at_upper
    interior_y = np.where(interior, filled, 0.0)
    features = np.vstack(
        [
            at_lower.T.astype(np.float64),
            at_upper.T.astype(np.float64),
            interior.T.astype(np.float64),
            interior_y.T,
            (interior_y**2).sum(axis=1)[None, :],
        ]
    )
    return PreparedData(
        y=values,
        months=times,
        time_scale=float(time_scale),
        lower=float(lower),
        upper=float(upper),
        included=included,
        features=np.ascontiguousarray(features),
        n_observations=int(observed.sum()),
    )


def design_matrix(scaled_times: FloatArray, order: int) -> FloatArray:
    """Return the polynomial design (timepoints x order+1) in increasing powers."""
    if not 0 <= order <= MAX_ORDER:
        raise ValueError(f"polynomial order must be within 0..{MAX_ORDER}")
    return np.vander(scaled_times, order + 1, increasing=True)


def censored_mean(mu: FloatArray, sigma: float, lower: float, upper: float) -> FloatArray:
    """Return E[y] of a normal latent value censored to [lower, upper]."""
    a = (lower - mu) / sigma
    b = (upper - mu) / sigma
    cdf_a = special.ndtr(a)
    cdf_b = special.ndtr(b)
    pdf_a = np.exp(-0.5 * a**2 - LOG_SQRT_2PI)
    pdf_b = np.exp(-0.5 * b**2 - LOG_SQRT_2PI)
    return np.asarray(
        lower * cdf_a + upper * (1 - cdf_b) + mu * (cdf_b - cdf_a) + sigma * (pdf_a - pdf_b),
        dtype=np.float64,
    )


@dataclass(frozen=True, eq=False)
class EvalResult:
    """Log-likelihood, gradient and posterior at one parameter vector."""

    log_likelihood: float
    gradient: FloatArray
    posterior: FloatArray  # patients x groups
    patient_log_likelihood: FloatArray


class CensoredMixtureLikelihood:
    """Mixture of censored-normal polynomial trajectories with a shared sigma.

    The parameter vector is `[beta_1, ..., beta_K, log sigma, theta_2, ..., theta_K]`, betas on
    the scaled time axis (months / time_scale) and theta_1 fixed at 0. Every patient enters only
    through one column of `features`, so an evaluation is two matrix products over patients.
    """

    def __init__(self, data: PreparedData, orders: Sequence[int]) -> None:
        if len(orders) < 1:
            raise ValueError("at least one group is needed")
        self.data = data
        self.orders = tuple(int(p) for p in orders)
        self.n_groups = len(self.orders)
        self.designs = [design_matrix(data.scaled_times, p) for p in self.orders]
        self.beta_slices: list[slice] = []
        start = 0
        for p in self.orders:
            self.beta_slices.append(slice(start, start + p + 1))
            start += p + 1
        self.n_beta = start
        self.sigma_index = start
        self.n_params = start + 1 + (self.n_groups - 1)
        # Patients are processed in blocks small enough that each BLAS call stays single-threaded
        # and in cache: threaded calls on these skinny products were up to 10x slower on a busy
        # 2-core machine.
        self._chunk = max(64, CHUNK_ELEMENTS // (self.n_groups * data.features.shape[0]))

    # -- parameter handling -------------------------------------------------------------
    def unpack(self, vector: FloatArray) -> tuple[list[FloatArray], float, FloatArray]:
        """Split a vector into per-group betas, sigma and the full theta (theta_1 = 0)."""
        betas = [vector[s] for s in self.beta_slices]
        sigma = float(np.exp(vector[self.sigma_index]))
        theta = np.concatenate([[0.0], vector[self.sigma_index + 1 :]])
        return betas, sigma, theta

    def pack(self, betas: Sequence[ArrayLike], sigma: float, theta: ArrayLike) -> FloatArray:
        """Build a vector from per-group betas (scaled time), sigma and theta (any reference)."""
        theta_arr = np.asarray(theta, dtype=np.float64)
        parts = [np.asarray(b, dtype=np.float64).ravel() for b in betas]
        for part, p in zip(parts, self.orders, strict=True):
            if part.size != p + 1:
                raise ValueError("beta length does not match the polynomial order")
        return np.concatenate([*parts, [math.log(sigma)], theta_arr[1:] - theta_arr[0]])

    def means(self, betas: Sequence[FloatArray]) -> FloatArray:
        """Return latent means, timepoints x groups."""
        mu = np.empty((self.data.n_times, self.n_groups))
        for j, (z, b) in enumerate(zip(self.designs, betas, strict=True)):
            mu[:, j] = z @ b
        return mu

    # -- likelihood -------------------------------------------------------------------------
    def _weights(self, mu: FloatArray, sigma: float) -> dict[str, FloatArray]:
        data = self.data
        z_lo = (data.lower - mu) / sigma
        w_up = (mu - data.upper) / sigma
        log_lo = special.log_ndtr(z_lo)
        log_up = special.log_ndtr(w_up)
        inv_var = 1.0 / sigma**2
        t = mu.shape[0]
        weights = np.empty((4 * t + 1, mu.shape[1]))
        weights[:t] = log_lo
        weights[t : 2 * t] = log_up
        weights[2 * t : 3 * t] = -math.log(sigma) - LOG_SQRT_2PI - 0.5 * mu**2 * inv_var
        weights[3 * t : 4 * t] = mu * inv_var
        weights[4 * t] = -0.5 * inv_var
        # Inverse Mills ratios, computed in log space to stay finite deep in the tails.
        lam_lo = np.exp(-0.5 * z_lo**2 - LOG_SQRT_2PI - log_lo)
        lam_up = np.exp(-0.5 * w_up**2 - LOG_SQRT_2PI - log_up)
        return {
            "weights": weights,
            "z_lo": z_lo,
            "w_up": w_up,
            "lam_lo": lam_lo,
            "lam_up": lam_up,
        }

    def group_log_densities(self, vector: FloatArray) -> FloatArray:
        """Return log prod_t f(y_it | j), groups x patients."""
        betas, sigma, _ = self.unpack(vector)
        terms = self._weights(self.means(betas), sigma)
        return np.asarray(terms["weights"].T @ self.data.features)

    def expected_gradient(
        self, aggregated: FloatArray, vector: FloatArray
    ) -> tuple[float, FloatArray]:
        """Return sum(aggregated * W) and its gradient in (betas, log sigma).

        `aggregated` is features @ posterior; with it fixed this is the EM M-step objective, and
        its gradient equals the log-likelihood gradient in betas and log sigma (Fisher identity).
        """
        betas, sigma, _ = self.unpack(vector)
        mu = self.means(betas)
        terms = self._weights(mu, sigma)
        value = float(np.sum(aggregated * terms["weights"]))
        return value, self._beta_sigma_gradient(aggregated, mu, sigma, terms)

    def _beta_sigma_gradient(
        self, aggregated: FloatArray, mu: FloatArray, sigma: float, terms: dict[str, FloatArray]
    ) -> FloatArray:
        """Return the gradient in (betas, log sigma) of sum(aggregated * W) at these weights."""
        t = self.data.n_times
        g_lo = aggregated[:t]
        g_up = aggregated[t : 2 * t]
        g_n = aggregated[2 * t : 3 * t]
        g_y = aggregated[3 * t : 4 * t]
        g_y2 = aggregated[4 * t]
        lam_lo, lam_up = terms["lam_lo"], terms["lam_up"]
        d_mu = (-g_lo * lam_lo + g_up * lam_up) / sigma + (g_y - g_n * mu) / sigma**2
        grad = np.empty(self.sigma_index + 1)
        for j, (z, s) in enumerate(zip(self.designs, self.beta_slices, strict=True)):
            grad[s] = z.T @ d_mu[:, j]
        d_sigma = (
            -(g_lo * lam_lo * terms["z_lo"]).sum() / sigma
            - (g_up * lam_up * terms["w_up"]).sum() / sigma
            - g_n.sum() / sigma
            + (np.sum(g_y2) - 2.0 * (g_y * mu).sum() + (g_n * mu**2).sum()) / sigma**3
        )
        grad[self.sigma_index] = d_sigma * sigma
        return grad

    def evaluate(self, vector: FloatArray) -> EvalResult:
        """Return the log-likelihood, its analytic gradient and the posterior matrix."""
        vector = np.asarray(vector, dtype=np.float64)
        betas, sigma, theta = self.unpack(vector)
        log_pi = theta - (theta.max() + math.log(np.exp(theta - theta.max()).sum()))
        mu = self.means(betas)
        terms = self._weights(mu, sigma)
        weights_t = np.ascontiguousarray(terms["weights"].T)
        if self.data.n_patients >= MASKED_FROM:
            posterior, patient_ll, aggregated = masked_pass(
                self.data.masked, weights_t, log_pi, CHUNK_ELEMENTS
            )
        else:
            posterior, patient_ll, aggregated = self._dense_pass(weights_t, log_pi)
        # The weights at this vector serve the gradient too (Fisher identity, expected_gradient).
        grad_bs = self._beta_sigma_gradient(aggregated, mu, sigma, terms)
        counts = posterior.sum(axis=1)
        grad_theta = counts[1:] - self.data.n_patients * np.exp(log_pi[1:])
        return EvalResult(
            log_likelihood=float(patient_ll.sum()),
            gradient=np.concatenate([grad_bs, grad_theta]),
            posterior=posterior.T,
            patient_log_likelihood=patient_ll,
        )

    def _dense_pass(
        self, weights_t: FloatArray, log_pi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return posterior (groups x patients), patient log-likelihoods and features @ post.T."""
        features = self.data.features
        n = features.shape[1]
        posterior = np.empty((self.n_groups, n))
        patient_ll = np.empty(n)
        aggregated = np.zeros((features.shape[0], self.n_groups))
        step = self._chunk
        for start in range(0, n, step):
            block = features[:, start : start + step]
            log_joint = weights_t @ block
            log_joint += log_pi[:, None]
            scaled = normalise_block(log_joint, patient_ll[start : start + step])
            posterior[:, start : start + step] = scaled
            aggregated += block @ scaled.T
        return posterior, patient_ll, aggregated

    def log_likelihood(self, vector: FloatArray) -> float:
        """Return the total log-likelihood."""
        return self.evaluate(vector).log_likelihood

    def hessian(self, vector: FloatArray) -> FloatArray:
        """Return the Hessian by central differences of the analytic gradient."""
        vector = np.asarray(vector, dtype=np.float64)
        n = vector.size
        hess = np.empty((n, n))
        for i in range(n):
            step = 1e-5 * max(1.0, abs(vector[i]))
            up = vector.copy()
            down = vector.copy()
            up[i] += step
            down[i] -= step
            hess[:, i] = (self.evaluate(up).gradient - self.evaluate(down).gradient) / (2 * step)
        return 0.5 * (hess + hess.T)


def log_likelihood(
    y: ArrayLike,
    months: ArrayLike,
    betas: Sequence[ArrayLike],
    sigma: float,
    pi: ArrayLike,
    *,
    lower: float = 0.0,
    upper: float = 10.0,
) -> float:
    """Return the mixture log-likelihood for betas given per month (intercept first)."""
    data = prepare_data(y, months, lower=lower, upper=upper)
    orders = [np.asarray(b).size - 1 for b in betas]
    model = CensoredMixtureLikelihood(data, orders)
    scaled = [
        np.asarray(b, dtype=np.float64) * data.time_scale ** np.arange(np.asarray(b).size)
        for b in betas
    ]
    vector = model.pack(scaled, sigma, np.log(np.asarray(pi, dtype=np.float64)))
    return model.log_likelihood(vector)
