"""The trajectory block's second model: the latent-class mixed model beside the paper's.

Both are fitted on the same IV patients with the same groups and orders; the run says which
one the memberships come from and why (``two_models.choose_memberships``), and redoes the first
divergence over classes drawn from that model's posteriors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.stats.trajectories import TrajectoryFit, pseudo_class_tests
from analytics.stats.trajectories.divergence import first_divergence_over_draws
from analytics.stats.trajectories.mixed_classes import MixedClassFit
from analytics.stats.trajectories.two_models import (
    GBTM,
    MAX_FIT_PATIENTS,
    MIXED,
    MembershipChoice,
    accuracy_claims,
    choose_memberships,
    fit_mixed_from,
    gbtm_summary,
    intercept_likelihood_ratio,
    mixed_summary,
)
from cohort.vocabulary import MONTH_OF_TIMEPOINT

from .parameters import Parameters
from .shaping import MODEL_ERRORS, num, unavailable

DIVERGENCE_DRAWS = 50
COMPARISON_DRAWS = 50
MODELS_METHOD = (
    "Both models on the same IV patients, groups and polynomial orders: the paper's "
    "group-based model (calls independent given the group) and a latent-class mixed model "
    "(the same groups plus a random intercept per patient, censored at 0 and 10, adaptive "
    "Gauss-Hermite quadrature, started at the group-based optimum; above {max_patients} "
    "patients estimated on a seeded random subset of that many, then evaluated on all). "
    "BIC and log-likelihood on the traj scale (larger is better); APP, OCC, shares and the "
    "relative entropy of each model's posteriors."
)
DRAWS_METHOD = (
    "The first divergence redone over {draws} draws of every patient's group from the "
    "posteriors of the model the memberships come from ({model}); in each draw the same "
    "random-intercept model of change per pair of groups, Holm over the pair's follow-up "
    "timepoints, P < .05. Per pair: in how many draws the groups diverged, where they first "
    "did, and per timepoint the median Holm P and the draws in which it was below .05."
)


COMPARISONS_METHOD = (
    "{draws} draws of every patient's group from the posteriors of the model the memberships "
    "come from ({model}); the P of each test over the draws (median, 2.5-97.5% range, share "
    "below .05). The draws carry the uncertainty those posteriors claim, no more: see the "
    "memberships note."
)


@dataclass(frozen=True, eq=False)
class ModelsCompared:
    """The two fits, which one gives the memberships, and the report's block on them."""

    mixed: MixedClassFit | None
    choice: MembershipChoice
    block: dict[str, Any]

    def chosen_posterior(self, paper_fit: TrajectoryFit) -> Any:
        """Return the posteriors of the model the memberships come from."""
        if self.choice.model == MIXED and self.mixed is not None:
            return self.mixed.posterior
        return paper_fit.posterior


def not_converged_warning(convergence: dict[str, Any]) -> str:
    """Say that the mixed model's estimation stopped short of a maximum, with its figures."""
    return (
        "The latent-class mixed model's estimation did not reach a maximum of its likelihood "
        f"(a Newton step from its end point adds {convergence['newton_step_gain']:.3g} to the "
        f"log-likelihood; least curvature {convergence['least_curvature']:.3g}; optimiser: "
        f"{convergence['optimiser_message']}): its BIC, posteriors and the memberships and "
        "draws taken from them are provisional."
    )


def _claims(claims: dict[str, Any]) -> dict[str, Any]:
    """Add to the two models' accuracy claims what they mean, in words from the run."""
    if not claims.get("patients"):
        return claims
    gbtm, mixed = claims["claimed"][GBTM], claims["claimed"][MIXED]
    verdict = (
        "these claims can both hold"
        if claims["claims_can_both_hold"]
        else "these claims cannot both hold: at least one model's posteriors overstate"
    )
    note = (
        f"Claimed accuracy (mean posterior of the assigned group): {gbtm:.2f} group-based, "
        f"{mixed:.2f} mixed. The two models put {claims['agreement']:.2f} of the patients in "
        f"the same group, so the less accurate of them places at most "
        f"{claims['lesser_accuracy_at_most']:.2f} in their true group; {verdict}. A claimed "
        "accuracy is model-based: it holds only if the model is the data's. A parametric "
        "bootstrap from the fitted model does not test that (the model holds in its draws), "
        "so no bootstrap-calibrated figure is given."
    )
    return {**claims, "note": note}


