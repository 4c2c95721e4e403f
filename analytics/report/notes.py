"""The notes of a run, computed from what it found, and the versions it ran with."""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Mapping
from typing import Any

from .parameters import LIBRARIES, Parameters

EFFECT_SIZE_FORMULAS = {
    "d_z": "d_z = mean change / SD of change",
    "d_av": "d_av = mean change / sqrt((SD at baseline^2 + SD at M12^2) / 2)",
    "d_pre": "d_pre = mean change / SD at baseline",
    "d_lmm": "d_lmm = M12 - BL contrast of the mixed model / sqrt(2 x its residual variance)",
}


def effect_size_note(kind: str, results: Mapping[str, Any]) -> str:
    """Say which effect size the run used, as the result blocks report it."""
    used = sorted(
        {
            str(block["effect_size_kind"])
            for block in results.values()
            if isinstance(block, dict) and block.get("effect_size_kind")
        }
    )
    if not used:
        return f"Effect sizes: none computed ({kind} was asked; no patient had reached M12)."
    formulas = "; ".join(EFFECT_SIZE_FORMULAS.get(k, k) for k in used)
    return (
        f"Effect sizes: {formulas}, on LOCF data of the patients who had reached M12 "
        f"(parameter effect_size = {kind}; see docs/analysis-report.md for the choice)."
    )


def mediation_notes(block: Mapping[str, Any]) -> list[str]:
    """Notes on the mediation blocks, from what they found."""
    if not block or block.get("available") is False:
        return ["Mediation: not computed (too few patients)."]
    notes = [
        "The mediation block reconstructs the paper's specification; baseline HADS-D acts as a "
        "moderator. The within-patient blocks respect causal order: time as the study's "
        "timepoints, the change averaged over the follow-up timepoints, observed rows."
    ]
    paper = block.get("paper_specification", {})
    for key, name in (
        ("proportion_mediated_by_depression", "by baseline depression"),
        ("proportion_mediated_by_dose", "by dose"),
    ):
        entry = paper.get(key, {})
        if isinstance(entry, dict) and entry.get("withheld"):
            notes.append(f"Paper specification, proportion mediated {name}: {entry['withheld']}.")
    return notes


def library_versions() -> dict[str, str]:
    """Return the versions of Python and of the libraries the results depend on."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_notes(params: Parameters, results: Mapping[str, Any], as_of: Any, cut: Any) -> list[str]:
    """Return the notes of the run block: effect sizes, mediation, missing values, data cut."""
    return [
        effect_size_note(params.effect_size, results),
        *mediation_notes(results.get("mediation", {})),
        "Missing values: refused, unreachable, not asked and lost are missing outcomes "
        "(left out of the observed fits, carried forward by LOCF); not applicable is "
        "not missing data (never imputed, out of the denominators). See "
        "results.missingness.",
        f"Data cut {as_of.isoformat()}: {cut['patients']} patients, "
        f"{cut['reached']['M12']} of whom had reached month 12. A timepoint whose "
        "window had not closed and whose call was not made is not yet observed: never "
        "imputed, never in a denominator, never counted as missing.",
    ]
