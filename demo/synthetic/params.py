"""Every calibration constant of the demo cohort, with its source.

Sources are marked in the comments:

* ``Table``: the baseline table of Voute et al., JAMA Netw Open 2023;6(5):e2314406 (n = 329), also
  in ``shared/reference/paper-targets.json`` under ``cohort``;
* ``Results``: the results section of the same paper (``results`` in paper-targets.json);
* ``derived``: computed from published figures by the formula given next to it;
* ``calibrated``: tuned by simulation (N = 20,000 to 50,000) so that the generated cohort
  reproduces the published figure named next to it;
* ``assumption``: a plausible value where the paper gives nothing; changing it does not move any
  published figure.
"""

from __future__ import annotations

from typing import Final

PAPER: Final = "Voute et al., JAMA Netw Open 2023;6(5):e2314406"

# Timepoints in order and their time in months (BL 0, W1 0.25, Mk k); as cohort.vocabulary.
N_TIMEPOINTS: Final = 14

# ---------------------------------------------------------------- sites
N_SITES: Final = 30  # Results: 30 French pain clinics
# assumption: site sizes follow a Zipf-like law, weight of the k-th largest site ~ k^-0.9.
SITE_SIZE_EXPONENT: Final = 0.9
# assumption: share of sites whose protocol writes ketamine doses in mg/kg (others in mg).
SITE_MG_PER_KG_SHARE: Final = 0.6

# ---------------------------------------------------------------- demographics
P_WOMEN: Final = 0.757  # Table: 249/329
AGE_MEAN: Final = 51.4  # Table
AGE_SD: Final = 11.0  # Table
AGE_MIN, AGE_MAX = 18, 90  # eligibility: adults
# assumption: body weight (kg) by sex, mean and SD; overall about 72 (16) kg.
WEIGHT_BY_SEX: Final = {"F": (68.0, 14.0), "M": (81.0, 15.0)}
WEIGHT_RANGE: Final = (40.0, 160.0)
# assumption: pain duration in months, log-normal (median 8 years), always > 6 months (eligibility).
PAIN_DURATION_MEDIAN_MONTHS: Final = 96.0
PAIN_DURATION_LOG_SD: Final = 0.8
PAIN_DURATION_MIN_MONTHS: Final = 7
# Earliest age at which the chronic pain began (keeps the duration below the patient's age).
PAIN_ONSET_MIN_AGE: Final = 10
# assumption: consent signed on the inclusion day for 55%, else 1-21 days before.
CONSENT_SAME_DAY: Final = 0.55
CONSENT_MAX_DAYS_BEFORE: Final = 21

# ---------------------------------------------------------------- etiology (Table, counts by sex)
ETIOLOGY_COUNTS: Final = {
    "F": {
        "fibromyalgia": 150,
        "peripheral_neuropathic": 62,
        "central_neuropathic": 8,
        "crps": 17,
        "back_pain_sciatica_neuralgia_pelvic_osteoarthritis": 7,
        "rheumatoid_arthritis_spondylitis": 1,
        "headache": 4,
        "other": 1,
    },
    "M": {
        "fibromyalgia": 23,
        "peripheral_neuropathic": 39,
        "central_neuropathic": 10,
        "crps": 4,
        "back_pain_sciatica_neuralgia_pelvic_osteoarthritis": 2,
        "rheumatoid_arthritis_spondylitis": 2,
        "headache": 1,
        "other": 2,
    },
}
# Table (total column): overall etiology shares. They add up to 101.2% (a few patients have two
# etiologies); with one etiology per patient the by-sex shares are rescaled so that the mixture
# over sexes gives these shares divided by 1.012.
ETIOLOGY_PCT: Final = {
    "fibromyalgia": 52.6,
    "peripheral_neuropathic": 30.7,
    "central_neuropathic": 5.5,
    "crps": 6.4,
    "back_pain_sciatica_neuralgia_pelvic_osteoarthritis": 2.7,
    "rheumatoid_arthritis_spondylitis": 0.9,
    "headache": 1.5,
    "other": 0.9,
}
NEUROPATHIC_ETIOLOGIES: Final = frozenset({"peripheral_neuropathic", "central_neuropathic"})

