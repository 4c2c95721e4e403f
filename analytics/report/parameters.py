"""What a run is: the parameters it depends on, its steps, the outcomes and groups it reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from analytics.stats.mixed.study import EFFECT_SIZES

SCHEMA = "ketamine-followup/analysis-report"
SCHEMA_VERSION = 1
OUTCOMES = ("nprs_mean", "nprs_max", "hads_a", "hads_d", "sf12_pcs", "sf12_mcs")
TRAJECTORY_NAMES = ("T1_lesser_pain", "T2_moderate_pain", "T3_severe_pain")
NEUROPATHIC = ("peripheral_neuropathic", "central_neuropathic")
LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "django")


@dataclass(frozen=True)
class Parameters:
    """Every choice a run depends on; part of the data fingerprint."""

    effect_size: str = "d_z"
    reml: bool = False
    n_boot: int = 1000
    seed: int = 2023
    trajectory_groups: tuple[int, ...] = (1, 2, 3, 4, 5)
    trajectory_orders: tuple[int, ...] = (1, 2, 3)
    trajectory_starts: int = 5
    paper_groups: int = 3

    def check(self) -> None:
        """Refuse a choice no analysis knows (a run then fails with this message)."""
        if self.effect_size not in EFFECT_SIZES:
            raise ValueError(
                f"unknown effect size {self.effect_size!r}; choose one of {EFFECT_SIZES}"
            )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Parameters:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        for key in ("trajectory_groups", "trajectory_orders"):
            if key in known:
                known[key] = tuple(int(v) for v in known[key])
        return cls(**known)


Progress = Callable[[str, int, int], None]
STEPS = (
    "descriptive",
    "mixed_models",
    "interactions",
    "trajectories",
    "trajectory_comparisons",
    "mediation",
)
