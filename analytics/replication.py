"""Put each figure the paper published beside the same figure of a live run (pure, no Django).

The report shares its keys with ``paper-targets.json`` (docs/analysis-report.md), so the
comparison is a walk over the paper's leaves, looking up the same path in the report. Each row
carries the paper's wording, both values, their difference and, by the rule in ``RULE``, a
status: *agrees*, *differs* or *not comparable*.

Words are English and marked with ``_`` (a no-op here); the pages translate them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from analytics.stats.pvalues import format_p
from cohort import vocabulary as voc

PAPER_FILE = Path(__file__).resolve().parent / "paper_targets.json"
# Descriptive keys of the paper's blocks that are words, not figures.
TEXT_KEYS = frozenset({"population", "method", "model", "grouping"})
Z_CRITICAL = 1.959963984540054
ALPHA = 0.05

AGREES = "agrees"
DIFFERS = "differs"
NOT_COMPARABLE = "not_comparable"
STATUSES = (AGREES, DIFFERS, NOT_COMPARABLE)


def _(text: str) -> str:
    """Mark words for translation; the pages translate them, this module stays Django-free."""
    return text


STATUS_LABELS = {AGREES: _("agrees"), DIFFERS: _("differs"), NOT_COMPARABLE: _("not comparable")}
RULE = _(
    "A figure with a standard error (a mean with its SD and n, an SD, a share with its "
    "denominator, a count of events per patient, an effect size or coefficient with its 95% CI, "
    "a correlation) agrees when |z| < 1.96, with z = (this run − paper) / √(SE paper² + SE this "
    "run²): both are then compatible with one true value at the 5% level. A P value agrees when "
    "both lie on the same side of .05; a yes/no answer or a month when both are the same. "
    "Medians, quartiles and ranges come without a standard error: not comparable, the "
    "difference is shown. A row marked † cannot be reproduced by construction; its note says why."
)


@dataclass(frozen=True)
class Row:
    """One published figure and the live one, with the comparison the rule gives."""

    section: str
    path: str  # dotted, below the section
    paper: str
    live: str
    difference: float | None  # live - paper, when both are plain numbers
    difference_text: str = ""  # the difference written like the published figure
    group: str = ""  # the paper's wording of the block (English; pages translate)
    label: str = ""  # the figure within the block
    item: str = ""  # a code's label (drug class, etiology...) between block and figure
    z: float | None = None
    status: str = NOT_COMPARABLE
    rule: str = ""  # "z", "p", "equal" or "" (no test)
    note: str = ""  # why a row is not comparable, or cannot be reproduced
    by_construction: bool = False
    paper_significant: bool | None = None  # for published tests: P < .05, or CI excludes 0
    live_significant: bool | None = None

    @property
    def is_test(self) -> bool:
        """Say whether the row is a published test (a P value, or an estimate with its CI)."""
        return self.paper_significant is not None


@cache
def paper_figures() -> dict[str, Any]:
    """Return the published figures (a copy of paper-targets.json kept with the code)."""
    data: dict[str, Any] = json.loads(PAPER_FILE.read_text())
    return data


# -- words ---------------------------------------------------------------------------------------
GROUPS: dict[str, str] = {
    "cohort.n": _("Patients"),
    "cohort.age": _("Age, y"),
    "cohort.women": _("Women"),
    "cohort.men": _("Men"),
    "cohort.history_pct": _("Patient history, %"),
    "cohort.etiology_pct": _("Pain etiology, %"),
    "cohort.dn4": _("DN4 score"),
    "cohort.mean_pain_baseline": _("Mean pain intensity (NPRS) at baseline"),
    "cohort.pain_paroxysms_per_day": _("Pain paroxysms per day"),
    "cohort.max_pain_baseline": _("Maximal pain intensity at baseline"),
    "cohort.ketamine_naive_pct": _("Ketamine naive, %"),
    "cohort.iv_route": _("Intravenous ketamine"),
    "cohort.iv_cumulative_dose_mg": _("Cumulative IV ketamine dose, mg"),
    "cohort.iv_duration_days": _("IV ketamine, days"),
    "cohort.hads_anxiety_baseline": _("HADS anxiety at baseline"),
    "cohort.hads_depression_baseline": _("HADS depression at baseline"),
    "cohort.sf12_pcs_baseline": _("SF-12 physical health at baseline"),
    "cohort.sf12_mcs_baseline": _("SF-12 mental health at baseline"),
    "cohort.concomitant_baseline_pct": _("Concomitant treatments at baseline, %"),
    "cohort.concomitant_treatments_count": _("Concomitant treatments per patient"),
    "results.nprs_baseline_to_m12": _("Mean pain (NPRS), baseline to month 12"),
    "results.hads_depression_baseline_to_m12": _("HADS depression, baseline to month 12"),
    "results.hads_anxiety_baseline_to_m12": _("HADS anxiety, baseline to month 12"),
    "results.comorbid_definite_depression_and_anxiety_baseline": _(
        "Definite depression and anxiety at baseline (HADS ≥11 both)"
    ),
    "results.time_x_baseline_depression_interaction": _(
        "Time × baseline depression (HADS-D ≤7 vs >7)"
    ),
    "results.time_x_baseline_anxiety_interaction": _("Time × baseline anxiety (HADS-A ≤7 vs >7)"),
    "results.sf12_mcs_baseline_to_m12": _("SF-12 mental health, baseline to month 12"),
    "results.sf12_pcs_baseline_to_m12": _("SF-12 physical health, baseline to month 12"),
    "results.adverse_effects": _("Adverse effects"),
    "results.concomitant_change_baseline_to_m12": _("Concomitant treatments, baseline to month 12"),
    "results.trajectories": _("Pain trajectories (IV patients)"),
    "results.mediation": _("Mediation (the paper's specification)"),
}
# The wording of a figure, by the last keys of its path (longest match first).
LABELS: dict[str, str] = {
    "mean": _("mean"),
    "sd": _("SD"),
    "n": _("n"),
    "pct": _("%"),
    "of": _("denominator"),
    "median": _("median"),
    "iqr": _("IQR"),
    "pct_ge4": _("≥4, %"),
    "pct_lt3": _("<3, %"),
    "pct_3_6": _("3-6, %"),
    "pct_ge7": _("≥7, %"),
    "pct_le7": _("≤7 (not pathological), %"),
    "pct_8_10": _("8-10 (suspected), %"),
    "pct_ge11": _("≥11 (definite), %"),
    "none": _("None"),
    "quartile_bins_pct.le280": _("≤280 mg, %"),
    "quartile_bins_pct.281_444": _("281-444 mg, %"),
    "quartile_bins_pct.445_666": _("445-666 mg, %"),
    "quartile_bins_pct.ge667": _("≥667 mg, %"),
    "baseline.mean": _("baseline, mean"),
    "baseline.sd": _("baseline, SD"),
    "m12.mean": _("month 12, mean"),
    "m12.sd": _("month 12, SD"),
    "change.mean": _("change, mean"),
    "change.sd": _("change, SD"),
    "effect_size": _("effect size [95% CI]"),
    "p": _("P"),
    "definite_cases_baseline.n": _("definite cases (≥11) at baseline, n"),
    "definite_cases_baseline.pct": _("definite cases (≥11) at baseline, %"),
    "definite_cases_m12.n": _("definite cases (≥11) at month 12, n"),
    "definite_cases_m12.pct": _("definite cases (≥11) at month 12, %"),
    "with_nprs_gt7.n": _("with mean pain >7, n"),
    "with_nprs_gt7.pct": _("with mean pain >7, %"),
    "coefficient": _("coefficient [95% CI]"),
    "omnibus_p": _("omnibus P (time × group)"),
    "figure2_groups_n.le7": _("patients with HADS ≤7"),
    "figure2_groups_n.8_10": _("patients with HADS 8-10"),
    "figure2_groups_n.ge11": _("patients with HADS ≥11"),
    "w1_any.n": _("≥1 adverse effect at week 1, n"),
    "w1_any.of": _("patients reached at week 1"),
    "w1_any.pct": _("≥1 adverse effect at week 1, %"),
    "m1_any.n": _("≥1 adverse effect at month 1, n"),
    "m1_any.of": _("patients reached at month 1"),
    "m1_any.pct": _("≥1 adverse effect at month 1, %"),
    "later_months_any_pct_range": _("≥1 adverse effect, months 2-12, range of %"),
    "total_events": _("adverse events, total"),
    "top_pct_of_events": _("% of events"),
    "concomitant_change_baseline_to_m12.baseline": _("patients at baseline"),
    "concomitant_change_baseline_to_m12.m12": _("patients at month 12"),
    "concomitant_change_baseline_to_m12.p": _("P (McNemar)"),
    "baseline_nprs.mean": _("baseline NPRS, mean"),
    "baseline_nprs.sd": _("baseline NPRS, SD"),
    "baseline_hads_d.mean": _("baseline HADS-D, mean"),
    "baseline_hads_d.sd": _("baseline HADS-D, SD"),
    "baseline_hads_a.mean": _("baseline HADS-A, mean"),
    "baseline_hads_a.sd": _("baseline HADS-A, SD"),
    "fibromyalgia": _("fibromyalgia"),
    "neuropathic_below3_from_m3": _("neuropathic pain below 3 from month 3"),
    "fibromyalgia_by_group_p": _("fibromyalgia by trajectory, P"),
    "baseline_hads_d_by_group_p": _("baseline HADS-D by trajectory, P"),
    "baseline_hads_a_by_group_p": _("baseline HADS-A by trajectory, P"),
    "cumulative_dose_associated_with_trajectory": _("cumulative dose associated with trajectory"),
    "month": _("first month of divergence"),
    "until_month": _("last month of divergence"),
    "r": _("correlation r"),
    "path1_dose_to_pain.r": _("path 1, dose → pain: r"),
    "path1_dose_to_pain.p": _("path 1, dose → pain: P"),
    "path2_dose_to_depression.r": _("path 2, dose → depression: r"),
    "path2_dose_to_depression.p": _("path 2, dose → depression: P"),
    "path3_depression_to_pain.coefficient": _("path 3, depression → pain: coefficient [95% CI]"),
    "path3_depression_to_pain.p": _("path 3, depression → pain: P"),
    "path3_dose_to_pain.coefficient": _("path 3, dose → pain: coefficient [95% CI]"),
    "path3_dose_to_pain.p": _("path 3, dose → pain: P"),
    "proportion_mediated_by_depression_pct": _("proportion mediated by baseline depression, %"),
    "proportion_mediated_by_dose_pct": _("proportion mediated by dose, %"),
}
TRAJECTORY_GROUPS = {
    "T1_lesser_pain": _("T1, lesser pain"),
    "T2_moderate_pain": _("T2, moderate pain"),
    "T3_severe_pain": _("T3, severe pain"),
    "T1_vs_T3": _("first divergence, T1 vs T3"),
    "T1_vs_T2": _("first divergence, T1 vs T2"),
    "T2_vs_T3": _("first divergence, T2 vs T3"),
}
# Codes of the paper's tables, worded as the vocabularies word them.
CODE_LABELS: dict[str, dict[str, str]] = {
    "history_pct": dict(voc.COMORBIDITIES),
    "etiology_pct": dict(voc.ETIOLOGIES),
    "concomitant_baseline_pct": dict(voc.DRUG_CLASSES),
    "concomitant_change_baseline_to_m12": dict(voc.DRUG_CLASSES),
    "top_pct_of_events": dict(voc.ADVERSE_EFFECTS),
    "groups": TRAJECTORY_GROUPS,
    "first_divergence_from_baseline": TRAJECTORY_GROUPS,
}
# Rows that cannot be reproduced by construction, with why (shown in place).
BY_CONSTRUCTION: dict[str, str] = {
    "results.mediation.proportion_mediated_by_depression_pct": _(
        "The paper's 64.6% is a ratio of paths of its specification, whose dose → depression "
        "path is not significant (r = -0.06, P = .32); a ratio of near-zero products has no "
        "stable value, and no interval was published. The demo cohort builds the depression "
        "channel as a within-patient change carrying 64.6% of the relief: see the "
        "within-patient depression mediation, whose CI is the comparable figure."
    ),
    "results.mediation.proportion_mediated_by_dose_pct": _(
        "A ratio of two paths that are both null in the paper and in the demo's truth: its "
        "value is noise around 0, with no published interval."
    ),
}
NO_ERROR_NOTE = _("No standard error: median, quartiles or a range.")
MISSING_NOTE = _("Not computed in this run.")


# -- values --------------------------------------------------------------------------------------
def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _format(value: Any, like: Any = None) -> str:
    """Write a live value with as many decimals as the published one."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "–"
        places = _decimals(like) if isinstance(like, (int, float)) else 2
        return f"{value:.{places}f}"
    if isinstance(value, list):
        likes = like if isinstance(like, list) else [None] * len(value)
        return "[" + ", ".join(_format(v, w) for v, w in zip(value, likes, strict=False)) + "]"
    return str(value)