# ---------------------------------------------------------------- comorbidities (Table, % by sex)
COMORBIDITY_PCT: Final = {
    "F": {
        "neurological_or_psychological": 40.2,
        "gastrointestinal": 29.3,
        "heart": 16.9,
        "migraine": 14.1,
        "pulmonary": 12.4,
        "thyroid": 9.6,
        "type1_diabetes": 7.6,
        "cancer": 5.6,
        "ent": 4.8,
        "psoriasis": 2.4,
        "liver": 2.4,
        "peripheral_vessel": 2.0,
        "osteoporosis": 2.4,
        "prostate": 0.0,
        "chronic_kidney": 0.4,
    },
    "M": {
        "neurological_or_psychological": 27.5,
        "gastrointestinal": 20.0,
        "heart": 21.3,
        "migraine": 5.0,
        "pulmonary": 6.3,
        "thyroid": 5.0,
        "type1_diabetes": 5.0,
        "cancer": 2.5,
        "ent": 2.5,
        "psoriasis": 3.8,
        "liver": 0.0,
        "peripheral_vessel": 1.3,
        "osteoporosis": 0.0,
        "prostate": 2.5,
        "chronic_kidney": 0.0,
    },
}
COMORBIDITY_NONE_PCT: Final = {"F": 14.1, "M": 22.5}  # Table

# ---------------------------------------------------------------- DN4 and paroxysms
DN4_ASKED: Final = 135 / 156  # Table: 135 DN4 of 156 non-fibromyalgia patients
# calibrated: probabilities of DN4 scores 0..10 giving mean 5.6, SD 2.1, 87.4% >= 4 (Table).
DN4_PMF: Final = (0.004, 0.012, 0.035, 0.075, 0.18, 0.19, 0.17, 0.13, 0.10, 0.065, 0.039)
PAROXYSMS_KNOWN: Final = 206 / 329  # Table
# calibrated: paroxysms per day (value: probability), median 4, IQR 3-8 (Table).
PAROXYSMS_PMF: Final = {
    1: 0.08, 2: 0.12, 3: 0.15, 4: 0.20, 5: 0.08, 6: 0.07, 7: 0.04, 8: 0.06,
    10: 0.06, 12: 0.04, 15: 0.03, 20: 0.04, 30: 0.02, 50: 0.01,
}  # fmt: skip
KETAMINE_NAIVE: Final = 0.298  # Table

# ---------------------------------------------------------------- latent pain trajectory groups
GROUP_SHARE: Final = (0.186, 0.480, 0.333)  # Results: T1 52, T2 134, T3 93 of 279
FIBRO_SHARE_BY_GROUP: Final = (0.288, 0.619, 0.484)  # Results: 15/52, 83/134, 45/93
# Results: baseline NPRS by group, mean (SD): 5.3 (1.7), 6.5 (1.5), 7.8 (1.5). The SD splits into
# a persistent part (below) and the baseline-only deviation NPRS_BASELINE_TRANSIENT_SD plus the
# depression channel and rounding: 1.05^2 + 1.15^2 + 0.6^2 * 1.08^2 + 1/12 = 1.68^2.
BASELINE_NPRS_BY_GROUP: Final = (5.3, 6.5, 7.8)
NPRS_PERSISTENT_SD_BY_GROUP: Final = (1.05, 0.70, 0.70)
# derived: the published SDs at BL (1.8), M12 (2.1) and of the change (2.22) imply a pre/post
# correlation of 0.36 and a covariance of -1.9 between baseline and change; a baseline-only
# deviation (patients are included when their pain is high) supplies that regression to the mean.
NPRS_BASELINE_TRANSIENT_SD: Final = 1.25
# calibrated: the baseline-only deviation is skewed to the left (a shifted gamma law of this shape,
# mean 0): few patients come in with pain well above their usual level, more a little above;
# this reproduces the 59.4% of baseline NPRS >= 7 with a mean of 6.8 (Table).
NPRS_BASELINE_TRANSIENT_SHAPE: Final = 2.0
NPRS_FOLLOWUP_NOISE_SD: Final = 0.55  # assumption: call-to-call pain variation
# Expected mean NPRS change from baseline by group at W1, M1..M12 (design of the truth, chosen to
# reproduce Results: T1 vs T3 differ by 1.5 from M2, T1 vs T2 by 1.0 from M2 to M10, T2 vs T3 by
# 0.6 from M4, overall change -1.13 at M12; quick drop at W1 then plateau, T3 only brief relief).
GROUP_CHANGE: Final = (
    (-1.5, -1.6, -1.75, -1.8, -1.8, -1.8, -1.8, -1.8, -1.8, -1.75, -1.6, -1.25, -0.95),
    (-1.3, -1.2, -1.2, -1.25, -1.25, -1.25, -1.25, -1.25, -1.25, -1.25, -1.25, -1.25, -1.25),
    (-1.2, -0.95, -0.75, -0.65, -0.55, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5),
)
# Results: 18/52 (34.6%) of T1 are neuropathic patients with NPRS < 3 from M3. About 54% of T1 are
# neuropathic (peripheral or central), so 64% of them are responders (0.346 / 0.54).
T1_NEUROPATHIC_RESPONDER: Final = 0.72
RESPONDER_LEVEL: Final = (1.0, 0.35)  # assumption: plateau NPRS of responders, mean and SD
RESPONDER_NOISE_SD: Final = 0.40  # assumption: small call-to-call variation at the floor
# Weight of the responder plateau at W1, M1, M2 (then 1): the fall to the floor takes 3 months.
RESPONDER_APPROACH: Final = (0.3, 0.55, 0.8)

