"""Assemble one analysis run into a JSON-ready report (schema: docs/analysis-report.md).

Pure: takes the frames of ``analytics.dataset.StudyData`` (no ORM), calls ``analytics.stats`` and
shapes the ``cohort`` and ``results`` blocks with the keys of the paper's published figures, so a
run and the paper can be compared key by key. Extra keys carry what the paper did not print.

``parameters`` says what a run depends on; ``changes`` (outcomes over time, baseline to M12,
interactions), ``trajectory_groups`` and ``mediation_block`` build the result blocks; ``notes``
writes the run's notes; ``shaping`` holds the small value shapes they share.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pandas as pd

from analytics.stats import censoring, descriptive
from analytics.stats.missingness import missingness_table
from analytics.stats.mixed import locf
from analytics.stats.parallel import give_back_freed_memory
from cohort.vocabulary import MONTH_OF_TIMEPOINT

from .changes import baseline_to_m12_blocks, evolution, interaction_blocks
from .mediation_block import mediation_results, mediation_rows
from .notes import (
    EFFECT_SIZE_FORMULAS,
    effect_size_note,
    library_versions,
    mediation_notes,
    run_notes,
)
from .parameters import (
    LIBRARIES,
    NEUROPATHIC,
    OUTCOMES,
    SCHEMA,
    SCHEMA_VERSION,
    STEPS,
    TRAJECTORY_NAMES,
    Parameters,
    Progress,
)
from .shaping import MODEL_ERRORS, p_text, unavailable
from .trajectory_groups import trajectories


def _ignore(step: str, done: int, total: int) -> None:
    return None


def _descriptive(
    data: Any, imputed: pd.DataFrame, observed: pd.DataFrame, cut: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the cohort block and the descriptive results (effects, treatments, evolution)."""
    long = data.long
    cohort = descriptive.baseline_table(data.patients, data.treatments)
    cohort["table"] = descriptive.format_table(data.patients, data.treatments)
    results: dict[str, Any] = {}
    results["adverse_effects"] = descriptive.adverse_effects(data.adverse_events, data.calls)
    results["concomitant_change_baseline_to_m12"] = descriptive.concomitant_change(
        data.treatments, data.calls
    )
    for block in results["concomitant_change_baseline_to_m12"].values():
        block["p_text"] = p_text(block["p"])
    results["evolution"] = evolution(imputed, observed, cut["reached"])
    results["missingness"] = missingness_table(
        long, OUTCOMES, timepoints=list(MONTH_OF_TIMEPOINT), elapsed=censoring.elapsed_mask(long)
    )
    return cohort, results


def _stamp_data_cut(
    results: dict[str, Any], cohort: dict[str, Any], data: Any, cut: dict[str, Any]
) -> None:
    """Give every block the data cut it was computed at (the trajectories: the IV patients')."""
    for block in results.values():
        if isinstance(block, dict) and "data_cut" not in block:
            block["data_cut"] = cut
    if results["trajectories"].get("available"):
        long = data.long
        iv = data.patients.loc[data.patients["iv_route"], "patient"]
        results["trajectories"]["data_cut"] = censoring.data_cut(
            long[long["patient"].isin(iv)], data.as_of
        )
    cohort["data_cut"] = cut


def _run_block(
    data: Any,
    params: Parameters,
    *,
    fingerprint: str,
    cut: dict[str, Any],
    timings: dict[str, float],
    carried: dict[str, Any],
    results: dict[str, Any],
) -> dict[str, Any]:
    """Return what the run read, with which parameters and versions, how long it took, notes."""
    long = data.long
    reached = long["call_status"].eq("reached")
    return {
        "patients": int(long["patient"].nunique()),
        "calls": int(reached.sum()),
        "calls_scheduled": len(long),
        "sites": int(long["site"].nunique()),
        "as_of": data.as_of.isoformat(),
        "data_cut": cut,
        "fingerprint": fingerprint,
        "parameters": params.to_dict(),
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        "versions": library_versions(),
        "carried_forward": {
            outcome: {str(k): int(v) for k, v in counts.items()}
            for outcome, counts in carried.items()
        },
        "notes": run_notes(params, results, data.as_of, cut),
    }


def build_report(
    data: Any,
    params: Parameters | None = None,
    *,
    progress: Progress = _ignore,
    fingerprint: str = "",
) -> dict[str, Any]:
    """Run every analysis of the study on ``data`` (a ``StudyData``) and return the report."""
    params = params or Parameters()
    params.check()
    timings: dict[str, float] = {}
    began = time.perf_counter()
    long = data.long
    # Administrative censoring: the analyses read only the timepoints that had come for each
    # patient at the data cut; the rest are not yet observed (analytics.stats.censoring).
    analysed = censoring.analysed_rows(long)
    cut = censoring.data_cut(long, data.as_of)
    m12_due = censoring.patients_reaching(long, "M12")
    observed = analysed[analysed["patient"].isin(long.loc[long["timepoint"] == "BL", "patient"])]
    imputed, carried = locf(analysed, list(OUTCOMES), by="patient")

    def step(name: str) -> float:
        give_back_freed_memory()  # what the last step freed, before the next one peaks
        progress(name, STEPS.index(name), len(STEPS))
        return time.perf_counter()

    t = step("descriptive")
    cohort, results = _descriptive(data, imputed, observed, cut)
    timings["descriptive"] = time.perf_counter() - t
    t = step("mixed_models")
    results.update(baseline_to_m12_blocks(analysed, imputed, params, m12_due))
    timings["mixed_models"] = time.perf_counter() - t
    # Only the mediation reads these rows from here on (the interactions prepare theirs from
    # ``analysed``), and only a few of their columns.
    imputed, observed = mediation_rows(imputed), mediation_rows(observed)
    t = step("interactions")
    results.update(interaction_blocks(analysed, params))
    timings["interactions"] = time.perf_counter() - t
    t = step("trajectories")
    results["trajectories"] = trajectories(replace(data, long=analysed), params, progress)
    timings["trajectories"] = time.perf_counter() - t
    del analysed  # the mediation reads its own rows: this copy of the calls is not held during it
    t = step("mediation")
    try:
        results["mediation"] = mediation_results(imputed, observed, params)
    except MODEL_ERRORS as error:
        results["mediation"] = unavailable(error, "too few patients for the mediation models")
    timings["mediation"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - began
    progress("done", len(STEPS), len(STEPS))
    _stamp_data_cut(results, cohort, data, cut)
    run = _run_block(
        data,
        params,
        fingerprint=fingerprint,
        cut=cut,
        timings=timings,
        carried=carried,
        results=results,
    )
    report = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "cohort": cohort,
        "results": results,
    }
    return descriptive.json_ready(report)


__all__ = [
    "EFFECT_SIZE_FORMULAS",
    "LIBRARIES",
    "MODEL_ERRORS",
    "NEUROPATHIC",
    "OUTCOMES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "STEPS",
    "TRAJECTORY_NAMES",
    "Parameters",
    "Progress",
    "build_report",
    "effect_size_note",
    "evolution",
    "library_versions",
    "mediation_notes",
    "mediation_results",
    "p_text",
    "trajectories",
]
