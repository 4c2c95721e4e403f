"""The group-based model beside the latent-class mixed model, and which one gives memberships.

The group-based model (``fit``) treats a patient's calls as independent given the group; the
latent-class mixed model (``mixed_classes``) adds a random intercept per patient. Both are fitted
on the same data with the same groups and orders; ``choose_memberships`` says, from the fits,
which model's posteriors the memberships are read from, and why.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from .fit import TrajectoryFit
from .fit.residuals import RANDOM_INTERCEPT_ALPHA
from .mixed_classes import CONVERGENCE_CRITERION, MixedClassFit, fit_mixed_classes

GBTM = "group_based"
MIXED = "latent_class_mixed"
# The share of the group-based model's residual ICC given to the random intercept at the start
# is kept within these bounds, so that neither variance starts at zero.
ICC_START_BOUNDS = (0.05, 0.9)
# Above this many patients the mixed model's parameters are estimated on a seeded subset (its
# numerical-gradient fit takes about 15 s at 300 patients and grows with them).
MAX_FIT_PATIENTS = 500


def relative_entropy(posterior: ArrayLike) -> float | None:
    """Return 1 - E / (N ln K) of the posteriors (1: every patient surely classified)."""
    post = np.asarray(posterior, dtype=np.float64)
    post = post[np.isfinite(post).all(axis=1)]
    n, k = post.shape
    if n == 0 or k < 2:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(post > 0, -post * np.log(post), 0.0)
    return float(1.0 - terms.sum() / (n * math.log(k)))


@dataclass(frozen=True, eq=False)
class MixedFitted:
    """The mixed model's fit on every patient, and how it was reached."""

    fit: MixedClassFit  # log-likelihood, posteriors and diagnostics on every patient
    fitted_patients: int  # the patients the parameters were estimated on
    estimated: MixedClassFit  # the estimation's fit: ``fit`` itself unless on a subset

    @property
    def converged(self) -> bool:
        """Whether the estimation ended at a maximum (``mixed_classes.CONVERGENCE_CRITERION``)."""
        return self.estimated.converged

    def convergence(self) -> dict[str, Any]:
        """Return the verdict on the estimation's end point, its figures and the criterion."""
        fit = self.estimated
        return {
            "converged": fit.converged,
            "criterion": CONVERGENCE_CRITERION,
            "newton_gain": fit.newton_gain,
            "newton_step_gain": fit.newton_step_gain,
            "least_curvature": fit.least_curvature,
            "max_gradient_per_patient": fit.max_gradient,
            "iterations": fit.iterations,
            "optimiser_message": fit.message,
        }


def _start_from(paper_fit: TrajectoryFit) -> dict[str, Any]:
    """Return the mixed model's start at the group-based optimum (see ``fit_mixed_from``)."""
    icc = paper_fit.random_intercept_test.get("icc", float("nan"))
    share = float(np.clip(icc if math.isfinite(icc) else 0.3, *ICC_START_BOUNDS))
    scale = 10.0  # the likelihood's time scale (model.DEFAULT_TIME_SCALE)
    return {
        "start_betas": [
            [c.estimate * scale**i for i, c in enumerate(group.coefficients)]
            for group in paper_fit.groups
        ],
        "start_sigma": paper_fit.sigma * math.sqrt(1.0 - share),
        "start_tau": paper_fit.sigma * math.sqrt(share),
        "start_pi": [g.pi for g in paper_fit.groups],
    }


