"""The paper's wording of each figure: block names, labels, codes and the notes shown in place.

Words are English and marked with ``_`` (a no-op here); the pages translate them.
"""

from __future__ import annotations

from cohort import vocabulary as voc


def _(text: str) -> str:
    """Mark words for translation; the pages translate them, this module stays Django-free."""
    return text


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
