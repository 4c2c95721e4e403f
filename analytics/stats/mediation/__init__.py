"""Multilevel mediation: the paper's reading (reconstructed) and a 1-1-1 within-patient model.

Both readings use random-intercept mixed models (REML) and a patient-cluster bootstrap. A
resample only repeats whole patients, so each model is reduced once to per-patient sufficient
statistics (within-patient cross-products and patient means); a resample is then a vector of
patient counts, and all resamples are fitted together on the profiled REML likelihood.

``reml`` fits every resample at once; ``models`` holds one model with its robust inference;
``resampling`` the bootstrap and its intervals; ``within`` and ``paper`` the two readings.
"""

from .models import COVARIATES, _Model, _prepare
from .paper import PAPER_FORMULA, PAPER_LABEL, PAPER_MODEL, paper_specification
from .reml import _batch_betas, _patient_stats
from .resampling import RATIO_WITHHELD, _resample_blocks, _resample_counts
from .within import within_patient_mediation

__all__ = [
    "COVARIATES",
    "PAPER_FORMULA",
    "PAPER_LABEL",
    "PAPER_MODEL",
    "RATIO_WITHHELD",
    "_Model",
    "_batch_betas",
    "_patient_stats",
    "_prepare",
    "_resample_blocks",
    "_resample_counts",
    "paper_specification",
    "within_patient_mediation",
]