# ---------------------------------------------------------------- maximal pain
# calibrated: max = pain + (10 - pain) * f, f = N(0.5, 0.28) clipped to 0..1, then rounded and
# never below the mean pain, giving 8.4 (1.5) and 90.7% >= 7 (Table).
MAX_PAIN_FRACTION: Final = (0.5, 0.28)

# ---------------------------------------------------------------- HADS (baseline traits)
# Results: baseline HADS-D by group 7.9 / 8.7 / 9.4, HADS-A 9.6 / 10.1 / 11.5.
HADS_D_BY_GROUP: Final = (7.9, 8.7, 9.4)
HADS_A_BY_GROUP: Final = (9.6, 10.1, 11.5)
# Table: HADS-A women 11.0, men 8.8 (difference 2.2); HADS-D women 9.0, men 8.8.
HADS_A_SEX_GAP: Final = 2.2
HADS_D_SEX_GAP: Final = 0.2
# derived: residual trait SDs so that the baseline SDs are 4.2 (D) and 4.3 (A) (Table) once the
# group and sex spreads and the call-to-call deviation are added.
HADS_D_TRAIT_SD: Final = 4.0
HADS_A_TRAIT_SD: Final = 3.75
# calibrated: the HADS bands of the Table (fewer 8-10 scores than a normal law gives) need a
# flatter law: trait z-score = d * s + sqrt(1 - d^2) * z, with s = +1 or -1 (a "distress" sign
# shared by both subscales) and z normal; d = 0.6. The shared sign and the correlation of the z
# parts (0.41) give a trait correlation of 0.36 + 0.64 * 0.41 = 0.62 and 28% of patients with both
# subscales >= 11 at baseline (Results).
HADS_TRAIT_BIMODALITY: Final = 0.75
HADS_TRAIT_CORRELATION: Final = 0.41
# assumption: correlation of the persistent pain level with each HADS trait's z part.
PAIN_HADS_CORRELATION: Final = 0.2
# calibrated: the distress sign also raises (or lowers) the persistent pain level by this much,
# within the persistent SD of the group: 18.2% of patients have both HADS >= 11 and NPRS > 7.
BASELINE_DISTRESS_PAIN: Final = 0.6

