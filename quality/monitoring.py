"""Central statistical monitoring: each site against the pooled others (pure pandas, no Django).

Input: one row per follow-up call with ``site``, ``patient``, ``timepoint``, ``status``,
``window_start``, ``window_end``, ``call_date``, ``nprs_mean``, ``hads_a`` and ``hads_d``.

Answers of one patient are alike from call to call, so every test works at the patient level
(one value per patient) or corrects for that clustering; a naive test on answers would flag
sites for having a few very stable patients. The tests (site against all other sites):

* reached and on time — per patient share of due calls reached (on time: of reached calls made
  within their window); one-sided Welch t test, lower at the site;
* digit preference — the 0..10 distribution of mean-pain answers, chi-square (site x value) with
  the first-order Rao-Scott correction for answers clustered in patients;
* low spread — per patient mean absolute distance of NPRS, HADS-A and HADS-D from the pooled
  median of the same timepoint (Brown-Forsythe); one-sided Welch t test, lower at the site;
* mean shifts — baseline NPRS and its change to M3 and to M12; two-sided Welch t test.

Every P value of every site and test forms one family, adjusted by Benjamini-Hochberg at
``Q``: when no site is abnormal the chance that any site is flagged is at most ``Q``. Sites with
fewer than ``MIN_PATIENTS`` patients (or ``MIN_ANSWERS`` pain answers) are shown, not tested.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analytics.stats.pvalues import p_phrase
from followup.schedule import in_window_frame, window_closed_frame

Q = 0.05
MIN_PATIENTS = 5
MIN_ANSWERS = 30
NPRS_VALUES = tuple(range(11))
SPREAD_OUTCOMES = ("nprs_mean", "hads_a", "hads_d")
SHIFT_MEASURES = ("baseline", "change_m3", "change_m12")
# Calls that no longer count as due: the patient left the study.
NOT_DUE_STATUSES = frozenset({"closed", "withdrawn"})
ANSWERED_STATUSES = frozenset({"reached", "unreachable", "refused"})


def _(text: str) -> str:
    """Mark a sentence for translation; the page translates it, this module stays Django-free."""
    return text


OUTCOME_LABELS = {"nprs_mean": _("mean pain (NPRS)"), "hads_a": _("HADS-A"), "hads_d": _("HADS-D")}
SHIFT_LABELS = {
    "baseline": _("baseline mean pain"),
    "change_m3": _("change in mean pain from baseline to M3"),
    "change_m12": _("change in mean pain from baseline to M12"),
}
SENTENCES = {
    "reached": _(
        "Site {site}: {share} of due calls reached, against {others} elsewhere "
        "(P {p} after correction): calls are being missed."
    ),
    "on_time": _(
        "Site {site}: {share} of reached calls made within their window, against {others} "
        "elsewhere (P {p} after correction): calls are late."
    ),
    "digit_five": _(
        "Site {site}: {share} of mean-pain answers are 5, against {others} elsewhere "
        "(P {p} after correction): possible digit preference."
    ),
    "digit_ends": _(
        "Site {site}: {share} of mean-pain answers are 0 or 10, against {others} elsewhere "
        "(P {p} after correction): possible digit preference."
    ),
    "low_spread": _(
        "Site {site}: {outcome} varies {ratio} times as much as elsewhere (SD ratio, "
        "P {p} after correction): answers are unusually alike."
    ),
    "mean_shift": _(
        "Site {site}: {measure} is {value} against {others} elsewhere (z = {z}, "
        "P {p} after correction): check how the questionnaires are asked."
    ),
}


@dataclass(frozen=True)
class Flag:
    """A site that one test sets apart, with the sentence that explains it."""

    site: str
    test: str  # "reached", "on_time", "digit", "low_spread:<outcome>", "mean_shift:<measure>"
    kind: str  # key of SENTENCES
    p_value: float
    p_adjusted: float
    params: dict[str, str]

    @property
    def message(self) -> str:
        """Return the sentence in English."""
        return SENTENCES[self.kind].format(**self.params)


@dataclass
class SiteRow:
    """One site's figures, its tests' adjusted P values, and its flags."""

    site: str
    patients: int
    calls_due: int = 0
    reached: int = 0
    on_time: int = 0
    nprs_answers: int = 0
    nprs_counts: list[int] = field(default_factory=lambda: [0] * len(NPRS_VALUES))
    share_five: float = math.nan
    share_ends: float = math.nan
    sd_ratio: dict[str, float] = field(default_factory=dict)
    means: dict[str, tuple[int, float, float, float]] = field(
        default_factory=dict
    )  # n, mean, lo, hi
    z: dict[str, float] = field(default_factory=dict)
    p: dict[str, float] = field(default_factory=dict)  # test -> adjusted P
    flags: list[Flag] = field(default_factory=list)

    @property
    def reached_share(self) -> float:
        return self.reached / self.calls_due if self.calls_due else math.nan

    @property
    def on_time_share(self) -> float:
        return self.on_time / self.reached if self.reached else math.nan

    @property
    def tested(self) -> bool:
        return self.patients >= MIN_PATIENTS


@dataclass
class Monitoring:
    """The result: one row per site, the flags, and the pooled figures the plots compare with."""

    rows: list[SiteRow]
    flags: list[Flag]
    nprs_counts: list[int]
    means: dict[str, tuple[int, float]]  # measure -> n patients, pooled mean
    q: float = Q


def due_calls(calls: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return the follow-up calls that were due by ``as_of``, with ``reached`` and ``on_time``.

    A call is due once its window has closed or once it was answered (reached, unreachable,
    refused); calls closed because the patient left are not. Baseline is taken in hospital.
    """
    follow_up = calls["timepoint"].ne("BL") & ~calls["status"].isin(NOT_DUE_STATUSES)
    answered = calls["status"].isin(ANSWERED_STATUSES)
    closed = window_closed_frame(as_of, calls["window_end"]).fillna(False).astype(bool)
    due = calls[follow_up & (answered | closed)].copy()
    due["reached"] = due["status"].eq("reached")
    inside = in_window_frame(due["call_date"], due["window_start"], due["window_end"])
    due["on_time"] = due["reached"] & inside.fillna(False).astype(bool)
    return due


