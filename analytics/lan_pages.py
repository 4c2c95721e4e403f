"""What the dashboard shows of a Lan et al. 2022 report: its tables, in the reader's language.

The report is :mod:`analytics.report.lan2022`'s; the replication panel is
:mod:`analytics.replication.lan2022`'s rows, translated here. Not a view: the analysis pages
call it for a study whose definition names the ``lan2022-moderation`` plan.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics.replication import STATUS_LABELS
from analytics.replication import lan2022 as rep
from analytics.report import lan2022 as lan_report
from analytics.stats.moderation import BINARY, DOMAINS, PAIN_GROUPS
from analytics.templatetags.analysis_tags import p_style

PLAN = "lan2022-moderation"

COLUMN_LABELS = {
    "none": gettext_noop("No pain"),
    "mild": gettext_noop("Mild pain"),
    "severe": gettext_noop("Severe pain"),
    "with_pain": gettext_noop("With pain"),
    "all": gettext_noop("All"),
}
ROW_LABELS = {
    **{key: label for key, (_paper, label) in rep.DOMAINS.items()},
    **rep.BINARY_LABELS,
    "madrs": gettext_noop("Baseline MADRS"),
}
SYMPTOM_LABELS = {
    "dissociation": gettext_noop("Dissociation"),
    "dizziness": gettext_noop("Dizziness"),
    "blurred_vision": gettext_noop("Blurred vision"),
    "perceptual_disturbance": gettext_noop("Perceptual disturbance"),
    "headache": gettext_noop("Headache"),
    "nausea": gettext_noop("Nausea"),
}


# The reasons a block may be missing from a run (analytics.report.lan2022.NEEDS), to translate.
NEEDS_LABELS = (
    gettext_noop("patients with a baseline in each pain group"),
    gettext_noop("rated visits after baseline, with every SF-MPQ domain varying between patients"),
    gettext_noop("rated visits after baseline in each pain group"),
    gettext_noop("patients rated at baseline and at day 26"),
    gettext_noop("infusions given"),
)


def _domains(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return one row per SF-MPQ domain: each visit's interaction, the summaries, the tests."""
    rows = []
    for domain in DOMAINS:
        block = results.get("moderation", {}).get(domain)
        if block:
            rows.append({"key": domain, "label": _(ROW_LABELS[domain]), **block})
    return rows


def _slopes(results: dict[str, Any]) -> dict[str, Any]:
    slopes = results.get("simple_slopes", {})
    groups = [
        {"key": g, "label": _(COLUMN_LABELS[g]), **slopes["groups"][g]}
        for g in slopes.get("levels", [])
    ]
    contrasts = [
        {"key": key, "label": _("Severe − mild") if key.endswith("mild") else _("Severe − none"),
         **block}
        for key, block in slopes.get("contrasts", {}).items()
    ]  # fmt: skip
    days = list(groups[0]["per_visit"]) if groups else []
    return {**slopes, "rows": groups, "contrast_rows": contrasts, "days": days}


def _baseline(results: dict[str, Any]) -> dict[str, Any]:
    table = results.get("baseline", {})
    columns = table.get("columns", [])
    sizes = table.get("rows", {}).get("n", {})
    rows = []
    for key in (*BINARY, *DOMAINS, "madrs"):
        row = table.get("rows", {}).get(key)
        if row:
            cells = [row["cells"].get(column, {}) for column in columns]
            rows.append({**row, "key": key, "label": _(ROW_LABELS[key]), "cells": cells})
    return {
        "columns": [
            {"key": c, "label": _(COLUMN_LABELS.get(c, c)), "n": sizes.get(c)} for c in columns
        ],
        "rows": rows,
        "severe_vs_mild": f"welch_{PAIN_GROUPS[-1]}_vs_{PAIN_GROUPS[-2]}_p",
        "fisher_severe_vs_mild": f"fisher_{PAIN_GROUPS[-1]}_vs_{PAIN_GROUPS[-2]}_p",
    }


def _adverse(results: dict[str, Any]) -> dict[str, Any]:
    adverse = results.get("adverse_effects", {})
    symptoms = [
        {"key": key, "label": _(SYMPTOM_LABELS.get(key, key)), **block}
        for key, block in adverse.get("symptoms", {}).items()
    ]
    return {**adverse, "symptom_rows": symptoms}


def _day26(results: dict[str, Any]) -> dict[str, Any]:
    day26 = results.get("day26", {})
    rows = [{"label": _("All"), **day26["overall"]}] if day26.get("overall") else []
    rows += [
        {"label": _(COLUMN_LABELS[g]), **block} for g, block in day26.get("by_group", {}).items()
    ]
    return {**day26, "rows": rows}


def _localise(text: str) -> str:
    """Write a figure with the reader's decimal mark."""
    style = p_style()
    return text if style["decimal"] == "." else text.replace(".", style["decimal"])


def replication_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the replication rows, by section, in the reader's language."""
    groups: list[dict[str, Any]] = []
    for row in rep.compare(report):
        if not groups or groups[-1]["key"] != row.section:
            groups.append({"key": row.section, "label": _(rep.SECTIONS[row.section]), "rows": []})
        figure = _(row.label) + (f" — {_(row.item)}" if row.item else "")
        groups[-1]["rows"].append(
            {
                "row": row,
                "figure": figure,
                "paper": _localise(row.paper),
                "live": _localise(row.live),
                "status": _(STATUS_LABELS[row.status]),
                "note": _(row.note) if row.note else "",
            }
        )
    return groups


def report_context(report: dict[str, Any]) -> dict[str, Any]:
    """Return what the Lan et al. 2022 dashboard draws of a report."""
    stored = report.get("results", {})
    results = {name: block for name, block in stored.items() if lan_report.available(block)}
    rows = rep.compare(report)
    return {
        "report": report,
        "unavailable": {
            name: _(block.get("reason", ""))
            for name, block in stored.items()
            if not lan_report.available(block)
        },
        "results": results,
        "domains": _domains(results),
        "slopes": _slopes(results),
        "day26": _day26(results),
        "baseline": _baseline(results),
        "adverse": _adverse(results),
        "replication_groups": replication_rows(report),
        "replication_summary": rep.summary(rows),
        "replication_rule": _(rep.RULE),
        "replication_source": rep.targets()["source"],
    }
