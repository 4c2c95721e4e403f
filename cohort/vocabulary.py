"""Codes shared by the data model, the demo generator, the analyses and the exports.

Pure Python, no Django: the synthetic cohort generator and the statistics import it without a
configured project. Each vocabulary is a tuple of ``(code, English label)`` pairs; the code is what
is stored and exported, and never changes once data exist. Models build their choices from these.
"""

from __future__ import annotations

from typing import Final

Vocabulary = tuple[tuple[str, str], ...]


def _(text: str) -> str:
    """Mark a label for translation: makemessages collects it, the pages translate it."""
    return text


def codes(vocabulary: Vocabulary) -> tuple[str, ...]:
    """Return the codes of a vocabulary, in order."""
    return tuple(code for code, _label in vocabulary)


def label(vocabulary: Vocabulary, code: str) -> str:
    """Return the English label of one code, or raise KeyError."""
    return dict(vocabulary)[code]


# Timepoints of the follow-up: code, label, months since the first ketamine administration.
TIMEPOINT_MONTHS: Final[tuple[tuple[str, float], ...]] = (
    ("BL", 0.0),
    ("W1", 0.25),
    *((f"M{k}", float(k)) for k in range(1, 13)),
)
MONTH_OF_TIMEPOINT: Final[dict[str, float]] = dict(TIMEPOINT_MONTHS)
TIMEPOINTS: Final[Vocabulary] = (
    ("BL", _("Baseline (in hospital)")),
    ("W1", _("Week 1")),
    ("M1", _("Month 1")),
    ("M2", _("Month 2")),
    ("M3", _("Month 3")),
    ("M4", _("Month 4")),
    ("M5", _("Month 5")),
    ("M6", _("Month 6")),
    ("M7", _("Month 7")),
    ("M8", _("Month 8")),
    ("M9", _("Month 9")),
    ("M10", _("Month 10")),
    ("M11", _("Month 11")),
    ("M12", _("Month 12")),
)
FOLLOWUP_TIMEPOINTS: Final[tuple[str, ...]] = codes(TIMEPOINTS)[1:]

SEXES: Final[Vocabulary] = (("F", _("Female")), ("M", _("Male")))

ETIOLOGIES: Final[Vocabulary] = (
    ("fibromyalgia", _("Fibromyalgia")),
    ("peripheral_neuropathic", _("Peripheral neuropathic pain")),
    ("central_neuropathic", _("Central neuropathic pain")),
    ("crps", _("Complex regional pain syndrome")),
    (
        "back_pain_sciatica_neuralgia_pelvic_osteoarthritis",
        _("Back pain, sciatica, cruralgia, neuralgia, pelvic pain, osteoarthritis"),
    ),
    ("rheumatoid_arthritis_spondylitis", _("Rheumatoid arthritis, spondylitis")),
    ("headache", _("Headache")),
    ("other", _("Other")),
)
# DN4 is a neuropathic pain screen: not asked for these etiologies.
DN4_NOT_ASKED_FOR: Final[frozenset[str]] = frozenset({"fibromyalgia"})

COMORBIDITIES: Final[Vocabulary] = (
    ("neurological_or_psychological", _("Neurological or psychological disorder")),
    ("gastrointestinal", _("Gastrointestinal tract disease")),
    ("heart", _("Heart disease")),
    ("migraine", _("Migraine")),
    ("pulmonary", _("Pulmonary disorder")),
    ("thyroid", _("Thyroid disorder")),
    ("type1_diabetes", _("Type 1 diabetes")),
    ("cancer", _("Cancer")),
    ("ent", _("Ear, nose, and throat disorder")),
    ("psoriasis", _("Psoriasis")),
    ("liver", _("Liver disease")),
    ("peripheral_vessel", _("Peripheral vessel disease")),
    ("osteoporosis", _("Osteoporosis")),
    ("prostate", _("Prostate disorder")),
    ("chronic_kidney", _("Chronic kidney disease")),
)

DRUG_CLASSES: Final[Vocabulary] = (
    ("paracetamol_or_nsaid", _("Paracetamol and/or NSAIDs")),
    ("step2_opioid_or_nefopam", _("Step 2 opioids, nefopam")),
    ("step3_opioid", _("Step 3 opioids")),
    ("antidepressant", _("Antidepressants")),
    ("antiepileptic", _("Antiepileptics")),
    ("adjuvant", _("Adjuvants")),
    ("hypnotic_or_sedative", _("Hypnotics and/or sedatives")),
    ("anxiolytic", _("Anxiolytics")),
    ("antipsychotic", _("Antipsychotics")),
    ("other", _("Others")),
)

NON_DRUG_TREATMENTS: Final[Vocabulary] = (
    ("kinesiotherapy", _("Kinesiotherapy / physiotherapy")),
    ("physical_activity", _("Mild physical activity")),
    ("psychotherapy", _("Psychotherapy")),
    ("relaxation_hypnosis", _("Relaxation, sophrology or hypnosis")),
    ("tens", _("Transcutaneous electrical nerve stimulation")),
    ("acupuncture", _("Acupuncture")),
    ("other", _("Other")),
)

