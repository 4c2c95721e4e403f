"""The exported variables, described once: name, label, type, units, allowed values, instrument.

Every layout lists its variables from here; the same description gives the variable and value
labels of the Stata and SPSS files, the typed columns of every format and the data dictionary.
Names are stable (at most 31 characters, for Stata) and never reused with another meaning.
Free text (status reasons, notes, descriptions of "other", drug names) is never exported: it may
hold identifiers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final

from cohort import vocabulary as voc
from followup.instruments import items as item_labels
from followup.instruments import madrs, sf12, sf_mpq
from trials import definitions

_ = voc._  # marks a label for the French catalogue (the dictionary's ``label_fr``)

# Kinds of variables: how they are typed in a frame and coded in Stata and SPSS.
TEXT, CODE, INTEGER, NUMBER, DATE, FLAG = "text", "code", "integer", "number", "date", "flag"
KINDS: Final = (TEXT, CODE, INTEGER, NUMBER, DATE, FLAG)
FLAG_LABELS: Final[dict[int, str]] = {0: "No", 1: "Yes"}


@dataclass(frozen=True)
class Variable:
    """One exported variable.

    ``codes`` lists the allowed codes of a CODE variable (stored and exported as text, coded
    1..k with value labels in Stata and SPSS); ``low`` and ``high`` bound a numeric one.
    """

    name: str
    label: str
    kind: str
    units: str = ""
    codes: voc.Vocabulary = ()
    low: float | None = None
    high: float | None = None
    instrument: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if len(self.name) > 31:
            raise ValueError(f"{self.name}: names have at most 31 characters")
        if (self.kind == CODE) != bool(self.codes):
            raise ValueError(f"{self.name}: codes go with the code kind only")

    def allowed(self) -> str:
        """Return the allowed values in words, for the dictionary."""
        if self.kind == CODE:
            return "; ".join(
                f"{code} = {text} [{n}]" for n, (code, text) in enumerate(self.codes, start=1)
            )
        if self.kind == FLAG:
            return "0 = No; 1 = Yes"
        if self.kind == DATE:
            return "YYYY-MM-DD"
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{self.low:g} or more"
        return ""

    def value_labels(self) -> dict[int, str]:
        """Return the Stata and SPSS value labels (codes become 1..k, flags stay 0/1)."""
        if self.kind == CODE:
            return {n: text for n, (_, text) in enumerate(self.codes, start=1)}
        if self.kind == FLAG:
            return dict(FLAG_LABELS)
        return {}

    def at(self, timepoint: str) -> Variable:
        """Return this variable measured at one timepoint of the wide layout (``nprs_mean_m3``)."""
        return replace(
            self,
            name=f"{self.name}_{timepoint.lower()}",
            label=f"{self.label}, {voc.label(voc.TIMEPOINTS, timepoint)}",
        )


def why_missing(variable: Variable) -> Variable:
    """Return the variable giving why ``variable`` is missing (``hads_d_missing_reason``)."""
    return Variable(
        f"{variable.name}_missing_reason",
        f"Why missing: {variable.label}",
        CODE,
        codes=voc.MISSING_REASONS,
        instrument=variable.instrument,
    )


def _item_variables() -> tuple[Variable, ...]:
    hads = tuple(
        Variable(
            item.field,
            f"{item.label} (keyed score)",
            INTEGER,
            low=0,
            high=3,
            instrument="HADS item",
        )
        for item in item_labels.HADS
    )
    sf = tuple(
        Variable(
            item.field,
            f"{item.label} (code as numbered on the form)",
            INTEGER,
            low=1,
            high=sf12.RANGES[item.field.removeprefix("sf12_").upper()],
            instrument="SF-12 item",
        )
        for item in item_labels.SF12
    )
    # Each item answer is followed by why it is missing.
    return tuple(v for item in hads + sf for v in (item, why_missing(item)))


V = Variable
STUDY_ID = V("study_id", "Study code (pseudonymous)", TEXT)
SITE = V("site", "Site code", TEXT)
PATIENT_CORE: Final = (
    STUDY_ID,
    SITE,
    V("sex", "Sex", CODE, codes=voc.SEXES),
    V("age", "Age at inclusion", INTEGER, units="years", low=18, high=120),
    V("etiology", "Pain etiology", CODE, codes=voc.ETIOLOGIES),
    V("status", "Patient status", CODE, codes=voc.PATIENT_STATUSES),
)
# Stata names a flag's value labels after the variable, and such names stop at 31 characters.
NAME_MAX: Final = 31
SHORT_CODES: Final[dict[str, str]] = {"neurological_or_psychological": "neuro_psych"}
COMORBIDITY_FLAGS: Final = tuple(
    V(f"cm_{SHORT_CODES.get(code, code)}", f"Medical history: {text}", FLAG)
    for code, text in voc.COMORBIDITIES
)
ENROLMENT: Final = (
    V("status_date", "Date of the patient status", DATE),
    V("inclusion_date", "Inclusion date", DATE),
    V("consent_date", "Date the non-opposition form was signed", DATE),
    V("weight_kg", "Weight at inclusion", NUMBER, units="kg", low=20, high=350),
    V("pain_duration_months", "Pain duration at inclusion", INTEGER, units="months", low=0),
    V("ketamine_naive", "Ketamine naive at inclusion", FLAG),
    V("dn4", "DN4 score", INTEGER, low=0, high=10, instrument="DN4"),
    V("dn4_missing_reason", "Why DN4 is missing", CODE, codes=voc.MISSING_REASONS),
    V("paroxysms_per_day", "Pain paroxysms per day at inclusion", INTEGER, low=0, high=500),
    *COMORBIDITY_FLAGS,
    V("first_admin_date", "Date of the first ketamine administration", DATE),
)
NPRS_MEAN = V("nprs_mean", "Mean pain intensity (NPRS)", INTEGER, low=0, high=10, instrument="NPRS")
NPRS_MAX = V(
    "nprs_max", "Maximal pain intensity (NPRS)", INTEGER, low=0, high=10, instrument="NPRS"
)
HADS_A = V("hads_a", "HADS anxiety subscore", INTEGER, low=0, high=21, instrument="HADS")
HADS_D = V("hads_d", "HADS depression subscore", INTEGER, low=0, high=21, instrument="HADS")
SF12_PCS = V("sf12_pcs", "SF-12 physical component summary", NUMBER, instrument="SF-12")
SF12_MCS = V("sf12_mcs", "SF-12 mental component summary", NUMBER, instrument="SF-12")
CALL_STATUS = V("call_status", "Status of the call", CODE, codes=voc.CALL_STATUSES)
CALL_DATE = V("call_date", "Date of the call (baseline: inclusion)", DATE)
TIMEPOINT = V("timepoint", "Timepoint", CODE, codes=voc.TIMEPOINTS)
DOSE = V(
    "cumulative_dose_mg",
    "Cumulative ketamine dose up to the call (target date when not made)",
    NUMBER,
    units="mg",
    low=0,
)
IV_ROUTE = V("iv_route", "First ketamine administration intravenous", FLAG)


def _reason(instrument: str) -> Variable:
    return V(
        f"{instrument.lower().replace('-', '')}_missing_reason",
        f"Why the {instrument} is missing",
        CODE,
        codes=voc.MISSING_REASONS,
        instrument=instrument,
    )


SCORES: Final = (NPRS_MEAN, NPRS_MAX, HADS_A, HADS_D, SF12_PCS, SF12_MCS)
# Why each score is missing at one row; at baseline (``_bl``) in the wide and baseline layouts.
SCORE_REASONS: Final = tuple(why_missing(score) for score in SCORES)
BASELINE_REASONS: Final = tuple(reason.at("BL") for reason in SCORE_REASONS)
LONG: Final = (
    *PATIENT_CORE,
    TIMEPOINT,
    V("month", "Months since the first administration", NUMBER, units="months", low=0, high=12),
    CALL_STATUS,
    CALL_DATE,
    V("target_date", "Target date of the call", DATE),
    NPRS_MEAN,
    NPRS_MAX,
    _reason("NPRS"),
    *SCORE_REASONS[0:2],
    HADS_A,
    HADS_D,
    _reason("HADS"),
    *SCORE_REASONS[2:4],
    SF12_PCS,
    SF12_MCS,
    _reason("SF-12"),
    *SCORE_REASONS[4:6],
    DOSE,
    IV_ROUTE,
    V(
        "baseline_nprs",
        "Mean pain intensity at baseline",
        INTEGER,
        low=0,
        high=10,
        instrument="NPRS",
    ),
    V("baseline_hads_a", "HADS anxiety at baseline", INTEGER, low=0, high=21, instrument="HADS"),
    V("baseline_hads_d", "HADS depression at baseline", INTEGER, low=0, high=21, instrument="HADS"),
    BASELINE_REASONS[0],
    *BASELINE_REASONS[2:4],
)
ITEMS: Final = _item_variables()
# The long layout with items holds everything the import needs (with the administrations).
LONG_ITEMS: Final = (*LONG, *ENROLMENT, *ITEMS)

WIDE_MEASURES: Final = (
    CALL_STATUS,
    *(v for score, reason in zip(SCORES, SCORE_REASONS, strict=True) for v in (score, reason)),
    DOSE,
)
WIDE: Final = (
    *PATIENT_CORE,
    IV_ROUTE,
    *(measure.at(tp) for tp in voc.codes(voc.TIMEPOINTS) for measure in WIDE_MEASURES),
)

DRUG_FLAGS: Final = tuple(
    V(f"drug_{code}", f"Concomitant drug at baseline: {text}", FLAG)
    for code, text in voc.DRUG_CLASSES
)
NON_DRUG_FLAGS: Final = tuple(
    V(f"nondrug_{code}", f"Non-drug treatment at baseline: {text}", FLAG)
    for code, text in voc.NON_DRUG_TREATMENTS
)
BASELINE: Final = (
    *PATIENT_CORE,
    *ENROLMENT,
    V("first_route", "Route of the first ketamine administration", CODE, codes=voc.ROUTES),
    IV_ROUTE,
    V(
        "baseline_nprs",
        "Mean pain intensity at baseline",
        INTEGER,
        low=0,
        high=10,
        instrument="NPRS",
    ),
    V("baseline_nprs_max", "Maximal pain at baseline", INTEGER, low=0, high=10, instrument="NPRS"),
    V("baseline_hads_a", "HADS anxiety at baseline", INTEGER, low=0, high=21, instrument="HADS"),
    V("baseline_hads_d", "HADS depression at baseline", INTEGER, low=0, high=21, instrument="HADS"),
    V("baseline_sf12_pcs", "SF-12 physical summary at baseline", NUMBER, instrument="SF-12"),
    V("baseline_sf12_mcs", "SF-12 mental summary at baseline", NUMBER, instrument="SF-12"),
    *BASELINE_REASONS,
    *DRUG_FLAGS,
    *NON_DRUG_FLAGS,
)

CALL_KEY: Final = (STUDY_ID, SITE, TIMEPOINT, CALL_DATE)
ADVERSE_EVENTS: Final = (
    *CALL_KEY,
    V("ae_type", "Adverse effect", CODE, codes=voc.ADVERSE_EFFECTS),
    V("severity", "Severity", CODE, codes=voc.SEVERITIES),
    V("serious", "Serious adverse event", FLAG),
    V("start_date", "Start date of the adverse effect", DATE),
)
TREATMENTS: Final = (
    *CALL_KEY,
    V("kind", "Kind of treatment", CODE, codes=(("drug", "Drug"), ("non_drug", "Non-drug"))),
    V("drug_class", "Drug class", CODE, codes=voc.DRUG_CLASSES),
    V("non_drug", "Non-drug treatment", CODE, codes=voc.NON_DRUG_TREATMENTS),
)
ADMINISTRATIONS: Final = (
    STUDY_ID,
    SITE,
    V("admin_date", "Date of the administration (first day)", DATE),
    V("route", "Route", CODE, codes=voc.ROUTES),
    V("dose_unit", "Unit of the dose as entered", CODE, codes=voc.DOSE_UNITS),
    V("dose_value", "Daily dose as entered", NUMBER, low=0),
    V("weight_kg", "Weight used for the conversion", NUMBER, units="kg", low=20, high=350),
    V("dose_mg", "Daily dose", NUMBER, units="mg", low=0, high=5000),
    V("days", "Number of consecutive days", INTEGER, units="days", low=1, high=60),
    V("total_mg", "Total dose of the administration", NUMBER, units="mg", low=0),
    V("infusion_minutes", "Infusion length", INTEGER, units="minutes", low=1, high=1440),
)


# The rated assessments of a study's visits (the second study): one row per patient and visit
# rated. Their visits are every study's visits rating the instrument, in the studies' order.
def _rated_visits(name: str) -> voc.Vocabulary:
    labels = definitions.labels()
    seen: dict[str, str] = {}
    for key in definitions.KEYS:
        for visit in definitions.load(key).visits:
            if name in visit.instruments:
                seen.setdefault(visit.code, labels.get(visit.code, visit.label))
    return tuple(seen.items())


def _visit_key(name: str) -> tuple[Variable, ...]:
    return (
        STUDY_ID,
        SITE,
        V("visit", _("Visit"), CODE, codes=_rated_visits(name)),
        V("assessed_on", _("Date of the assessment"), DATE),
    )


MADRS_TOTAL = V(
    "madrs_total", _("MADRS total"), INTEGER, low=0, high=madrs.TOTAL_MAX, instrument="MADRS"
)
MADRS: Final = (
    *_visit_key("MADRS"),
    *(
        V(item.field, item.label, INTEGER, low=0, high=6, instrument="MADRS item")
        for item in item_labels.MADRS
    ),
    MADRS_TOTAL,
    V(
        "madrs_total_bl",
        _("MADRS total at baseline"),
        INTEGER,
        low=0,
        high=madrs.TOTAL_MAX,
        instrument="MADRS",
    ),
    V(
        "madrs_change_pct",
        _("Change of the MADRS total from baseline"),
        NUMBER,
        units="%",
        instrument="MADRS",
    ),
    V("madrs_response", _("Response: MADRS total down by half or more from baseline"), FLAG),
    V("madrs_remission", _("Remission: MADRS total 10 or less"), FLAG),
)
SF_MPQ: Final = (
    *_visit_key("SFMPQ"),
    *(
        V(
            item.field,
            item.label,
            INTEGER,
            low=item.first_code,
            high=item.first_code + item.options - 1,
            units="mm" if item.field == sf_mpq.VAS_FIELD else "",
            instrument="SF-MPQ item",
        )
        for item in item_labels.SF_MPQ
    ),
    V(
        "sf_mpq_sensory",
        _("SF-MPQ sensory score (descriptors 1-11)"),
        INTEGER,
        low=0,
        high=sf_mpq.SENSORY_MAX,
        instrument="SF-MPQ",
    ),
    V(
        "sf_mpq_affective",
        _("SF-MPQ affective score (descriptors 12-15)"),
        INTEGER,
        low=0,
        high=sf_mpq.AFFECTIVE_MAX,
        instrument="SF-MPQ",
    ),
    V(
        "sf_mpq_total",
        _("SF-MPQ total score"),
        INTEGER,
        low=0,
        high=sf_mpq.TOTAL_MAX,
        instrument="SF-MPQ",
    ),
)

LAYOUTS: Final[dict[str, tuple[Variable, ...]]] = {
    "long": LONG,
    "wide": WIDE,
    "baseline": BASELINE,
    "adverse_events": ADVERSE_EVENTS,
    "treatments": TREATMENTS,
    "administrations": ADMINISTRATIONS,
    "madrs": MADRS,
    "sf_mpq": SF_MPQ,
}
LAYOUT_LABELS: Final[dict[str, str]] = {
    "long": _("Long: one row per patient and timepoint"),
    "wide": _("Wide: one row per patient, measures suffixed by timepoint"),
    "baseline": _("Baseline: one row per patient"),
    "adverse_events": _("Adverse events: one row per event"),
    "treatments": _("Concomitant treatments: one row per treatment per call"),
    "administrations": _("Ketamine administrations: one row per administration"),
    "madrs": _("MADRS: one row per patient and visit rated"),
    "sf_mpq": _("SF-MPQ: one row per patient and visit rated"),
}
# The first study's layouts, read from its follow-up calls (its analysis plan's data).
FOLLOW_UP_PLAN: Final = "ketamine-followup/analysis-report"
FOLLOW_UP_LAYOUTS: Final = (
    "long",
    "wide",
    "baseline",
    "adverse_events",
    "treatments",
    "administrations",
)
# A rated layout goes with every study whose definition rates its instrument at some visit.
RATED_LAYOUTS: Final[dict[str, str]] = {"madrs": "MADRS", "sf_mpq": "SFMPQ"}


def layouts_of(protocol: definitions.StudyDefinition) -> tuple[str, ...]:
    """Return the layouts a study's data is exported in, in the order of ``LAYOUTS``."""
    names = set(FOLLOW_UP_LAYOUTS) if protocol.analysis_plan == FOLLOW_UP_PLAN else set()
    rated = protocol.instruments()
    names |= {layout for layout, name in RATED_LAYOUTS.items() if name in rated}
    return tuple(layout for layout in LAYOUTS if layout in names)


def definitions_of(layout: str) -> tuple[str, ...]:
    """Return the keys of the study definitions whose data a layout holds."""
    return tuple(key for key in definitions.KEYS if layout in layouts_of(definitions.load(key)))


def variables_of(layout: str, *, items: bool = False) -> tuple[Variable, ...]:
    """Return the variables of a layout, in column order (``items`` for the long layout)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if items:
        if layout != "long":
            raise ValueError("item answers come with the long layout only")
        return LONG_ITEMS
    return LAYOUTS[layout]


def names(variables: Iterable[Variable]) -> list[str]:
    """Return the names of some variables, in order."""
    return [variable.name for variable in variables]


def every_variable() -> list[tuple[str, Variable]]:
    """Return (layout, variable) for every exported variable, long with items counted once."""
    rows = [("long", variable) for variable in LONG_ITEMS]
    rows += [(layout, v) for layout, vs in LAYOUTS.items() if layout != "long" for v in vs]
    return rows
