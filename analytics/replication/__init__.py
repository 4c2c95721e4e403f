"""Put each figure the paper published beside the same figure of a live run (pure, no Django).

The report shares its keys with ``paper-targets.json`` (docs/analysis-report.md), so the
comparison is a walk over the paper's leaves, looking up the same path in the report. Each row
carries the paper's wording, both values, their difference and, by the rule in ``RULE``, a
status: *agrees*, *differs* or *not comparable*.

Words are English and marked with ``_`` (a no-op here); the pages translate them. ``words``
holds the paper's wording, ``values`` the reading of figures and their standard errors; the
walk over the paper's leaves is here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from analytics.stats.pvalues import format_p

from .values import (
    Z_CRITICAL,
    _ci_se,
    _count_for_mean,
    _decimals,
    _denominator,
    _format,
    _fraction,
    _get,
    _month,
    _number,
    _p_number,
    _share_kind,
    _share_se,
    _signed,
)
from .words import (
    BY_CONSTRUCTION,
    CODE_LABELS,
    GROUPS,
    LABELS,
    MISSING_NOTE,
    NO_ERROR_NOTE,
    TRAJECTORY_GROUPS,
    _,
)

PAPER_FILE = Path(__file__).resolve().parents[1] / "paper_targets.json"
# Descriptive keys of the paper's blocks that are words, not figures.
TEXT_KEYS = frozenset({"population", "method", "model", "grouping"})
ALPHA = 0.05

AGREES = "agrees"
DIFFERS = "differs"
NOT_COMPARABLE = "not_comparable"
STATUSES = (AGREES, DIFFERS, NOT_COMPARABLE)


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


__all__ = [
    "AGREES",
    "ALPHA",
    "DIFFERS",
    "NOT_COMPARABLE",
    "PAPER_FILE",
    "RULE",
    "STATUSES",
    "STATUS_LABELS",
    "TEXT_KEYS",
    "TRAJECTORY_GROUPS",
    "Z_CRITICAL",
    "Row",
    "compare",
    "paper_figures",
    "published_tests",
    "summary",
]
