"""Put the figures Lan et al. 2022 published beside a live run of its plan (pure, no Django).

Each row says what the paper found, what the run found and whether they agree, by the rule of
its kind: a test's direction and significance (every pain group improved, P < .05; severe pain
improved more than mild and no pain; the time x pain interaction of each SF-MPQ domain), the sign
and significance of the day-26 effect of each domain (its size is not comparable: the paper does
not say on which scale the moderator entered), a baseline percentage within two standard errors
of the live one. Words are English and marked with ``_`` (a no-op here); the pages translate them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from analytics.stats.pvalues import format_p

from . import AGREES, DIFFERS, NOT_COMPARABLE, STATUSES
from .words import _

TARGETS_FILE = Path(__file__).resolve().parents[1] / "lan2022_targets.json"
ALPHA = 0.05
STRICT = 0.001  # the paper's interaction P values: "< .001" for every domain

# The report's SF-MPQ domains, the paper's name of each in its day-26 effects, and their labels.
DOMAINS: dict[str, tuple[str, str]] = {
    "vas": ("vas", _("Pain intensity (VAS)")),
    "sensory": ("sensory_index", _("Sensory index")),
    "affective": ("affective_index", _("Affective index")),
    "ppi": ("present_pain", _("Present pain intensity (PPI)")),
    "total": ("total_pain", _("Total score")),
}
GROUP_LABELS = {"none": _("No pain"), "mild": _("Mild pain"), "severe": _("Severe pain")}
BINARY_LABELS = {
    "men": _("Men"),
    "suicidality": _("Suicidality"),
    "two_or_more_antidepressants": _("Two or more antidepressants"),
    "mood_stabilizers": _("Mood stabilisers"),
    "benzodiazepines": _("Benzodiazepines"),
    "antipsychotics": _("Antipsychotics"),
}
SECTIONS = {
    "moderation": _("Time × pain interaction"),
    "slopes": _("Improvement by pain group"),
    "effect_b": _("Day-26 effect of each pain domain"),
    "baseline": _("Baseline, by pain"),
}
SD_NOTE = _(
    "Live: extra change per SD of the domain; the sizes are on scales that cannot be compared."
)
RAW_NOTE = _(
    "Live: extra change per point of the domain; the sizes are on scales that cannot be compared."
)
RULE = _(
    "Tests agree when the live result has the paper's direction and reaches its significance "
    "level; a baseline percentage agrees when it lies within two standard errors of the paper's. "
    "The sizes of the day-26 effects are not compared: the paper does not say on which scale "
    "the pain domain entered its model."
)


@dataclass(frozen=True)
class Row:
    """One published finding beside the run's."""

    section: str
    label: str
    paper: str
    live: str
    status: str
    note: str = ""
    item: str = ""  # a second part of the label, translated apart: "Men" + "with pain"


@cache
def targets() -> dict[str, Any]:
    """Return the published figures (``analytics/lan2022_targets.json``)."""
    return json.loads(TARGETS_FILE.read_text(encoding="utf-8"))


def _p(p: Any) -> str:
    text = format_p(p)
    if text is None:
        return "–"
    return f"P {text[0]} {text[1:]}" if text[0] in "<>" else f"P = {text}"