def _welch(site: np.ndarray, others: np.ndarray) -> tuple[float, float]:
    """Return the statistic (a z) and two-sided P of a Welch t test of site against others."""
    site, others = site[~np.isnan(site)], others[~np.isnan(others)]
    if len(site) < 2 or len(others) < 2:
        return math.nan, math.nan
    if np.var(site) == 0 and np.var(others) == 0:
        return math.nan, math.nan
    with warnings.catch_warnings():
        # Nearly equal values (a few patients with the same change) warn; the P stays usable.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(site, others, equal_var=False, alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def _lower(site: np.ndarray, others: np.ndarray) -> float:
    """Return the one-sided P that the site's patient values are lower (Mann-Whitney U).

    Ranks, not means: patient shares and spreads are skewed, and a t test on them rejects too
    often in the lower tail.
    """
    site, others = site[~np.isnan(site)], others[~np.isnan(others)]
    if len(site) < 2 or len(others) < 2:
        return math.nan
    return float(stats.mannwhitneyu(site, others, alternative="less").pvalue)


def _higher(site: np.ndarray, others: np.ndarray) -> float:
    """Return the one-sided P that the site's patient values are higher (Mann-Whitney U)."""
    return _lower(-site, -others)


def _counts(values: pd.DataFrame) -> pd.DataFrame:
    """Return a patients x 0..10 matrix of NPRS mean answer counts, site per patient."""
    answers = values.dropna(subset=["nprs_mean"])
    answers = answers.assign(value=answers["nprs_mean"].round().astype(int))
    table = pd.crosstab([answers["site"], answers["patient"]], answers["value"])
    return table.reindex(columns=list(NPRS_VALUES), fill_value=0)


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _p_text(p: float) -> str:
    """Write ``< .001`` or ``= .02`` (the sentence puts the P before it)."""
    return p_phrase(p)[2:]


