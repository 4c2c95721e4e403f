"""Nagin's adequacy diagnostics for a fitted trajectory model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .model import dataclass_dict

MIN_SHARE = 0.05
MIN_APP = 0.7
MIN_OCC = 5.0
# Nagin gives no number for "close"; an absolute gap of 5 points is used and reported.
MAX_SHARE_GAP = 0.05


@dataclass(frozen=True)
class AdequacyThresholds:
    """Cut-offs of the adequacy checks."""

    min_share: float = MIN_SHARE
    min_app: float = MIN_APP
    min_occ: float = MIN_OCC
    max_share_gap: float = MAX_SHARE_GAP

    def to_dict(self) -> dict[str, Any]:
        return dataclass_dict(self)


@dataclass(frozen=True)
class Diagnostics:
    """Per-group APP, OCC and estimated versus assigned proportions, with the check outcome."""

    pi: tuple[float, ...]
    assigned_n: tuple[int, ...]
    assigned_share: tuple[float, ...]
    app: tuple[float, ...]  # NaN where no patient is assigned
    occ: tuple[float, ...]  # inf where APP == 1
    thresholds: AdequacyThresholds
    failures: tuple[str, ...]

    @property
    def adequate(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        out = dataclass_dict(self)
        out["adequate"] = self.adequate
        return out


def odds_of_correct_classification(app: ArrayLike, pi: ArrayLike) -> NDArray[np.float64]:
    """Return OCC_j = [APP_j / (1 - APP_j)] / [pi_j / (1 - pi_j)]."""
    app_arr = np.asarray(app, dtype=np.float64)
    pi_arr = np.asarray(pi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds_app = np.where(app_arr >= 1.0, np.inf, app_arr / (1.0 - app_arr))
        return np.asarray(odds_app / (pi_arr / (1.0 - pi_arr)), dtype=np.float64)


def diagnose(
    posterior: ArrayLike,
    pi: ArrayLike,
    thresholds: AdequacyThresholds | None = None,
    labels: tuple[str, ...] | None = None,
) -> Diagnostics:
    """Compute APP, OCC and shares from a posterior matrix (patients x groups) and pi."""
    limits = thresholds or AdequacyThresholds()
    post = np.asarray(posterior, dtype=np.float64)
    pi_arr = np.asarray(pi, dtype=np.float64)
    n_groups = post.shape[1]
    names = labels or tuple(f"T{j + 1}" for j in range(n_groups))
    assignment = post.argmax(axis=1)
    counts = np.bincount(assignment, minlength=n_groups)
    share = counts / max(post.shape[0], 1)
    sums = np.bincount(
        assignment, weights=post[np.arange(post.shape[0]), assignment], minlength=n_groups
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        app = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    occ = odds_of_correct_classification(app, pi_arr)
    if n_groups == 1:
        occ = np.array([np.inf])  # one group: classification is certain, OCC is unbounded
    failures: list[str] = []
    for j in range(n_groups):
        name = names[j]
        if share[j] < limits.min_share:
            failures.append(
                f"{name}: {share[j]:.1%} of patients assigned (< {limits.min_share:.0%})"
            )
        if not app[j] >= limits.min_app:
            failures.append(f"{name}: APP {app[j]:.3f} (< {limits.min_app})")
        if not occ[j] >= limits.min_occ:
            failures.append(f"{name}: OCC {occ[j]:.2f} (< {limits.min_occ:g})")
        if abs(pi_arr[j] - share[j]) > limits.max_share_gap:
            failures.append(
                f"{name}: estimated share {pi_arr[j]:.1%} vs assigned {share[j]:.1%} "
                f"(gap > {limits.max_share_gap:.0%})"
            )
    return Diagnostics(
        pi=tuple(float(v) for v in pi_arr),
        assigned_n=tuple(int(v) for v in counts),
        assigned_share=tuple(float(v) for v in share),
        app=tuple(float(v) for v in app),
        occ=tuple(float(v) for v in occ),
        thresholds=limits,
        failures=tuple(failures),
    )
