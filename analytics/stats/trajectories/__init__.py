"""Group-based trajectory modelling (Nagin; censored normal as Stata traj) and group comparisons.

Pure numpy/scipy and the mixed-model solver of ``analytics.stats.mixed``; no Django.
"""

from .comparison import (
    CategoricalComparison,
    ContinuousComparison,
    FisherResult,
    baseline_by_trajectory,
    chi_square_no_yates,
    compare_categorical,
    compare_continuous,
    fisher_exact_rxc,
    pseudo_class_tests,
)
from .diagnostics import AdequacyThresholds, Diagnostics, diagnose, odds_of_correct_classification
from .divergence import MonthContrast, PairDivergence, first_divergence, holm
from .fit import (
    RANDOM_INTERCEPT_WARNING,
    Coefficient,
    Convergence,
    TrajectoryFit,
    TrajectoryGroup,
    fit_prepared,
    fit_trajectories,
    random_intercept_warning,
    residual_icc,
    residual_intercept_test,
)
from .model import (
    CensoredMixtureLikelihood,
    PreparedData,
    censored_mean,
    log_likelihood,
    prepare_data,
)
from .selection import SweepRow, TrajectorySelection, choose, sweep_trajectories

__all__ = [
    "RANDOM_INTERCEPT_WARNING",
    "AdequacyThresholds",
    "CategoricalComparison",
    "CensoredMixtureLikelihood",
    "Coefficient",
    "ContinuousComparison",
    "Convergence",
    "Diagnostics",
    "FisherResult",
    "MonthContrast",
    "PairDivergence",
    "PreparedData",
    "SweepRow",
    "TrajectoryFit",
    "TrajectoryGroup",
    "TrajectorySelection",
    "baseline_by_trajectory",
    "censored_mean",
    "chi_square_no_yates",
    "choose",
    "compare_categorical",
    "compare_continuous",
    "diagnose",
    "first_divergence",
    "fisher_exact_rxc",
    "fit_prepared",
    "fit_trajectories",
    "holm",
    "log_likelihood",
    "odds_of_correct_classification",
    "prepare_data",
    "pseudo_class_tests",
    "random_intercept_warning",
    "residual_icc",
    "residual_intercept_test",
    "sweep_trajectories",
]