# ---------------------------------------------------------------- HADS change over the year
# Results: HADS-D 8.8 -> 7.5, HADS-A 10.4 -> 8.7. The latent falls are a little larger because the
# floor at 0 absorbs part of the fall of the lowest scores (calibrated).
HADS_D_FALL: Final = -1.45
HADS_A_FALL: Final = -1.85
# derived from Results (SD at BL and M12, effect sizes -0.44 and -0.58 = change / SD of change):
# the covariance of baseline with change is -(deviation variance), hence these call-to-call SDs;
# the individual change SDs then give SD(change) 2.6 for D (2.95 published, see docs) and 2.9 for A.
HADS_D_DEVIATION_SD: Final = 1.08
HADS_A_DEVIATION_SD: Final = 1.72
HADS_D_CHANGE_SD: Final = 2.2
# assumption: the patient's own change (SD HADS_D_CHANGE_SD) follows the mean curve's shape h(t)
# ("mean_shape", 1.38 times its M12 size at W1) or is a level shift from W1 on ("step"). The
# paper is silent; bench/calibration.py --generator step shows what the trajectory models make
# of each.
HADS_D_OWN_CHANGE: Final = "mean_shape"
HADS_A_CHANGE_SD: Final = 1.63
HADS_CHANGE_CORRELATION: Final = 0.5  # assumption
HADS_DEVIATION_CORRELATION: Final = 0.4  # assumption

# ---------------------------------------------------------------- structural pain equations
# Results / methods: depression change carries 64.6% of the pain relief.
PROPORTION_MEDIATED: Final = 0.646
# calibrated (N = 20,000, two seeds; bench/replication.py for N = 329): effect at M12 on the pain
# change of one HADS-D point of baseline trait above the mean (a linear ramp over the year),
# together with the anxiety term below: time x (HADS-D > 7) slope -0.040 points/month (paper
# -0.04 [-0.06, -0.01], omnibus P = .002), time x (HADS-A > 7) slope -0.011 (paper -0.01
# [-0.03, 0.02], P = .56). The two traits correlate (0.62), so each marginal slope mixes both
# terms: slope_D = -0.004 + 0.454 g_D + 0.341 g_A, slope_A = 0.004 + 0.317 g_D + 0.425 g_A
# (fitted at N = 20,000); solved for -0.04 and -0.01.
BASELINE_DEPRESSION_MODERATION: Final = -0.122
# calibrated: the same for one HADS-A point of baseline trait, given depression. Without it the
# anxiety slope is half the depression one (-0.021; its CI excluded 0 in 9 of 10 seeds at
# N = 329 where the paper's covers 0): depression, not anxiety, moderates relief.
BASELINE_ANXIETY_MODERATION: Final = 0.057
CUMULATIVE_DOSE_EFFECT: Final = 0.0  # Results: dose unrelated to pain relief (truth: exactly 0)

# ---------------------------------------------------------------- SF-12 summaries
# Table: PCS 28.4 (8.0), MCS 39.4 (10.8); Results: PCS 28.5 -> 29.5, MCS 39.7 -> 42.2.
PCS_MEAN: Final = 28.1  # calibrated: scored mean 28.4 (low PCS needs good mental answers)
PCS_PER_PAIN_POINT: Final = -0.9  # derived: +1.0 PCS for -1.13 NPRS
PCS_PERSON_SD: Final = 8.2
PCS_CHANGE_SD: Final = 4.5  # derived: SD 8.0 at BL to 9.2 at M12
PCS_NOISE_SD: Final = 2.5
MCS_MEAN: Final = 39.4
MCS_PER_HADS_POINT: Final = -0.8  # derived: +2.4 MCS for -1.3 HADS-D and -1.7 HADS-A
MCS_PERSON_SD: Final = 8.5
MCS_NOISE_SD: Final = 3.0

# ---------------------------------------------------------------- IV ketamine
P_IV: Final = 0.848  # Table: 279/329
OTHER_ROUTES: Final = {"sc": 0.6, "oral": 0.25, "intranasal": 0.15}  # assumption
# calibrated: total days of IV ketamine (sum over administrations) giving median 9, IQR 6-12 and
# bins <=6 36.6%, 7-9 23.3%, 10-12 24.4%, >=13 15.8% (Table). Probabilities of 2..30 days.
IV_DAYS_PMF: Final = {
    2: 0.04, 3: 0.055, 4: 0.055, 5: 0.07, 6: 0.11,
    7: 0.06, 8: 0.06, 9: 0.135,
    10: 0.08, 11: 0.06, 12: 0.115,
    13: 0.03, 14: 0.03, 15: 0.025, 16: 0.012, 17: 0.01, 18: 0.01, 19: 0.009, 20: 0.009,
    21: 0.004, 22: 0.003, 24: 0.003, 25: 0.003, 28: 0.003, 30: 0.002,
}  # fmt: skip
# calibrated: daily IV dose (mg/kg/day), log-normal, so that the cumulative dose over the year has
# median 444 mg and IQR 280-666 mg (Table).
IV_DAILY_MG_PER_KG: Final = (0.81, 0.30)  # median, log SD
# assumption: non-IV regimens (daily mg/kg median, log SD) and their total days.
OTHER_DAILY_MG_PER_KG: Final = (0.5, 0.4)
OTHER_DAYS_RANGE: Final = (2, 40)
# assumption: days per administration (course) 1, 2, 3 or 5, with these probabilities.
COURSE_DAYS: Final = {1: 0.35, 2: 0.2, 3: 0.2, 5: 0.25}
MAX_ADMINISTRATIONS: Final = 12
INFUSION_MINUTES: Final = (40, 60, 90, 120, 240)  # assumption (Methods: e.g. 0.2 mg/kg over 40 min)

