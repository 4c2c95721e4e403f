"""Random-intercept linear mixed models, LOCF and the study's longitudinal summaries."""

from analytics.stats.mixed.locf import locf
from analytics.stats.mixed.model import (
    MONTHS,
    TIMEPOINTS,
    Contrast,
    Design,
    MixedResult,
    WaldTest,
    build_design,
    fit,
    fit_lmm,
)
from analytics.stats.mixed.study import (
    analysis_frame,
    baseline_vs_m12,
    figure2,
    interaction_with_baseline_group,
    paired_values,
)

__all__ = [
    "MONTHS",
    "TIMEPOINTS",
    "Contrast",
    "Design",
    "MixedResult",
    "WaldTest",
    "analysis_frame",
    "baseline_vs_m12",
    "build_design",
    "figure2",
    "fit",
    "fit_lmm",
    "interaction_with_baseline_group",
    "locf",
    "paired_values",
]
