"""Data-quality rules: pure functions on the frames of ``quality.loader`` (no Django).

Each rule takes the frames it needs and returns its findings: the patient, the row and field
at fault, the rule's code, a message, and a stable key so that reruns recognise a finding.

Frames (one row each):

* ``calls`` — per call: ``call_id``, ``patient_id``, ``study_code``, ``timepoint``, ``month``
  (BL 0, W1 0.25, Mk k), ``status``, ``call_date``, ``window_start``, ``window_end``,
  ``nprs_mean``, ``nprs_max``, ``hads_a``, ``hads_d``, ``sf12_pcs``, ``sf12_mcs`` and
  ``<instrument>_missing_reason`` (empty or missing when no reason was given);
* ``administrations`` — per live administration: ``admin_id``, ``patient_id``, ``study_code``,
  ``date``, ``total_mg``, and the patient's ``patient_status`` and ``status_date``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from followup.schedule import in_window_frame

# A jump of a HADS subscale (0-21) larger than this between consecutive monthly calls is queried.
HADS_JUMP_MAX = 10
INSTRUMENT_SCORES = {"nprs": ("nprs_mean", "nprs_max"), "hads": ("hads_a", "hads_d")}
INSTRUMENT_SCORES["sf12"] = ("sf12_pcs", "sf12_mcs")
INSTRUMENT_LABELS = {"nprs": "NPRS", "hads": "HADS", "sf12": "SF-12"}


def _(text: str) -> str:
    """Mark a message for translation: makemessages collects it, the pages translate it."""
    return text


# What each finding says, with %(name)s placeholders filled from its ``params``. Stored in
# English; the pages show it in the reader's language (quality.templatetags).
MESSAGES = {
    "call_outside_window": _(
        "Call of %(call_date)s outside its window %(window_start)s to %(window_end)s."
    ),
    "nprs_max_below_mean": _("Maximal pain %(nprs_max)s is below mean pain %(nprs_mean)s."),
    "hads_jump_anxiety": _("HADS anxiety went from %(before)s to %(after)s in one month."),
    "hads_jump_depression": _("HADS depression went from %(before)s to %(after)s in one month."),
    "missing_baseline_instrument": _(
        "Baseline completed without %(instrument)s and without a reason."
    ),
    "administration_after_withdrawal": _(
        "Administration of %(date)s after the withdrawal of %(status_date)s."
    ),
    "cumulative_dose_decreasing": _(
        "Cumulative dose %(cumulative)s mg at this call is below the %(before)s mg of an "
        "earlier timepoint: check the call dates and the administrations."
    ),
}
# The rules' names as the pages show them.
RULE_LABELS = {
    "call_outside_window": _("Call outside its window"),
    "nprs_max_below_mean": _("Maximal pain below mean pain"),
    "hads_jump": _("HADS jump between months"),
    "missing_baseline_instrument": _("Baseline questionnaire missing"),
    "administration_after_withdrawal": _("Administration after withdrawal"),
    "cumulative_dose_decreasing": _("Cumulative dose decreasing"),
}


@dataclass(frozen=True)
class Finding:
    """One inconsistency found by a rule."""

    rule: str
    patient_id: int
    study_code: str
    target: str  # "call", "administration", "patient" or "adverse_event"
    target_id: int
    field: str
    template: str  # a key of MESSAGES
    params: dict[str, str]
    call_id: int | None = None
    timepoint: str = ""
    value: str = ""

    @property
    def message(self) -> str:
        """Return what the finding says, in English (as stored)."""
        return MESSAGES[self.template] % self.params

    @property
    def key(self) -> str:
        """Return a key that stays the same as long as the finding does."""
        where = self.timepoint or f"{self.target}{self.target_id}"
        return f"{self.rule}:{self.study_code}:{where}:{self.field}"


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _call_findings(
    rows: pd.DataFrame, rule: str, field: str, template: str, names: dict[str, str]
) -> list[Finding]:
    """Turn rows of the calls frame into findings; ``names`` maps each parameter to its column."""
    return [
        Finding(
            rule=rule,
            patient_id=int(row["patient_id"]),
            study_code=str(row["study_code"]),
            target="call",
            target_id=int(row["call_id"]),
            call_id=int(row["call_id"]),
            timepoint=str(row["timepoint"]),
            field=str(row["_field"]) if "_field" in row else field,
            value=_text(row["_value"]) if "_value" in row else "",
            template=template,
            params={name: _text(row[column]) for name, column in names.items()},
        )
        for row in rows.to_dict("records")
    ]


def call_outside_window(calls: pd.DataFrame) -> list[Finding]:
    """Find reached follow-up calls dated outside their window (baseline has none)."""
    made = calls[calls["status"].eq("reached") & calls["timepoint"].ne("BL")]
    inside = in_window_frame(made["call_date"], made["window_start"], made["window_end"])
    out = made[inside.eq(False).fillna(False)]
    out = out.assign(_value=out["call_date"])
    return _call_findings(
        out,
        "call_outside_window",
        "call_date",
        "call_outside_window",
        {name: name for name in ("call_date", "window_start", "window_end")},
    )


def nprs_max_below_mean(calls: pd.DataFrame) -> list[Finding]:
    """Find calls whose maximal pain is below their mean pain."""
    both = calls[calls["nprs_mean"].notna() & calls["nprs_max"].notna()]
    wrong = both[both["nprs_max"] < both["nprs_mean"]]
    wrong = wrong.assign(_value=wrong["nprs_max"])
    return _call_findings(
        wrong,
        "nprs_max_below_mean",
        "nprs_max",
        "nprs_max_below_mean",
        {"nprs_max": "nprs_max", "nprs_mean": "nprs_mean"},
    )


def hads_jump(calls: pd.DataFrame) -> list[Finding]:
    """Find HADS subscales moving by more than HADS_JUMP_MAX between consecutive months."""
    monthly = calls[calls["timepoint"].str.match(r"^M\d+$")].sort_values(["patient_id", "month"])
    findings: list[Finding] = []
    for column, field, label in (
        ("hads_a", "hads_anxiety", "anxiety"),
        ("hads_d", "hads_depression", "depression"),
    ):
        previous = monthly.groupby("patient_id")[column].shift()
        previous_month = monthly.groupby("patient_id")["month"].shift()
        jump = (monthly[column] - previous).abs()
        rows = monthly[jump.gt(HADS_JUMP_MAX) & (monthly["month"] - previous_month).eq(1)]
        rows = rows.assign(_previous=previous[rows.index], _field=field, _value=rows[column])
        findings += _call_findings(
            rows,
            "hads_jump",
            field,
            f"hads_jump_{label}",
            {"before": "_previous", "after": column},
        )
    return findings


def missing_baseline_instrument(calls: pd.DataFrame) -> list[Finding]:
    """Find baselines completed without NPRS, HADS or SF-12 and without a reason."""
    baseline = calls[calls["timepoint"].eq("BL") & calls["status"].eq("reached")]
    findings: list[Finding] = []
    for instrument, scores in INSTRUMENT_SCORES.items():
        reason = baseline[f"{instrument}_missing_reason"].fillna("").astype(str).str.strip()
        absent = baseline[list(scores)].isna().all(axis=1) & reason.eq("")
        rows = baseline[absent].assign(
            _field=instrument, _value="", _instrument=INSTRUMENT_LABELS[instrument]
        )
        findings += _call_findings(
            rows,
            "missing_baseline_instrument",
            instrument,
            "missing_baseline_instrument",
            {"instrument": "_instrument"},
        )
    return findings


def administration_after_withdrawal(administrations: pd.DataFrame) -> list[Finding]:
    """Find live administrations dated after the patient withdrew."""
    withdrawn = administrations[
        administrations["patient_status"].eq("withdrawn") & administrations["status_date"].notna()
    ]
    late = withdrawn[withdrawn["date"] > withdrawn["status_date"]]
    return [
        Finding(
            rule="administration_after_withdrawal",
            patient_id=int(row["patient_id"]),
            study_code=str(row["study_code"]),
            target="administration",
            target_id=int(row["admin_id"]),
            field="date",
            value=_text(row["date"]),
            template="administration_after_withdrawal",
            params={"date": _text(row["date"]), "status_date": _text(row["status_date"])},
        )
        for row in late.to_dict("records")
    ]


def cumulative_dose_decreasing(calls: pd.DataFrame, administrations: pd.DataFrame) -> list[Finding]:
    """Find calls whose cumulative dose is below that of an earlier timepoint's call.

    The cumulative dose at a call adds the live administrations dated up to its call date. It
    falls from one timepoint to a later one when the later call is dated before the earlier
    one with ketamine given in between: the dates of the calls (or of the dose) are wrong.
    """
    made = calls[calls["status"].eq("reached") & calls["call_date"].notna()]
    made = made[["call_id", "patient_id", "study_code", "timepoint", "month", "call_date"]]
    made = made.astype({"patient_id": "int64"})
    doses = administrations[["patient_id", "date", "total_mg"]].astype(
        {"patient_id": "int64", "date": "datetime64[ns]", "total_mg": "float64"}
    )
    made = made.astype({"call_date": "datetime64[ns]"})
    doses = doses.sort_values(["patient_id", "date"])
    doses = doses.assign(cumulative=doses.groupby("patient_id")["total_mg"].cumsum())
    merged = pd.merge_asof(
        made.sort_values("call_date"),
        doses.rename(columns={"date": "call_date"}).sort_values("call_date"),
        on="call_date",
        by="patient_id",
        direction="backward",
    )
    merged["cumulative"] = merged["cumulative"].fillna(0.0).astype(float)
    merged = merged.sort_values(["patient_id", "month"])
    highest_before = merged.groupby("patient_id")["cumulative"].transform(
        lambda s: s.cummax().shift()
    )
    rows = merged[merged["cumulative"] < highest_before - 1e-9]
    rows = rows.assign(_before=highest_before[rows.index], _value=rows["call_date"])
    return _call_findings(
        rows,
        "cumulative_dose_decreasing",
        "call_date",
        "cumulative_dose_decreasing",
        {"cumulative": "cumulative", "before": "_before"},
    )


CallRule = Callable[[pd.DataFrame], list[Finding]]
CALL_RULES: dict[str, CallRule] = {
    "call_outside_window": call_outside_window,
    "nprs_max_below_mean": nprs_max_below_mean,
    "hads_jump": hads_jump,
    "missing_baseline_instrument": missing_baseline_instrument,
}
RULES = (*CALL_RULES, "administration_after_withdrawal", "cumulative_dose_decreasing")


def run_rules(calls: pd.DataFrame, administrations: pd.DataFrame) -> list[Finding]:
    """Run every rule and return all findings."""
    findings: list[Finding] = []
    for rule in CALL_RULES.values():
        findings += rule(calls)
    findings += administration_after_withdrawal(administrations)
    findings += cumulative_dose_decreasing(calls, administrations)
    return findings