def _patient_values(calls: pd.DataFrame) -> pd.DataFrame:
    """Return per patient: site, baseline NPRS, its change to M3 and M12, and spread scores."""
    scores = calls.pivot_table(index="patient", columns="timepoint", values="nprs_mean")
    site = calls.groupby("patient")["site"].first()
    frame = pd.DataFrame({"site": site})
    baseline = scores.get("BL")
    frame["baseline"] = baseline
    for measure, timepoint in (("change_m3", "M3"), ("change_m12", "M12")):
        later = scores.get(timepoint)
        frame[measure] = later - baseline if later is not None and baseline is not None else np.nan
    for outcome in SPREAD_OUTCOMES:
        values = calls[["patient", "timepoint", outcome]].dropna()
        median = values.groupby("timepoint")[outcome].transform("median")
        distance = (values[outcome] - median).abs()
        frame[f"spread_{outcome}"] = distance.groupby(values["patient"]).mean()
    return frame


def _sd_ratio(calls: pd.DataFrame, outcome: str) -> pd.Series:
    """Return per site the SD of an outcome around each timepoint's mean, over the others' SD."""
    values = calls[["site", "timepoint", outcome]].dropna()
    residual = values[outcome] - values.groupby("timepoint")[outcome].transform("mean")
    squares = (residual**2).groupby(values["site"]).agg(["sum", "count"])
    total = squares.sum()
    site_sd = np.sqrt(squares["sum"] / squares["count"])
    others_sd = np.sqrt((total["sum"] - squares["sum"]) / (total["count"] - squares["count"]))
    return site_sd / others_sd


# A P value before adjustment: site, test, P, kind of message, the message's parameters.
_Raw = tuple[str, str, float, str, dict[str, str]]


def monitor(calls: pd.DataFrame, *, as_of: dt.date, q: float = Q) -> Monitoring:
    """Run every test on every site and return the rows, the flags and the pooled figures."""
    patients = calls.groupby("site")["patient"].nunique()
    rows = {site: SiteRow(site=str(site), patients=int(n)) for site, n in patients.items()}
    per_site, by_patient = _calls_due(calls, as_of, rows)
    counts = _counts(calls)
    pooled_counts = counts.sum(axis=0).to_numpy()
    shares = _digit_shares(counts)
    values = _patient_values(calls)
    sd_ratios = {outcome: _sd_ratio(calls, outcome) for outcome in SPREAD_OUTCOMES}
    raw: list[_Raw] = []
    for site, row in rows.items():
        others = _site_describe(site, row, counts, values, sd_ratios)
        if not row.tested:
            continue
        at_site = values["site"].eq(site)
        raw += _calls_tests(site, row, by_patient, per_site)
        raw += _digit_test(site, row, others, shares)
        raw += _spread_tests(site, row, values, at_site)
        raw += _shift_tests(site, row, values, at_site)
    flags = _adjust(raw, rows, q)
    means = {
        measure: (int(values[measure].notna().sum()), float(values[measure].mean()))
        for measure in SHIFT_MEASURES
    }
    ordered = [rows[site] for site in sorted(rows)]
    return Monitoring(
        rows=ordered, flags=flags, nprs_counts=[int(v) for v in pooled_counts], means=means, q=q
    )