def fit_mixed_from(
    paper_fit: TrajectoryFit,
    y: ArrayLike,
    months: ArrayLike,
    *,
    max_patients: int = MAX_FIT_PATIENTS,
    seed: int = 0,
    max_iter: int = 500,
) -> MixedFitted:
    """Fit the latent-class mixed model started at the group-based model's optimum.

    The betas are the group-based model's (on the scaled time of the likelihood), the shares
    its shares, and its residual variance is split between the random intercept and the calls
    by the residual ICC of its groups. Above ``max_patients`` patients the parameters are
    estimated on a seeded random subset of that many and the likelihood, posteriors and
    diagnostics are then computed on every patient at those estimates (their log-likelihood is
    then at most the maximum's: the comparison with the group-based model is conservative).
    """
    values = np.asarray(y, dtype=np.float64)
    seen = np.flatnonzero(~np.isnan(values).all(axis=1))
    orders = paper_fit.orders
    if seen.size <= max_patients:
        fit = fit_mixed_classes(values, months, orders, **_start_from(paper_fit), max_iter=max_iter)
        return MixedFitted(fit, int(seen.size), fit)
    rows = np.sort(np.random.default_rng(seed).choice(seen, size=max_patients, replace=False))
    part = fit_mixed_classes(
        values[rows], months, orders, **_start_from(paper_fit), max_iter=max_iter
    )
    every = fit_mixed_classes(
        values,
        months,
        part.orders,
        start_betas=part.betas,
        start_sigma=part.sigma,
        start_tau=part.tau,
        start_pi=part.pi,
        max_iter=0,  # evaluate at the subset's estimates
    )
    return MixedFitted(every, max_patients, part)


def intercept_likelihood_ratio(mixed: MixedClassFit, paper_fit: TrajectoryFit) -> dict[str, Any]:
    """Test tau = 0 by the likelihood ratio of the two fits (boundary: half chi-square, 1 df)."""
    statistic = max(0.0, 2.0 * (mixed.log_likelihood - paper_fit.log_likelihood))
    return {
        "statistic": statistic,
        "df": 1,
        "p": float(0.5 * stats.chi2.sf(statistic, 1)) if statistic > 0 else 1.0,
        "reference": "50:50 mixture of chi-square 0 and 1 df (variance on its boundary)",
    }


def _summary(
    *,
    bic: float,
    log_likelihood: float,
    n_parameters: int,
    posterior: NDArray[np.float64],
    diagnostics: Any,
    labels: list[str],
) -> dict[str, Any]:
    """Return the figures both models report: fit, classification quality, shares."""
    finite = posterior[np.isfinite(posterior).all(axis=1)]
    return {
        "bic": bic,
        "log_likelihood": log_likelihood,
        "n_parameters": n_parameters,
        "entropy": relative_entropy(posterior),
        "mean_posterior": float(finite.max(axis=1).mean()) if finite.size else None,
        "groups": {
            name: {
                "estimated_pct": 100.0 * diagnostics.pi[j],
                "assigned_n": diagnostics.assigned_n[j],
                "assigned_pct": 100.0 * diagnostics.assigned_share[j],
                "app": diagnostics.app[j],
                "occ": diagnostics.occ[j],
            }
            for j, name in enumerate(labels)
        },
        "adequate": diagnostics.adequate,
        "failures": list(diagnostics.failures),
    }


def gbtm_summary(fit: TrajectoryFit, labels: list[str]) -> dict[str, Any]:
    """Return the group-based model's figures (as ``mixed_summary`` gives the mixed model's)."""
    return _summary(
        bic=fit.bic,
        log_likelihood=fit.log_likelihood,
        n_parameters=fit.n_parameters,
        posterior=fit.posterior,
        diagnostics=fit.diagnostics,
        labels=labels,
    )


def mixed_summary(fitted: MixedFitted, labels: list[str]) -> dict[str, Any]:
    """Return the latent-class mixed model's figures, its variances and its convergence."""
    fit = fitted.fit
    out = _summary(
        bic=fit.bic,
        log_likelihood=fit.log_likelihood,
        n_parameters=fit.n_parameters,
        posterior=fit.posterior,
        diagnostics=fit.diagnostics,
        labels=labels,
    )
    out.update(
        {
            "orders": list(fit.orders),
            "sigma": fit.sigma,
            "tau": fit.tau,
            "icc": fit.tau**2 / (fit.tau**2 + fit.sigma**2),
            "quadrature_nodes": fit.nodes,
            "patients": fit.n_patients,
            "estimated_on_patients": fitted.fitted_patients,
            "converged": fitted.converged,
            "message": fitted.estimated.message,
            "convergence": fitted.convergence(),
        }
    )
    return out


