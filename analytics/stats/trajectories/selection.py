"""Choice of the number of groups and polynomial orders by BIC and adequacy checks."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from numpy.typing import ArrayLike

from ..parallel import ordered_map
from .diagnostics import AdequacyThresholds
from .fit import Method, TrajectoryFit, fit_prepared, random_intercept_warning
from .model import dataclass_dict, prepare_data

Rule = Literal["bic", "bic_adequate"]
Criterion = Literal["bic", "bic_obs", "aic"]

CRITERION_NAMES = {
    "bic": "BIC (N = patients)",
    "bic_obs": "BIC (N = observations)",
    "aic": "AIC",
}


@dataclass(frozen=True)
class SweepRow:
    """One fitted model of the sweep."""

    n_groups: int
    orders: tuple[int, ...]
    log_likelihood: float
    n_parameters: int
    bic: float
    bic_obs: float
    aic: float
    adequate: bool
    failures: tuple[str, ...]
    smallest_share: float
    min_app: float
    min_occ: float
    pi: tuple[float, ...]
    converged: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True, eq=False)
class TrajectorySelection:
    """All fits of a sweep, the chosen model and the rule that chose it."""

    table: tuple[SweepRow, ...]
    fits: tuple[TrajectoryFit, ...]
    chosen_index: int
    rule: str
    criterion: str
    warnings: tuple[str, ...]
    seconds: float

    @property
    def chosen(self) -> TrajectoryFit:
        return self.fits[self.chosen_index]

    def to_dict(
        self, include_fits: bool = False, include_posterior: bool = False
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "table": [row.to_dict() for row in self.table],
            "chosen_index": self.chosen_index,
            "chosen": self.chosen.to_dict(include_posterior=include_posterior),
            "rule": self.rule,
            "criterion": self.criterion,
            "warnings": list(self.warnings),
            "seconds": self.seconds,
        }
        if include_fits:
            out["fits"] = [f.to_dict(include_posterior=include_posterior) for f in self.fits]
        return out


def _row(fit: TrajectoryFit) -> SweepRow:
    d = fit.diagnostics
    return SweepRow(
        n_groups=fit.n_groups,
        orders=fit.orders,
        log_likelihood=fit.log_likelihood,
        n_parameters=fit.n_parameters,
        bic=fit.bic,
        bic_obs=fit.bic_obs,
        aic=fit.aic,
        adequate=fit.adequate,
        failures=d.failures,
        smallest_share=min(d.assigned_share),
        min_app=min(d.app),
        min_occ=min(d.occ),
        pi=d.pi,
        converged=fit.convergence.converged,
        seconds=fit.convergence.seconds,
    )


def choose(
    fits: Sequence[TrajectoryFit], rule: Rule = "bic", criterion: Criterion = "bic"
) -> tuple[int, str]:
    """Return the index of the chosen fit and a sentence naming the rule that chose it."""
    if not fits:
        raise ValueError("no fits to choose from")
    if criterion not in CRITERION_NAMES:
        raise ValueError(f"criterion must be one of {sorted(CRITERION_NAMES)}")
    name = CRITERION_NAMES[criterion]
    scores = [getattr(f, criterion) for f in fits]
    # max() keeps the first of equal scores, i.e. the simpler model listed first.
    best = max(range(len(fits)), key=lambda i: scores[i])
    if rule == "bic":
        return best, f"highest {name}"
    if rule != "bic_adequate":
        raise ValueError("rule must be 'bic' or 'bic_adequate'")
    adequate = [i for i, f in enumerate(fits) if f.adequate]
    if not adequate:
        return best, f"highest {name} (no model passed the adequacy checks)"
    chosen = max(adequate, key=lambda i: scores[i])
    return chosen, f"highest {name} among models passing the adequacy checks"


def _specs(
    n_groups: Iterable[int], orders: Iterable[int], per_group_orders: Iterable[Sequence[int]]
) -> list[tuple[int, tuple[int, ...]]]:
    """Return the (K, orders) of every model to fit: each K with each common order, then extras."""
    specs: list[tuple[int, tuple[int, ...]]] = []
    for k in n_groups:
        for p in orders:
            specs.append((int(k), (int(p),) * int(k)))
    for combo in per_group_orders:
        spec = tuple(int(p) for p in combo)
        specs.append((len(spec), spec))
    if not specs:
        raise ValueError("nothing to fit")
    return specs


def _warnings(fits: tuple[TrajectoryFit, ...], index: int, criterion: Criterion) -> list[str]:
    """Return what a reader of the chosen model must know about the choice."""
    chosen = fits[index]
    # The random-intercept warning only when the chosen model's residuals show a patient level.
    warnings = [w for w in (random_intercept_warning(chosen.random_intercept_test),) if w]
    if not chosen.adequate:
        warnings.append(
            "The chosen model fails the adequacy checks: " + "; ".join(chosen.diagnostics.failures)
        )
    best_any, _ = choose(fits, "bic", criterion)
    if best_any != index:
        other = fits[best_any]
        warnings.append(
            f"The best {CRITERION_NAMES[criterion]} overall is K = {other.n_groups} "
            f"(orders {other.orders}), which fails the adequacy checks."
        )
    largest_k = max(f.n_groups for f in fits)
    if fits[best_any].n_groups == largest_k and largest_k > 1:
        warnings.append(
            f"{CRITERION_NAMES[criterion]} is still best at the largest K tried ({largest_k}); "
            "with a random intercept it may keep rising without new trajectory shapes."
        )
    if math.isfinite(chosen.residual_icc) and chosen.residual_icc > 0.1:
        warnings.append(
            f"Chosen model: residual within-patient correlation ICC {chosen.residual_icc:.2f}."
        )
    return warnings


def sweep_trajectories(
    y: ArrayLike,
    months: ArrayLike,
    n_groups: Iterable[int] = range(1, 6),
    orders: Iterable[int] = (1, 2, 3),
    *,
    per_group_orders: Iterable[Sequence[int]] = (),
    rule: Rule = "bic",
    criterion: Criterion = "bic",
    lower: float = 0.0,
    upper: float = 10.0,
    time_scale: float = 10.0,
    n_starts: int = 5,
    seed: int = 0,
    method: Method = "direct",
    thresholds: AdequacyThresholds | None = None,
    screen_size: int = 4000,
    n_refine: int = 2,
    standard_errors: bool = True,
) -> TrajectorySelection:
    """Fit every K in `n_groups` with each common order, plus any per-group order tuples.

    The model is chosen by `criterion` (traj's scale: larger is better); with
    `rule="bic_adequate"` only models passing Nagin's adequacy checks compete.
    """
    began = time.perf_counter()
    data = prepare_data(y, months, lower=lower, upper=upper, time_scale=time_scale)
    specs = _specs(n_groups, orders, per_group_orders)
    # The models are independent: they are fitted side by side when the run allows threads,
    # sharing the masked features, built here once rather than by the first thread to need them.
    # The most groups first: the longest fits do not come last, when one thread may be idle.
    _ = data.masked
    longest_first = sorted(range(len(specs)), key=lambda i: -specs[i][0])
    fitted = dict(
        zip(
            longest_first,
            ordered_map(
                lambda i: fit_prepared(
                    data,
                    *specs[i],
                    n_starts=n_starts,
                    seed=seed,
                    method=method,
                    thresholds=thresholds,
                    screen_size=screen_size,
                    n_refine=n_refine,
                    standard_errors=standard_errors,
                ),
                longest_first,
                rows=data.y.size,
            ),
            strict=True,
        )
    )
    fits = tuple(fitted[i] for i in range(len(specs)))
    index, rule_text = choose(fits, rule, criterion)
    warnings = _warnings(fits, index, criterion)
    return TrajectorySelection(
        table=tuple(_row(f) for f in fits),
        fits=fits,
        chosen_index=index,
        rule=rule_text,
        criterion=criterion,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - began,
    )