ADVERSE_EFFECTS: Final[Vocabulary] = (
    ("fatigue", _("Fatigue")),
    ("nausea", _("Nausea")),
    ("headache", _("Headache")),
    ("drowsiness", _("Drowsiness")),
    ("dizziness", _("Dizziness")),
    ("dissociation_hallucination", _("Dissociation or hallucinations")),
    ("vomiting", _("Vomiting")),
    ("blurred_vision", _("Blurred vision")),
    ("nightmares", _("Nightmares")),
    ("other", _("Other")),
)
SEVERITIES: Final[Vocabulary] = (
    ("mild", _("Mild")),
    ("moderate", _("Moderate")),
    ("severe", _("Severe")),
)
# Seriousness criteria of ICH E2A; a serious adverse effect meets at least one.
SERIOUSNESS_CRITERIA: Final[Vocabulary] = (
    ("death", _("Results in death")),
    ("life_threatening", _("Life-threatening")),
    ("hospitalisation", _("Hospitalisation or its prolongation")),
    ("disability", _("Persistent or significant disability")),
    ("congenital_anomaly", _("Congenital anomaly")),
    ("other_important", _("Other important medical event")),
)
AE_RELATIONS: Final[Vocabulary] = (
    ("not_related", _("Not related")),
    ("unlikely", _("Unlikely")),
    ("possible", _("Possible")),
    ("probable", _("Probable")),
    ("certain", _("Certain")),
)
AE_ACTIONS: Final[Vocabulary] = (
    ("none", _("Ketamine not changed")),
    ("dose_reduced", _("Ketamine dose reduced")),
    ("interrupted", _("Ketamine interrupted")),
    ("withdrawn", _("Ketamine withdrawn")),
    ("treated", _("Treatment given for the effect")),
    ("not_applicable", _("Not applicable")),
)
AE_OUTCOMES: Final[Vocabulary] = (
    ("recovering", _("Recovering")),
    ("recovered", _("Recovered")),
    ("recovered_sequelae", _("Recovered with sequelae")),
    ("not_recovered", _("Not recovered")),
    ("fatal", _("Fatal")),
    ("unknown", _("Unknown")),
)
# Outcomes that end the effect: only these take a resolution date, the others stay open and
# are asked about at the next call.
AE_RESOLVED_OUTCOMES: Final[tuple[str, ...]] = ("recovered", "recovered_sequelae", "fatal")
AE_OPEN_OUTCOMES: Final[tuple[str, ...]] = ("recovering", "not_recovered")
# Why a safety alert was raised.
SAFETY_ALERT_REASONS: Final[Vocabulary] = (
    ("serious", _("Serious adverse effect")),
    ("severe", _("Severe adverse effect")),
)

ROUTES: Final[Vocabulary] = (
    ("iv", _("Intravenous")),
    ("sc", _("Subcutaneous")),
    ("oral", _("Oral")),
    ("intranasal", _("Intranasal")),
)
DOSE_UNITS: Final[Vocabulary] = (("mg", _("mg")), ("mg_per_kg", _("mg/kg")))

PATIENT_STATUSES: Final[Vocabulary] = (
    ("active", _("In follow-up")),
    ("completed", _("Follow-up completed")),
    ("withdrawn", _("Withdrawn by patient")),
    ("lost", _("Lost to follow-up")),
    ("deceased", _("Deceased")),
)
CLOSED_PATIENT_STATUSES: Final[frozenset[str]] = frozenset({"withdrawn", "lost", "deceased"})

CALL_STATUSES: Final[Vocabulary] = (
    ("due", _("Due")),
    ("reached", _("Reached")),
    ("unreachable", _("Unreachable")),
    ("refused", _("Refused")),
    ("withdrawn", _("Patient withdrew")),
    ("closed", _("Closed (patient no longer followed)")),
)
OPEN_CALL_STATUSES: Final[frozenset[str]] = frozenset({"due"})

ATTEMPT_OUTCOMES: Final[Vocabulary] = (
    ("reached", _("Reached")),
    ("no_answer", _("No answer")),
    ("voicemail", _("Voicemail")),
    ("wrong_number", _("Wrong number")),
    ("refused", _("Refused")),
    ("withdrew", _("Patient withdrew")),
)
# Attempts that failed to reach the patient: enough of them on one call mark it missed.
FAILED_ATTEMPT_OUTCOMES: Final[frozenset[str]] = frozenset(
    {"no_answer", "voicemail", "wrong_number"}
)
# The status of a call given up after too many failed attempts (shown as missed).
MISSED_CALL_STATUS: Final = "unreachable"

MISSING_REASONS: Final[Vocabulary] = (
    ("not_asked", _("Not asked")),
    ("refused", _("Patient refused")),
    ("unreachable", _("Patient unreachable")),
    ("not_applicable", _("Not applicable")),
    ("lost", _("Lost")),
)

# Why a completed call is shown to the clinicians.
REVIEW_REASONS: Final[Vocabulary] = (
    ("depression", _("HADS depression 11 or more (definite)")),
    ("pain_rise", _("Mean pain 2 or more points above baseline")),
)

ROLES: Final[Vocabulary] = (
    ("nurse", _("Research nurse")),
    ("clinician", _("Clinician")),
    ("statistician", _("Statistician")),
    ("data_manager", _("Data manager")),
)