def accuracy_claims(group_based: ArrayLike, mixed: ArrayLike) -> dict[str, Any]:
    """Return the accuracy each model's posteriors claim, and whether both claims can hold.

    The claimed accuracy is the mean posterior of the assigned group: the share of patients in
    their true group that the posteriors promise if the model is the data's. A patient both
    models place in the true group is one they agree on, so the two accuracies a and b satisfy
    a + b <= 1 + agreement (groups matched by the permutation that agrees best): the lesser is
    at most (1 + agreement) / 2, and claims summing above 1 + agreement cannot both hold.
    """
    first = np.asarray(group_based, dtype=np.float64)
    second = np.asarray(mixed, dtype=np.float64)
    both = np.isfinite(first).all(axis=1) & np.isfinite(second).all(axis=1)
    first, second = first[both], second[both]
    if not both.any():
        return {"patients": 0}
    a, b = first.argmax(axis=1), second.argmax(axis=1)
    agreement = max(
        float(np.mean(np.asarray(perm)[a] == b))
        for perm in itertools.permutations(range(first.shape[1]))
    )
    claimed = {GBTM: float(first.max(axis=1).mean()), MIXED: float(second.max(axis=1).mean())}
    return {
        "patients": int(both.sum()),
        "claimed": claimed,
        "agreement": agreement,
        "lesser_accuracy_at_most": (1.0 + agreement) / 2.0,
        "claims_can_both_hold": claimed[GBTM] + claimed[MIXED] <= 1.0 + agreement,
    }


@dataclass(frozen=True)
class MembershipChoice:
    """Which model the memberships come from, the checks that decided it, and why in words."""

    model: str
    checks: dict[str, bool]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "checks": dict(self.checks), "reason": self.reason}


def choose_memberships(
    paper_fit: TrajectoryFit,
    mixed: MixedClassFit | None,
    intercept_test: Mapping[str, float],
) -> MembershipChoice:
    """Choose the mixed model when it fits better and the data have a patient level.

    The mixed model is chosen when (1) its BIC is better than the group-based model's, (2) the
    group-based model's residuals keep a patient level (``intercept_test``, the one-way F test
    of ``residual_intercept_test``, P < .05) and (3) none of its groups is empty. Otherwise the
    group-based model, which assumes no patient level, gives them.
    """
    p = float(intercept_test.get("p", float("nan")))
    checks = {
        "mixed_model_fitted": mixed is not None,
        "mixed_bic_better": mixed is not None and mixed.bic > paper_fit.bic,
        "patient_level_found": math.isfinite(p) and p < RANDOM_INTERCEPT_ALPHA,
        "mixed_groups_all_assigned": mixed is not None and min(mixed.diagnostics.assigned_n) > 0,
    }
    p_words = "not computable" if not math.isfinite(p) else f"P = {p:.3g}"
    bics = (
        f"BIC {mixed.bic:.1f} (mixed) vs {paper_fit.bic:.1f} (group-based, larger is better)"
        if mixed is not None
        else "the mixed model could not be fitted"
    )
    if all(checks.values()):
        assert mixed is not None
        reason = (
            f"Memberships from the latent-class mixed model: {bics}, and the group-based "
            f"model's residuals keep a patient level (random-intercept test {p_words}; "
            f"random-intercept SD {mixed.tau:.2f}). The group-based model treats a patient's "
            "calls as independent and overstates how sure each membership is."
        )
        return MembershipChoice(MIXED, checks, reason)
    failed = [name for name, ok in checks.items() if not ok]
    reason = (
        f"Memberships from the group-based model: {bics}; random-intercept test {p_words}; "
        f"not met: {', '.join(failed)}. The mixed model's memberships are used only when it "
        "fits better and the data keep a patient level."
    )
    return MembershipChoice(GBTM, checks, reason)