def _signed(value: float, places: int) -> str:
    """Write a difference with its sign, and a plain 0 when it rounds to nothing."""
    text = f"{value:+.{places}f}"
    return text[1:] if float(text) == 0 else text


def _month(value: Any) -> str:
    """Write a study month as the paper does (2), week 1 as W1."""
    number = _number(value)
    if number is None:
        return "–"
    return "W1" if 0 < number < 1 else f"{number:g}"


_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)")


def _fraction(value: Any) -> tuple[int, int] | None:
    """Read ``"15/52 (28.8%)"`` or ``"140/329"`` as (15, 52)."""
    match = _FRACTION.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _p_number(value: Any) -> float | None:
    """Read a P value written as a number or as ``"<.001"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and value.strip().startswith("<"):
        return float("0" + value.strip()[1:]) / 2
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _get(tree: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(key)
    return tree


# -- standard errors -----------------------------------------------------------------------------
def _count_for_mean(tree: Any, path: Sequence[str], default: float | None) -> float | None:
    """Return the n behind a mean, an SD or a correlation: the nearest ``n`` or ``of`` above."""
    for depth in range(len(path) - 1, -1, -1):
        block = _get(tree, path[:depth])
        if isinstance(block, Mapping):
            n = _number(block.get("n")) or _number(block.get("of"))
            if n:
                return n
    return default


def _denominator(
    tree: Any, path: Sequence[str], section: str, default: float | None
) -> float | None:
    """Return the denominator of a share or a count: ``of``, or an ``n`` that is not a numerator.

    In ``{"n": 249, "pct": 75.7}`` the ``n`` counts the patients of the share; in
    ``{"n": 135, "mean": 5.6, "pct_ge4": 87.4}`` it is the denominator of ``pct_ge4``.
    """
    if section == "cohort" and path and path[0] in ("iv_cumulative_dose_mg", "iv_duration_days"):
        return _number(_get(tree, ["iv_route", "n"]))
    if "top_pct_of_events" in path:
        return _number(_get(tree, [*path[: path.index("top_pct_of_events")], "total_events"]))
    if "groups" in path and "trajectories" in path:
        groups = _get(tree, path[: path.index("groups") + 1])
        if isinstance(groups, Mapping):
            sizes = [_number(g.get("n")) for g in groups.values() if isinstance(g, Mapping)]
            return float(sum(s for s in sizes if s)) or None
    for depth in range(len(path) - 1, -1, -1):
        block = _get(tree, path[:depth])
        if not isinstance(block, Mapping):
            continue
        own_count = depth == len(path) - 1 and path[-1] in ("n", "of")
        if own_count:
            continue
        if _number(block.get("of")):
            return _number(block["of"])
        if "pct" not in block and _number(block.get("n")):
            return _number(block["n"])
    return default


def _share_kind(path: Sequence[str]) -> str:
    """Say whether a leaf is a percentage (``"percent"``), a count out of a denominator
    (``"count"``) or neither (``""``)."""
    key, parent = path[-1], (path[-2] if len(path) > 1 else "")
    if key == "pct" or key.startswith("pct_") or key.endswith("_pct") or "pct" in parent.split("_"):
        return "percent"
    if key in ("n", "of") or parent == "figure2_groups_n":
        return "count"
    return ""


def _share_se(share: float, n: float) -> float:
    share = min(max(share, 0.5 / n), 1 - 0.5 / n)  # a 0% or 100% share still has an error
    return math.sqrt(share * (1 - share) / n)


def _ci_se(ci: Any) -> float | None:
    if isinstance(ci, list) and len(ci) == 2:
        low, high = _number(ci[0]), _number(ci[1])
        if low is not None and high is not None and high >= low:
            return (high - low) / (2 * Z_CRITICAL)
    return None


# -- the walk ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Side:
    """One side of a comparison (the paper or the run): its tree and default denominators."""

    tree: Any
    section: str
    default_n: float | None


def _defaults(report: Mapping[str, Any], section: str, paper: bool) -> float | None:
    if paper:
        return _number(paper_figures()["cohort"]["n"])
    if section == "cohort":
        return _number(_get(report, ["cohort", "n"]))
    return _number(_get(report, ["run", "patients"])) or _number(_get(report, ["cohort", "n"]))


def _leaves(tree: Any, path: list[str]) -> Iterator[list[str]]:
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key in TEXT_KEYS or key.endswith("_ci95") or key == "ci95":
                continue  # words, or an interval shown with its estimate
            yield from _leaves(value, [*path, key])
    else:
        yield path


def _words(section: str, path: list[str]) -> tuple[str, str, str]:
    group = GROUPS.get(f"{section}.{path[0]}", path[0])
    item = ""
    for key, labels in CODE_LABELS.items():
        if key in path[:-1]:
            code = path[path.index(key) + 1]
            item = labels.get(code, code)
    if not item and len(path) > 1 and path[0] in CODE_LABELS:
        item = CODE_LABELS[path[0]].get(path[1], path[1])
    if item == "none":
        item = LABELS["none"]
    label = ""
    for size in (3, 2, 1):
        tail = ".".join(path[-size:])
        if len(path) >= size and tail in LABELS:
            label = LABELS[tail]
            break
    if path[-2:-1] and path[-2] in CODE_LABELS and path[-2] != "groups":
        label = LABELS.get(f"{path[-2]}.{path[-1]}") or LABELS.get(path[-2], "%")
    elif (path[0] in CODE_LABELS and len(path) == 2) or (
        path[-1].endswith("_pct") and path[-1] not in LABELS
    ):
        label = "%"
    return group, item, label or path[-1]


def _interval(side: _Side, path: list[str]) -> Any:
    key = "effect_size_ci95" if path[-1] == "effect_size" else "ci95"
    return _get(side.tree, [*path[:-1], key])


Scale = tuple[float, float, float, float]  # paper, run, and their standard errors


def _on_a_scale(
    section: str, path: list[str], paper: _Side, live: _Side, has_ci: bool
) -> Scale | None:
    """Return both values on the scale of the test, with their standard errors (or None).

    Means: SD / sqrt(n). SDs: SD / sqrt(2 (n - 1)). Shares and counts out of a denominator:
    the binomial error of the share. Events per patient: Poisson. Estimates with a 95% CI:
    the half-width / 1.96. Correlations: Fisher's z, 1 / sqrt(n - 3).
    """
    key = path[-1]
    p_value, l_value = _get(paper.tree, path), _get(live.tree, path)
    a, b = _number(p_value), _number(l_value)
    if has_ci:
        se_p, se_l = _ci_se(_interval(paper, path)), _ci_se(_interval(live, path))
        if a is None or b is None or se_p is None or se_l is None:
            return None
        return a, b, se_p, se_l
    fractions = _fraction(p_value), _fraction(l_value)
    if fractions[0] and fractions[1]:
        (pn, pd_), (ln, ld) = fractions[0], fractions[1]
        if not (pd_ and ld):
            return None
        return pn / pd_, ln / ld, _share_se(pn / pd_, pd_), _share_se(ln / ld, ld)
    if a is None or b is None:
        return None
    if key == "r":
        n_p = _count_for_mean(paper.tree, path, paper.default_n) or 0.0
        n_l = _count_for_mean(live.tree, path, live.default_n) or 0.0
        if n_p <= 3 or n_l <= 3 or abs(a) >= 1 or abs(b) >= 1:
            return None
        return math.atanh(a), math.atanh(b), 1 / math.sqrt(n_p - 3), 1 / math.sqrt(n_l - 3)
    if key in ("mean", "sd"):
        n_p = _count_for_mean(paper.tree, path, paper.default_n) or 0.0
        n_l = _count_for_mean(live.tree, path, live.default_n) or 0.0
        if n_p < 2 or n_l < 2:
            return None
        if key == "sd":
            return a, b, a / math.sqrt(2 * (n_p - 1)), b / math.sqrt(2 * (n_l - 1))
        sd_p = _number(_get(paper.tree, [*path[:-1], "sd"]))
        sd_l = _number(_get(live.tree, [*path[:-1], "sd"])) or sd_p
        if not sd_p or not sd_l:
            return None
        return a, b, sd_p / math.sqrt(n_p), sd_l / math.sqrt(n_l)
    if key == "total_events":
        n_p, n_l = paper.default_n or 0.0, live.default_n or 0.0
        if not (n_p and n_l):
            return None
        a, b = a / n_p, b / n_l  # events per patient, Poisson errors
        return a, b, math.sqrt(a / n_p), math.sqrt(b / n_l)
    kind = _share_kind(path)
    if not kind:
        return None
    n_p = _denominator(paper.tree, path, section, paper.default_n) or 0.0
    n_l = _denominator(live.tree, path, section, live.default_n) or 0.0
    if not (n_p and n_l):
        return None
    a, b = (a / 100, b / 100) if kind == "percent" else (a / n_p, b / n_l)
    if not (0 <= a <= 1 and 0 <= b <= 1):
        return None
    return a, b, _share_se(a, n_p), _share_se(b, n_l)


def _compare_leaf(section: str, path: list[str], paper: _Side, live: _Side) -> dict[str, Any]:
    """Return the value texts, difference, z, status and notes of one leaf."""
    key = path[-1]
    p_value = _get(paper.tree, path)
    l_value = _get(live.tree, path)
    full = f"{section}.{'.'.join(path)}"
    out: dict[str, Any] = {"difference": None, "z": None, "rule": "", "note": ""}
    has_ci = key in ("effect_size", "coefficient") and _interval(paper, path) is not None
    # Text of both sides.
    if key in ("p", "omnibus_p") or key.endswith("_p"):
        out["paper"] = p_value if isinstance(p_value, str) else format_p(p_value) or "–"
        out["live"] = format_p(_p_number(l_value)) or "–"
    elif has_ci:
        out["paper"] = (
            f"{_format(p_value, p_value)} {_format(_interval(paper, path), _interval(paper, path))}"
        )
        ci = _interval(live, path)
        out["live"] = (
            "–"
            if l_value is None
            else f"{_format(l_value, p_value)} {_format(ci, _interval(paper, path))}"
        )
    elif key in ("month", "until_month"):
        out["paper"], out["live"] = _month(p_value), _month(l_value)
    else:
        out["paper"] = _format(p_value, p_value)
        out["live"] = _format(l_value, p_value)
    a, b = _number(p_value), _number(l_value)
    if a is not None and b is not None:
        out["difference"] = b - a
        if key not in ("p", "omnibus_p", "month", "until_month") and not key.endswith("_p"):
            out["difference_text"] = _signed(b - a, _decimals(p_value))
    if full in BY_CONSTRUCTION:
        out.update(status=NOT_COMPARABLE, note=BY_CONSTRUCTION[full], by_construction=True)
        return out
    if l_value is None:
        out.update(status=NOT_COMPARABLE, note=MISSING_NOTE)
        return out

    # Published tests: P values, and estimates whose CI excludes 0 or not.
    if key in ("p", "omnibus_p") or key.endswith("_p"):
        pp, lp = _p_number(p_value), _p_number(l_value)
        if pp is None or lp is None:
            out.update(status=NOT_COMPARABLE, note=MISSING_NOTE)
            return out
        out.update(
            rule="p",
            paper_significant=pp < ALPHA,
            live_significant=lp < ALPHA,
            status=AGREES if (pp < ALPHA) == (lp < ALPHA) else DIFFERS,
        )
        return out
    if isinstance(p_value, bool) or key in ("month", "until_month") or path == ["n"]:
        same = p_value == l_value
        out.update(rule="equal", status=AGREES if same else DIFFERS)
        if isinstance(p_value, bool) and isinstance(l_value, bool):
            # A yes/no finding of a test ("associated": P < .05) is a published test too.
            out.update(paper_significant=p_value, live_significant=l_value)
        return out

    if has_ci:
        p_ci, l_ci = _interval(paper, path), _interval(live, path)
        out["paper_significant"] = not (p_ci[0] <= 0 <= p_ci[1])
        if isinstance(l_ci, list) and None not in l_ci:
            out["live_significant"] = not (l_ci[0] <= 0 <= l_ci[1])
    scale = _on_a_scale(section, path, paper, live, has_ci)
    if scale is None:
        out.update(status=NOT_COMPARABLE, note=NO_ERROR_NOTE)
        return out
    a, b, se_paper, se_live = scale
    if _fraction(p_value) and _fraction(l_value):
        out["difference"] = 100 * (b - a)
        out["difference_text"] = f"{_signed(100 * (b - a), 1)} pts"
    spread = math.hypot(se_paper, se_live)
    z = (b - a) / spread if spread > 0 else (0.0 if a == b else math.inf)
    out.update(rule="z", z=z, status=AGREES if abs(z) < Z_CRITICAL else DIFFERS)
    return out


def compare(report: dict[str, Any], sections: tuple[str, ...] = ("cohort", "results")) -> list[Row]:
    """Return one row per published figure of ``sections``, with the live value beside it."""
    rows = []
    published = paper_figures()
    for section in sections:
        paper = _Side(published[section], section, _defaults(report, section, paper=True))
        live = _Side(report.get(section) or {}, section, _defaults(report, section, paper=False))
        for path in _leaves(published[section], []):
            group, item, label = _words(section, path)
            found = _compare_leaf(section, path, paper, live)
            rows.append(
                Row(
                    section=section,
                    path=".".join(path),
                    paper=found["paper"],
                    live=found["live"],
                    difference=found["difference"],
                    difference_text=found.get("difference_text", ""),
                    group=group,
                    label=label,
                    item=item,
                    z=found["z"],
                    status=found["status"],
                    rule=found["rule"],
                    note=found["note"],
                    by_construction=found.get("by_construction", False),
                    paper_significant=found.get("paper_significant"),
                    live_significant=found.get("live_significant"),
                )
            )
    return rows


def summary(rows: Sequence[Row]) -> dict[str, int]:
    """Count the rows per status."""
    return {status: sum(row.status == status for row in rows) for status in STATUSES}


def published_tests(rows: Sequence[Row]) -> list[Row]:
    """Return the rows that are published tests (a P value, or an estimate with its 95% CI)."""
    return [row for row in rows if row.is_test]