# ---------------------------------------------------------------- follow-up calls
# Results: reached W1 297/329, M1 289/329, later months 220-277, M12 291/329.
# assumption: about 11.5% leave the study over the year (withdrawn, lost or deceased), spread
# over the timepoints W1, M1..M12; this is the per-timepoint probability of leaving there.
DROPOUT_AT: Final = (
    0.006, 0.014, 0.0085, 0.0085, 0.0085, 0.0085, 0.0085, 0.0085, 0.0085, 0.0085, 0.0085,
    0.0085, 0.01,
)  # fmt: skip
DROPOUT_KIND: Final = {"withdrawn": 0.47, "lost": 0.48, "deceased": 0.05}  # assumption
# calibrated: chance that an active patient's call is missed (W1, M1..M12), so that the reached
# counts match Results.
MISSED_CALL: Final = (
    0.09, 0.10, 0.14, 0.16, 0.18, 0.20, 0.17, 0.22, 0.25, 0.20, 0.18, 0.16, 0.005,
)  # fmt: skip
MISSED_REFUSED: Final = 0.12  # assumption: share of missed calls where the patient refused
REACHED_ATTEMPTS: Final = (0.6, 0.28, 0.12)  # assumption: reached at the 1st, 2nd, 3rd attempt
UNREACHABLE_ATTEMPTS: Final = (0.2, 0.3, 0.5)  # assumption: 1, 2 or 3 failed attempts
FAILED_OUTCOMES: Final = {"no_answer": 0.68, "voicemail": 0.28, "wrong_number": 0.04}
FIRST_ATTEMPT_OFFSET_DAYS: Final = (-2, 5)  # assumption: first attempt vs target date (inclusive)

# Table denominators: NPRS mean 315, max 313 (instrument-level: 314), HADS-A 313, HADS-D 312
# (instrument-level: 312.5), SF-12 294, of 329.
BASELINE_MISSING: Final = {"nprs": 15 / 329, "hads": 16.5 / 329, "sf12": 35 / 329}
FOLLOWUP_ITEM_MISSING: Final = {"nprs": 0.01, "hads": 0.03, "sf12": 0.05}  # assumption
MISSING_NOT_ASKED: Final = 0.7  # assumption: share of "not_asked" (else "refused")
# assumption: share of answered follow-up SF-12 with one blank item, and why it is blank (the
# work-role items are often not applicable to retired patients). Baseline stays as calibrated.
SF12_ONE_ITEM_BLANK: Final = 0.03
SF12_ROLE_ITEMS: Final = ("sf12_rp2", "sf12_rp3", "sf12_re2", "sf12_re3")
SF12_BLANK_ROLE_SHARE: Final = 0.4  # of the blank items, a role item, not applicable
SF12_BLANK_REFUSED: Final = 0.3  # of the other blank items, refused (else not asked)