def compare_models(
    wide: pd.DataFrame,
    months: list[float],
    paper_fit: TrajectoryFit,
    names: list[str],
    *,
    seed: int = 0,
) -> ModelsCompared:
    """Fit the mixed model beside the paper's, summarise both and choose the memberships' one."""
    mixed: MixedClassFit | None
    try:
        fitted = fit_mixed_from(paper_fit, wide.to_numpy(dtype=float), months, seed=seed)
        mixed = fitted.fit
        mixed_block: dict[str, Any] = {"available": True, **mixed_summary(fitted, names)}
        if not fitted.converged:
            mixed_block["warnings"] = [not_converged_warning(mixed_block["convergence"])]
    except MODEL_ERRORS as error:
        mixed = None
        mixed_block = unavailable(error, "the latent-class mixed model could not be fitted")
    choice = choose_memberships(paper_fit, mixed, paper_fit.random_intercept_test)
    block = {
        "method": MODELS_METHOD.format(max_patients=MAX_FIT_PATIENTS),
        GBTM: {"orders": list(paper_fit.orders), **gbtm_summary(paper_fit, names)},
        MIXED: mixed_block,
        "random_intercept_test": dict(paper_fit.random_intercept_test),
        "intercept_likelihood_ratio": (
            intercept_likelihood_ratio(mixed, paper_fit) if mixed is not None else None
        ),
        "accuracy_claims": (
            _claims(accuracy_claims(paper_fit.posterior, mixed.posterior))
            if mixed is not None
            else None
        ),
    }
    return ModelsCompared(mixed, choice, block)


def membership_table(
    patient_ids: np.ndarray, names: list[str], paper_fit: TrajectoryFit, compared: ModelsCompared
) -> dict[str, Any]:
    """Return each IV patient's group from the chosen model, and the paper model's beside it."""

    def columns(posterior: Any) -> tuple[list[str | None], list[float | None]]:
        post = np.asarray(posterior, dtype=float)
        seen = np.isfinite(post).all(axis=1)
        filled = np.where(seen[:, None], post, 0.0)
        at, top = filled.argmax(axis=1).tolist(), filled.max(axis=1).tolist()
        rows = zip(at, top, seen.tolist(), strict=True)
        groups: list[str | None] = []
        best: list[float | None] = []
        for j, value, ok in rows:
            groups.append(names[j] if ok else None)
            best.append(num(value) if ok else None)
        return groups, best

    group, posterior = columns(compared.chosen_posterior(paper_fit))
    paper_group, paper_posterior = columns(paper_fit.posterior)
    return {
        "model": compared.choice.model,
        "patient": np.asarray(patient_ids).astype(np.int64).tolist(),
        "group": group,
        "posterior": posterior,
        "paper_group": paper_group,
        "paper_posterior": paper_posterior,
    }


def comparisons_over_draws(
    table: pd.DataFrame,
    paper_fit: TrajectoryFit,
    compared: ModelsCompared,
    params: Parameters,
    *,
    continuous: tuple[str, ...],
    categorical: tuple[str, ...],
) -> dict[str, Any]:
    """Return the baseline comparisons over class draws from the chosen model's posteriors."""
    tests = pseudo_class_tests(
        table,
        compared.chosen_posterior(paper_fit),
        continuous=continuous,
        categorical=categorical,
        draws=COMPARISON_DRAWS,
        seed=params.seed,
    )
    return {
        "method": COMPARISONS_METHOD.format(draws=COMPARISON_DRAWS, model=compared.choice.model),
        "model": compared.choice.model,
        "draws": COMPARISON_DRAWS,
        "tests": tests,
    }


def pain_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the patient, month and pain columns the first divergence reads, pain as "nprs"."""
    return frame[["patient", "month", "nprs_mean"]].rename(columns={"nprs_mean": "nprs"})


def draws_note(compared: ModelsCompared) -> str:
    """Say which figures stay the paper model's and which draw from the chosen posteriors."""
    warnings = compared.block.get(MIXED, {}).get("warnings", [])
    return "".join(f" {warning}" for warning in warnings) + (
        " The groups, the group comparisons and first_divergence_from_baseline stay those of "
        "the paper's group-based model, for replication; comparisons_over_posterior_draws and "
        "first_divergence_over_posterior_draws draw every patient's group from the "
        f"{compared.choice.model} model's posteriors."
    )


def divergence_over_draws(
    frame: pd.DataFrame,
    patient_ids: np.ndarray,
    names: list[str],
    paper_fit: TrajectoryFit,
    compared: ModelsCompared,
    params: Parameters,
) -> dict[str, Any]:
    """Return the first divergence of each pair over class draws from the chosen posteriors."""
    label_of_month = {float(m): code for code, m in MONTH_OF_TIMEPOINT.items()}
    pairs = first_divergence_over_draws(
        pain_rows(frame),
        list(patient_ids),
        compared.chosen_posterior(paper_fit),
        names,
        draws=DIVERGENCE_DRAWS,
        seed=params.seed,
        timepoints=label_of_month,
    )
    return {
        "method": DRAWS_METHOD.format(draws=DIVERGENCE_DRAWS, model=compared.choice.model),
        "model": compared.choice.model,
        "draws": DIVERGENCE_DRAWS,
        "pairs": {
            f"{a.split('_')[0]}_vs_{b.split('_')[0]}": summary for (a, b), summary in pairs.items()
        },
    }
