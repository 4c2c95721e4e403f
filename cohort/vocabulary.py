"""Codes shared by the data model, the demo generator, the analyses and the exports.

Pure Python, no Django: the synthetic cohort generator and the statistics import it without a
configured project. Each vocabulary is a tuple of ``(code, English label)`` pairs; the code is what
is stored and exported, and never changes once data exist. Models build their choices from these.
"""

from __future__ import annotations

from typing import Final

Vocabulary = tuple[tuple[str, str], ...]


def codes(vocabulary: Vocabulary) -> tuple[str, ...]:
    """Return the codes of a vocabulary, in order."""
    return tuple(code for code, _ in vocabulary)


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
    ("BL", "Baseline (in hospital)"),
    ("W1", "Week 1"),
    *((f"M{k}", f"Month {k}") for k in range(1, 13)),
)
FOLLOWUP_TIMEPOINTS: Final[tuple[str, ...]] = codes(TIMEPOINTS)[1:]

SEXES: Final[Vocabulary] = (("F", "Female"), ("M", "Male"))

ETIOLOGIES: Final[Vocabulary] = (
    ("fibromyalgia", "Fibromyalgia"),
    ("peripheral_neuropathic", "Peripheral neuropathic pain"),
    ("central_neuropathic", "Central neuropathic pain"),
    ("crps", "Complex regional pain syndrome"),
    (
        "back_pain_sciatica_neuralgia_pelvic_osteoarthritis",
        "Back pain, sciatica, cruralgia, neuralgia, pelvic pain, osteoarthritis",
    ),
    ("rheumatoid_arthritis_spondylitis", "Rheumatoid arthritis, spondylitis"),
    ("headache", "Headache"),
    ("other", "Other"),
)
# DN4 is a neuropathic pain screen: not asked for these etiologies.
DN4_NOT_ASKED_FOR: Final[frozenset[str]] = frozenset({"fibromyalgia"})

COMORBIDITIES: Final[Vocabulary] = (
    ("neurological_or_psychological", "Neurological or psychological disorder"),
    ("gastrointestinal", "Gastrointestinal tract disease"),
    ("heart", "Heart disease"),
    ("migraine", "Migraine"),
    ("pulmonary", "Pulmonary disorder"),
    ("thyroid", "Thyroid disorder"),
    ("type1_diabetes", "Type 1 diabetes"),
    ("cancer", "Cancer"),
    ("ent", "Ear, nose, and throat disorder"),
    ("psoriasis", "Psoriasis"),
    ("liver", "Liver disease"),
    ("peripheral_vessel", "Peripheral vessel disease"),
    ("osteoporosis", "Osteoporosis"),
    ("prostate", "Prostate disorder"),
    ("chronic_kidney", "Chronic kidney disease"),
)

DRUG_CLASSES: Final[Vocabulary] = (
    ("paracetamol_or_nsaid", "Paracetamol and/or NSAIDs"),
    ("step2_opioid_or_nefopam", "Step 2 opioids, nefopam"),
    ("step3_opioid", "Step 3 opioids"),
    ("antidepressant", "Antidepressants"),
    ("antiepileptic", "Antiepileptics"),
    ("adjuvant", "Adjuvants"),
    ("hypnotic_or_sedative", "Hypnotics and/or sedatives"),
    ("anxiolytic", "Anxiolytics"),
    ("antipsychotic", "Antipsychotics"),
    ("other", "Others"),
)

NON_DRUG_TREATMENTS: Final[Vocabulary] = (
    ("kinesiotherapy", "Kinesiotherapy / physiotherapy"),
    ("physical_activity", "Mild physical activity"),
    ("psychotherapy", "Psychotherapy"),
    ("relaxation_hypnosis", "Relaxation, sophrology or hypnosis"),
    ("tens", "Transcutaneous electrical nerve stimulation"),
    ("acupuncture", "Acupuncture"),
    ("other", "Other"),
)

ADVERSE_EFFECTS: Final[Vocabulary] = (
    ("fatigue", "Fatigue"),
    ("nausea", "Nausea"),
    ("headache", "Headache"),
    ("drowsiness", "Drowsiness"),
    ("dizziness", "Dizziness"),
    ("dissociation_hallucination", "Dissociation or hallucinations"),
    ("vomiting", "Vomiting"),
    ("blurred_vision", "Blurred vision"),
    ("nightmares", "Nightmares"),
    ("other", "Other"),
)
SEVERITIES: Final[Vocabulary] = (("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe"))

ROUTES: Final[Vocabulary] = (
    ("iv", "Intravenous"),
    ("sc", "Subcutaneous"),
    ("oral", "Oral"),
    ("intranasal", "Intranasal"),
)
DOSE_UNITS: Final[Vocabulary] = (("mg", "mg"), ("mg_per_kg", "mg/kg"))

PATIENT_STATUSES: Final[Vocabulary] = (
    ("active", "In follow-up"),
    ("completed", "Follow-up completed"),
    ("withdrawn", "Withdrawn by patient"),
    ("lost", "Lost to follow-up"),
    ("deceased", "Deceased"),
)
CLOSED_PATIENT_STATUSES: Final[frozenset[str]] = frozenset({"withdrawn", "lost", "deceased"})

CALL_STATUSES: Final[Vocabulary] = (
    ("due", "Due"),
    ("reached", "Reached"),
    ("unreachable", "Unreachable"),
    ("refused", "Refused"),
    ("withdrawn", "Patient withdrew"),
    ("closed", "Closed (patient no longer followed)"),
)
OPEN_CALL_STATUSES: Final[frozenset[str]] = frozenset({"due"})

ATTEMPT_OUTCOMES: Final[Vocabulary] = (
    ("reached", "Reached"),
    ("no_answer", "No answer"),
    ("voicemail", "Voicemail"),
    ("wrong_number", "Wrong number"),
    ("refused", "Refused"),
    ("withdrew", "Patient withdrew"),
)

MISSING_REASONS: Final[Vocabulary] = (
    ("not_asked", "Not asked"),
    ("refused", "Patient refused"),
    ("unreachable", "Patient unreachable"),
    ("not_applicable", "Not applicable"),
    ("lost", "Lost"),
)

ROLES: Final[Vocabulary] = (
    ("nurse", "Research nurse"),
    ("clinician", "Clinician"),
    ("statistician", "Statistician"),
    ("data_manager", "Data manager"),
)