def _signed(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{float(value):+.{digits}f}"


def _shows(block: Mapping[str, Any] | None, *, alpha: float = ALPHA) -> bool:
    """Say whether an estimate is negative (more improvement) with P below ``alpha``."""
    if not block or block.get("estimate") is None or block.get("p") is None:
        return False
    return float(block["estimate"]) < 0 and float(block["p"]) < alpha


def _status(agrees: bool) -> str:
    return AGREES if agrees else DIFFERS


def moderation_rows(results: Mapping[str, Any]) -> list[Row]:
    """Return the time x pain interaction of each domain: the paper's P < .001 for each."""
    rows = []
    for domain, (_paper_key, label) in DOMAINS.items():
        block = results.get("moderation", {}).get(domain)
        if not block:
            continue
        wald, lr = block["omnibus_wald"], block["omnibus_lr"]
        live = f"Wald {_p(wald['p'])}, LR {_p(lr['p'])} ({wald['df']} df)"
        agrees = wald["p"] is not None and float(wald["p"]) < STRICT
        rows.append(Row("moderation", label, "P < .001", live, _status(agrees)))
    return rows


def slope_rows(results: Mapping[str, Any]) -> list[Row]:
    """Return the simple slopes: every group improved, severe more than mild and than none."""
    slopes = results.get("simple_slopes")
    if not slopes:
        return []
    groups = slopes["groups"]
    rows = [
        Row(
            "slopes",
            _("Change from baseline to day 26"),
            "P < .05",
            f"{_signed(groups[g]['last']['estimate'], 1)} ({_p(groups[g]['last']['p'])})",
            _status(_shows(groups[g]["last"])),
            item=GROUP_LABELS[g],
        )
        for g in slopes["levels"]
    ]
    improved = sum(_shows(groups[g]["last"]) for g in slopes["levels"])
    rows.append(
        Row(
            "slopes",
            _("Every pain group improved (P < .05)"),
            "3 / 3",
            f"{improved} / {len(slopes['levels'])}",
            _status(improved == len(slopes["levels"])),
        )
    )
    for other in ("mild", "none"):
        contrast = slopes["contrasts"].get(f"severe_vs_{other}", {}).get("last")
        if contrast is None:
            continue
        label = (
            _("Severe pain improved more than mild pain (P < .05)")
            if other == "mild"
            else _("Severe pain improved more than no pain (P < .05)")
        )
        live = f"{_signed(contrast['estimate'], 1)} ({_p(contrast['p'])})"
        rows.append(Row("slopes", label, "P < .05", live, _status(_shows(contrast))))
    return rows  # fmt: skip


def effect_rows(results: Mapping[str, Any]) -> list[Row]:
    """Return the day-26 effect of each domain: sign and significance, not size."""
    published = targets()["day26_effect_b"]
    rows = []
    for domain, (paper_key, label) in DOMAINS.items():
        block = results.get("moderation", {}).get(domain)
        if not block or paper_key not in published:
            continue
        last = block["last"]
        live = f"{_signed(last['estimate'])} ({_p(last['p'])})"
        paper = f"b = {published[paper_key]:+.3f} (P < .001)"
        agrees = float(published[paper_key]) < 0 and _shows(last, alpha=STRICT)
        note = SD_NOTE if block["scale"] == "sd" else RAW_NOTE
        rows.append(Row("effect_b", label, paper, live, _status(agrees), note))
    return rows  # fmt: skip


def baseline_rows(results: Mapping[str, Any]) -> list[Row]:
    """Return each published baseline percentage with and without pain beside the live one."""
    table = results.get("baseline", {}).get("rows", {})
    published = targets()["baseline_by_pain"]
    rows = []
    sizes = table.get("n", {})
    total = sizes.get("all") or 0
    if total:
        paper_share = (
            100.0
            * published["with_pain_n"]
            / (published["with_pain_n"] + published["without_pain_n"])
        )
        live_share = 100.0 * sizes.get("with_pain", 0) / total
        rows.append(_share_row(_("With pain, % of patients"), "", paper_share, live_share, total))
    for key, label in BINARY_LABELS.items():
        row = table.get(key)
        paper = published.get(f"{key}_pct")
        if not row or not paper:
            continue
        for column, name in (("with_pain", _("with pain")), ("none", _("without pain"))):
            cell = row["cells"].get(column, {})
            n = sizes.get(column, 0)
            paper_key = "with_pain" if column == "with_pain" else "without_pain"
            rows.append(_share_row(label, name, paper[paper_key], cell.get("pct"), n))
    return rows + severe_vs_mild_rows(table)


def severe_vs_mild_rows(table: Mapping[str, Any]) -> list[Row]:
    """Return the paper's two baseline tests of severe against mild pain (VAS, MADRS)."""
    published = targets()["baseline_by_pain"]["severe_vs_mild"]
    rows = []
    for key, label, paper in (
        (
            "vas",
            _("Higher VAS with severe than mild pain"),
            f"P = {published['vas_p']:.3f}".replace("0.", ".", 1),
        ),
        ("madrs", _("Higher baseline MADRS with severe than mild pain"), "P < .001"),
    ):
        row = table.get(key)
        if not row:
            continue
        severe, mild = row["cells"]["severe"]["mean"], row["cells"]["mild"]["mean"]
        p = row["tests"].get("welch_severe_vs_mild_p")
        if severe is None or mild is None or p is None:
            rows.append(Row("baseline", label, paper, "–", NOT_COMPARABLE))
            continue
        alpha = STRICT if key == "madrs" else ALPHA
        agrees = float(severe) > float(mild) and float(p) < alpha
        live = f"{float(severe):.1f} vs {float(mild):.1f} ({_p(p)})"
        rows.append(Row("baseline", label, paper, live, _status(agrees)))
    return rows


def _share_row(label: str, item: str, paper: float, live: Any, n: int) -> Row:
    """Compare a percentage with the paper's: within two standard errors of it at the live n."""
    if live is None or not n:
        return Row("baseline", label, f"{paper:.1f}%", "–", NOT_COMPARABLE, item=item)
    share = paper / 100.0
    se = 100.0 * math.sqrt(share * (1 - share) / n)
    agrees = abs(float(live) - paper) <= 2 * se
    live_text = f"{float(live):.1f}% (n = {n})"
    return Row("baseline", label, f"{paper:.1f}%", live_text, _status(agrees), item=item)


def compare(report: Mapping[str, Any]) -> list[Row]:
    """Return every row, by section."""
    results = {
        name: block
        for name, block in report.get("results", {}).items()
        if not (isinstance(block, Mapping) and block.get("available") is False)
    }
    return [
        *moderation_rows(results),
        *slope_rows(results),
        *effect_rows(results),
        *baseline_rows(results),
    ]


def summary(rows: list[Row]) -> dict[str, int]:
    """Count the rows of each status."""
    return {status: sum(row.status == status for row in rows) for status in STATUSES}