# ---------------------------------------------------------------- adverse effects (Results)
# Share of reached patients with >= 1 adverse effect at W1, M1, M2..M12 (41.4%, 23.5%, then
# between 12.7% and 21.3%).
ANY_ADVERSE_EFFECT: Final = (
    0.414, 0.235, 0.213, 0.18, 0.16, 0.15, 0.14, 0.135, 0.13, 0.13, 0.13, 0.13, 0.13,
)  # fmt: skip
# calibrated: extra events per call with an adverse effect (Poisson), 645 events at n = 329.
EXTRA_ADVERSE_EFFECTS: Final = 0.07
# Results: fatigue 28.5%, nausea 18.3%, headache 17.8%, drowsiness 9.1% of events; the rest of the
# events (26.3%) is spread over the other codes (assumption).
ADVERSE_EFFECT_MIX: Final = {
    "fatigue": 28.5,
    "nausea": 18.3,
    "headache": 17.8,
    "drowsiness": 9.1,
    "dizziness": 8.0,
    "dissociation_hallucination": 6.0,
    "vomiting": 3.5,
    "blurred_vision": 2.8,
    "nightmares": 2.5,
    "other": 3.5,
}
SEVERITY: Final = {"mild": 0.65, "moderate": 0.28, "severe": 0.07}  # assumption
SERIOUS_IF_SEVERE: Final = 0.3  # assumption
# The course of each effect (assumptions): a serious effect's ICH E2A criterion and the
# clinician's causality; an effect is over by the next reached call, and one reported at the
# patient's latest call is still present with this chance (asked about at the next call).
SERIOUS_CRITERION: Final = {"hospitalisation": 0.6, "other_important": 0.35, "disability": 0.05}
SERIOUS_RELATION: Final = {"unlikely": 0.1, "possible": 0.5, "probable": 0.3, "certain": 0.1}
STILL_PRESENT_AT_LATEST_CALL: Final = 0.4
OTHER_ADVERSE_TEXTS: Final = (
    "Dry mouth",
    "Palpitations",
    "Hot flushes",
    "Euphoria",
    "Urinary discomfort",
    "Transient hypertension",
    "Anxiety during infusion",
)

# ---------------------------------------------------------------- concomitant treatments
# Table: % of patients by sex with each drug class at baseline.
DRUG_PCT: Final = {
    "F": {
        "paracetamol_or_nsaid": 43.0,
        "step2_opioid_or_nefopam": 55.4,
        "step3_opioid": 13.3,
        "antidepressant": 71.5,
        "antiepileptic": 41.0,
        "adjuvant": 20.1,
        "hypnotic_or_sedative": 17.7,
        "anxiolytic": 33.7,
        "antipsychotic": 5.6,
        "other": 9.2,
    },
    "M": {
        "paracetamol_or_nsaid": 41.3,
        "step2_opioid_or_nefopam": 52.5,
        "step3_opioid": 23.8,
        "antidepressant": 61.3,
        "antiepileptic": 53.8,
        "adjuvant": 20.0,
        "hypnotic_or_sedative": 20.0,
        "anxiolytic": 27.5,
        "antipsychotic": 7.5,
        "other": 10.0,
    },
}
# Results: change in percentage points from baseline to M12 (paracetamol/NSAID 42.6 -> 53.3,
# step 3 opioids 15.8 -> 18.6, antiepileptics 44.1 -> 42.3); other classes unchanged.
# The change is linear in time.
DRUG_CHANGE_PP: Final = {
    "paracetamol_or_nsaid": 10.7,
    "step3_opioid": 2.8,
    "antiepileptic": -1.8,
}
# calibrated: loading of a shared "polypharmacy" factor (4.0% without any drug, Table) and the
# chance of a second drug in a class taken (3.6 (1.9) treatments, Table).
DRUG_FACTOR_LOADING: Final = 0.33
SECOND_DRUG_IN_CLASS: Final = 0.16
# Results: about half the patients have kinesiotherapy or physical activity during follow-up.
ACTIVE_THERAPY_ENGAGED: Final = 0.5
ACTIVE_THERAPY_PER_CALL: Final = {"kinesiotherapy": 0.5, "physical_activity": 0.45}  # assumption
ACTIVE_THERAPY_BASELINE: Final = {  # assumption: (engaged, not engaged)
    "kinesiotherapy": (0.40, 0.08),
    "physical_activity": (0.30, 0.06),
}
OTHER_NON_DRUG: Final = {  # assumption: patient-level prevalence; reported at 80% of calls
    "psychotherapy": 0.12,
    "relaxation_hypnosis": 0.15,
    "tens": 0.08,
    "acupuncture": 0.05,
    "other": 0.03,
}
OTHER_NON_DRUG_PER_CALL: Final = 0.8
