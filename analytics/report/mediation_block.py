"""The mediation block: the paper's specification and the within-patient mediations."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from analytics.stats import mediation
from analytics.stats.parallel import give_back_freed_memory

from .parameters import Parameters

# The columns the mediations read (analytics.stats.mediation): the report keeps only these of
# its carried-forward and observed rows once the other models are done with them.
MEDIATION_COLUMNS = (
    "patient",
    "month",
    "nprs_mean",
    "hads_d",
    "cumulative_dose_mg",
    "baseline_hads_d",
    "sex",
    "age",
)


def mediation_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``frame`` the mediations read, as a frame of its own."""
    return frame[list(MEDIATION_COLUMNS)]


def mediation_results(
    imputed: pd.DataFrame, observed: pd.DataFrame, params: Parameters
) -> dict[str, Any]:
    """The paper's specification on LOCF rows; the within-patient mediations on observed rows.

    Within a patient, LOCF pairs a carried HADS-D with a newly observed pain score (or the
    reverse) whenever one instrument is missing at a call, which weakens the b path; the
    observed rows are valid under missing at random.
    """
    paper: dict[str, Any] = cast(
        dict[str, Any],
        mediation.paper_specification(imputed, n_boot=params.n_boot, seed=params.seed),
    )
    give_back_freed_memory()  # each mediation's working set, before the next one's
    within = mediation.within_patient_mediation(
        observed, "month", "hads_d", "nprs_mean", n_boot=params.n_boot, seed=params.seed
    )
    within["rows"] = "observed"
    give_back_freed_memory()
    dose = mediation.within_patient_mediation(
        observed,
        "month",
        "cumulative_dose_mg",
        "nprs_mean",
        n_boot=params.n_boot,
        seed=params.seed,
    )
    dose["rows"] = "observed"
    path1 = paper["path1_dose_to_pain"]
    path2 = paper["path2_dose_to_depression"]
    return {
        "model": paper["model"],
        "path1_dose_to_pain": {"r": path1["r"], "p": path1["p"]},
        "path2_dose_to_depression": {"r": path2["r"], "p": path2["p"]},
        "path3_depression_to_pain": paper["path3_depression_to_pain"],
        "path3_dose_to_pain": paper["path3_dose_to_pain"],
        "proportion_mediated_by_depression_pct": paper["proportion_mediated_by_depression_pct"],
        "proportion_mediated_by_dose_pct": paper["proportion_mediated_by_dose_pct"],
        "paper_specification": paper,
        "within_patient_depression": within,
        "within_patient_dose": dose,
    }
