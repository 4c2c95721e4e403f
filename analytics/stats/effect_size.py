"""Standardised mean differences for paired (baseline vs follow-up) designs.

Every function returns an :class:`EffectSize` with a normal-approximation confidence interval
``d +/- z * SE``. Which standardiser to use is a reporting choice, so the kind is carried with the
result and should be shown next to the figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Kind = Literal["d_z", "d_av", "d_pre"]
KINDS: tuple[str, ...] = ("d_z", "d_av", "d_pre")


@dataclass(frozen=True)
class EffectSize:
    """A standardised mean difference with its standard error and confidence interval."""

    kind: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    level: float = 0.95
    r: float | None = None

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable summary."""
        return {
            "kind": self.kind,
            "estimate": self.estimate,
            "se": self.se,
            "ci95" if self.level == 0.95 else f"ci{round(self.level * 100)}": [
                self.ci_low,
                self.ci_high,
            ],
            "n": self.n,
            "r": self.r,
        }


def _build(kind: str, d: float, se: float, n: int, level: float, r: float | None) -> EffectSize:
    z = float(stats.norm.ppf(0.5 + level / 2))
    return EffectSize(kind, float(d), float(se), float(d - z * se), float(d + z * se), n, level, r)


def d_z(mean_change: float, sd_change: float, n: int, *, level: float = 0.95) -> EffectSize:
    """Standardise the mean change by the SD of the changes.

    ``d_z = mean(change) / SD(change)``, ``SE = sqrt(1/n + d_z^2 / (2n))``.
    """
    d = mean_change / sd_change
    se = math.sqrt(1.0 / n + d * d / (2.0 * n))
    return _build("d_z", d, se, n, level, None)


def d_av(
    mean_change: float, sd_pre: float, sd_post: float, n: int, r: float, *, level: float = 0.95
) -> EffectSize:
    """Standardise the mean change by the average of the two variances.

    ``d_av = mean(change) / sqrt((SD_pre^2 + SD_post^2) / 2)``,
    ``SE = sqrt(2(1 - r)/n + d_av^2 / (2n))`` with ``r`` the pre/post correlation.
    """
    d = mean_change / math.sqrt((sd_pre**2 + sd_post**2) / 2.0)
    se = math.sqrt(2.0 * (1.0 - r) / n + d * d / (2.0 * n))
    return _build("d_av", d, se, n, level, r)


def d_pre(
    mean_change: float, sd_pre: float, n: int, r: float, *, level: float = 0.95
) -> EffectSize:
    """Standardise the mean change by the baseline SD.

    ``d_pre = mean(change) / SD_pre``, ``SE = sqrt(2(1 - r)/n + d_pre^2 / (2n))``.
    """
    d = mean_change / sd_pre
    se = math.sqrt(2.0 * (1.0 - r) / n + d * d / (2.0 * n))
    return _build("d_pre", d, se, n, level, r)


def implied_correlation(sd_pre: float, sd_post: float, sd_change: float) -> float:
    """Solve ``SD_change^2 = SD_pre^2 + SD_post^2 - 2 r SD_pre SD_post`` for ``r``."""
    return (sd_pre**2 + sd_post**2 - sd_change**2) / (2.0 * sd_pre * sd_post)


def paired(
    pre: np.ndarray, post: np.ndarray, kind: str = "d_av", *, level: float = 0.95
) -> EffectSize:
    """Compute a paired effect size from raw values; pairs with a missing side are dropped."""
    a = np.asarray(pre, dtype=float)
    b = np.asarray(post, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n < 3:
        raise ValueError("at least three complete pairs are needed")
    change = b - a
    mean_change = float(change.mean())
    sd0, sd1 = float(a.std(ddof=1)), float(b.std(ddof=1))
    r = float(np.corrcoef(a, b)[0, 1])
    if kind == "d_z":
        return d_z(mean_change, float(change.std(ddof=1)), n, level=level)
    if kind == "d_av":
        return d_av(mean_change, sd0, sd1, n, r, level=level)
    if kind == "d_pre":
        return d_pre(mean_change, sd0, n, r, level=level)
    raise ValueError(f"unknown effect size {kind!r}; choose one of {KINDS}")