def _calls_due(
    calls: pd.DataFrame, as_of: dt.date, rows: dict[str, SiteRow]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count each site's due, reached and on-time calls into its row; return them per site and
    per patient (the patient's share reached, and on time of those reached)."""
    due = due_calls(calls, as_of)
    per_site = due.groupby("site").agg(
        calls_due=("reached", "size"), reached=("reached", "sum"), on_time=("on_time", "sum")
    )
    for site, figures in per_site.iterrows():
        rows[site].calls_due = int(figures["calls_due"])
        rows[site].reached = int(figures["reached"])
        rows[site].on_time = int(figures["on_time"])
    by_patient = due.groupby("patient").agg(
        site=("site", "first"), reached=("reached", "mean"), on_time=("on_time", "sum")
    )
    reached_count = due.groupby("patient")["reached"].sum()
    by_patient["on_time"] = (by_patient["on_time"] / reached_count).where(reached_count > 0)
    return per_site, by_patient


def _digit_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Return each patient's share of pain answers at 5 and at the ends (0 or 10), with the site."""
    answers = counts.sum(axis=1)
    return pd.DataFrame(
        {
            "site": counts.index.get_level_values("site"),
            "five": (counts[5] / answers).to_numpy(),
            "ends": ((counts[0] + counts[10]) / answers).to_numpy(),
        }
    )


def _site_describe(
    site: str,
    row: SiteRow,
    counts: pd.DataFrame,
    values: pd.DataFrame,
    sd_ratios: dict[str, pd.Series],
) -> pd.DataFrame:
    """Fill the site's row with what is shown whether tested or not: its pain answers, their
    shares, its spread ratios and its means. Return the other sites' answer counts."""
    mine = (
        counts.xs(site, level="site")
        if site in counts.index.get_level_values(0)
        else counts.iloc[:0]
    )
    others = counts.drop(index=site, level="site", errors="ignore")
    row.nprs_counts = [int(v) for v in mine.sum(axis=0)]
    row.nprs_answers = int(mine.to_numpy().sum())
    if row.nprs_answers:
        row.share_five = row.nprs_counts[5] / row.nprs_answers
        row.share_ends = (row.nprs_counts[0] + row.nprs_counts[10]) / row.nprs_answers
    for outcome in SPREAD_OUTCOMES:
        row.sd_ratio[outcome] = float(sd_ratios[outcome].get(site, math.nan))
    at_site = values["site"].eq(site)
    for measure in SHIFT_MEASURES:
        column = values.loc[at_site, measure].dropna()
        if len(column):
            half = 1.96 * column.std(ddof=1) / math.sqrt(len(column)) if len(column) > 1 else 0
            mean = float(column.mean())
            row.means[measure] = (len(column), mean, mean - half, mean + half)
    return others


def _calls_tests(
    site: str, row: SiteRow, by_patient: pd.DataFrame, per_site: pd.DataFrame
) -> list[_Raw]:
    """Test the site's patients' shares of due calls reached, and of reached calls on time."""
    mine_p, others_p = (
        by_patient[by_patient["site"].eq(site)],
        by_patient[~by_patient["site"].eq(site)],
    )
    others_due = per_site.drop(index=site)
    others_reached = others_due["reached"].sum() / max(others_due["calls_due"].sum(), 1)
    others_on_time = others_due["on_time"].sum() / max(others_due["reached"].sum(), 1)
    p_reached = _lower(mine_p["reached"].to_numpy(float), others_p["reached"].to_numpy(float))
    p_on_time = _lower(mine_p["on_time"].to_numpy(float), others_p["on_time"].to_numpy(float))
    return [
        (
            site,
            "reached",
            p_reached,
            "reached",
            {"share": _pct(row.reached_share), "others": _pct(others_reached)},
        ),
        (
            site,
            "on_time",
            p_on_time,
            "on_time",
            {"share": _pct(row.on_time_share), "others": _pct(others_on_time)},
        ),
    ]


def _digit_test(site: str, row: SiteRow, others: pd.DataFrame, shares: pd.DataFrame) -> list[_Raw]:
    """Test the site's preference for 5 or for the ends of the scale, when it has answers enough.

    One digit test per site: the smaller P of the two, doubled (Bonferroni).
    """
    others_total = others.to_numpy().sum()
    if not (row.nprs_answers >= MIN_ANSWERS and others_total):
        return []
    other_counts = others.to_numpy().sum(axis=0)
    five_elsewhere = other_counts[5] / others_total
    ends_elsewhere = (other_counts[0] + other_counts[10]) / others_total
    on_site = shares["site"].eq(site)
    p_five = _higher(
        shares.loc[on_site, "five"].to_numpy(float),
        shares.loc[~on_site, "five"].to_numpy(float),
    )
    p_ends = _higher(
        shares.loc[on_site, "ends"].to_numpy(float),
        shares.loc[~on_site, "ends"].to_numpy(float),
    )
    if p_five <= p_ends:
        kind = "digit_five"
        params = {"share": _pct(row.share_five), "others": _pct(five_elsewhere)}
    else:
        kind = "digit_ends"
        params = {"share": _pct(row.share_ends), "others": _pct(ends_elsewhere)}
    return [(site, "digit", min(1.0, 2 * min(p_five, p_ends)), kind, params)]


def _spread_tests(site: str, row: SiteRow, values: pd.DataFrame, at_site: pd.Series) -> list[_Raw]:
    """Test whether the site's patients' answers spread less than elsewhere, per outcome."""
    raw: list[_Raw] = []
    for outcome in SPREAD_OUTCOMES:
        column = f"spread_{outcome}"
        p = _lower(
            values.loc[at_site, column].to_numpy(float),
            values.loc[~at_site, column].to_numpy(float),
        )
        ratio = row.sd_ratio[outcome]
        raw.append(
            (
                site,
                f"low_spread:{outcome}",
                p,
                "low_spread",
                {"outcome": OUTCOME_LABELS[outcome], "ratio": f"{ratio:.2f}"},
            )
        )
    return raw


def _shift_tests(site: str, row: SiteRow, values: pd.DataFrame, at_site: pd.Series) -> list[_Raw]:
    """Test the site's mean baseline pain and changes against the others (two-sided Welch)."""
    raw: list[_Raw] = []
    for measure in SHIFT_MEASURES:
        site_values = values.loc[at_site, measure].to_numpy(float)
        other_values = values.loc[~at_site, measure].to_numpy(float)
        if np.count_nonzero(~np.isnan(site_values)) < MIN_PATIENTS:
            continue
        t, p = _welch(site_values, other_values)
        row.z[measure] = t
        raw.append(
            (
                site,
                f"mean_shift:{measure}",
                p,
                "mean_shift",
                {
                    "measure": SHIFT_LABELS[measure],
                    "value": f"{np.nanmean(site_values):.1f}" if len(site_values) else "",
                    "others": f"{np.nanmean(other_values):.1f}" if len(other_values) else "",
                    "z": f"{t:.1f}",
                },
            )
        )
    return raw


def _adjust(raw: list[_Raw], rows: dict[str, SiteRow], q: float) -> list[Flag]:
    """Adjust every P value at once (Benjamini-Hochberg) and return the flags below ``q``."""
    tested = [entry for entry in raw if not math.isnan(entry[2])]
    if not tested:
        return []
    _reject, adjusted, _s, _b = multipletests([entry[2] for entry in tested], method="fdr_bh")
    flags = []
    for (site, test, p, kind, params), p_adj in zip(tested, adjusted, strict=True):
        rows[site].p[test] = float(p_adj)
        if p_adj < q:
            flag = Flag(
                site=site,
                test=test,
                kind=kind,
                p_value=p,
                p_adjusted=float(p_adj),
                params={"site": site, "p": _p_text(float(p_adj)), **params},
            )
            rows[site].flags.append(flag)
            flags.append(flag)
    return sorted(flags, key=lambda flag: (flag.p_adjusted, flag.site))
