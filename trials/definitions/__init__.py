"""Study definitions as data: one JSON file per study, read and checked into frozen dataclasses.

Pure Python, no Django: the schedule (``followup.schedule``), the cohort's ``Study`` model and the
documentation read the same definitions. A definition says what a study is: its visits (the date
each is counted from, the offset, the window around the target, in hospital or by phone, and the
instruments collected there), its dosing regimen (free administrations, or a fixed course of
mg/kg infusions), the review and safety rules it uses (by name) and the key of its analysis plan.

Adding a study is adding its file beside these and its key to ``KEYS``; ``parse`` refuses a
definition it cannot use with a ``DefinitionError`` naming the study, the visit and the field.
``docs/studies.md`` explains every field with the two studies here as examples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# The studies this deployment knows, in the order their timepoints are numbered (``timepoints``):
# the first is the study the data of a single-study deployment belongs to.
KEYS: tuple[str, ...] = ("voute2023", "lan2022")
FIRST_STUDY = KEYS[0]

# What a definition may name. Instruments are those of ``followup.instruments``; review rules
# are the codes of ``cohort.vocabulary.REVIEW_REASONS``; the safety rule is the safety app's.
INSTRUMENTS: tuple[str, ...] = ("NPRS", "HADS", "SF12", "DN4", "MADRS", "SFMPQ")
REVIEW_RULES: tuple[str, ...] = ("depression", "pain_rise")
SAFETY_RULES: tuple[str, ...] = ("serious_or_severe_effect",)
ANALYSIS_PLANS: tuple[str, ...] = ("ketamine-followup/analysis-report", "lan2022-moderation")
ROUTES: tuple[str, ...] = ("iv", "sc", "im", "oral", "intranasal")
# What a patient's baseline record holds: the chronic pain of the patient file (etiology, pain
# duration, DN4, ...) or the depression study's own baseline (``cohort.DepressionBaseline``).
BASELINES: tuple[str, ...] = ("chronic_pain", "depression")
BASELINE = "BL"
# Visit codes are stored in a column of three characters (``FollowUpCall.timepoint``).
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,2}$")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class DefinitionError(ValueError):
    """A study definition that cannot be used: the message names the study and the field."""


class Anchor(StrEnum):
    """The date a visit's target is counted from."""

    INCLUSION = "inclusion"
    FIRST_ADMINISTRATION = "first_administration"


class Mode(StrEnum):
    """How a visit is done."""

    HOSPITAL = "hospital"
    PHONE = "phone"


class DosingKind(StrEnum):
    """How ketamine is given: as the clinician decides, or in a fixed course."""

    FREE = "free"
    FIXED_COURSE = "fixed_course"


@dataclass(frozen=True)
class VisitDefinition:
    """One visit of a study: its target is the anchor's date + ``months`` + ``days``; the window
    runs from ``before`` days before the target to ``after`` days after it, both ends included."""

    code: str
    label: str
    anchor: Anchor
    before: int
    after: int
    mode: Mode
    days: int = 0
    months: int = 0
    instruments: tuple[str, ...] = ()


@dataclass(frozen=True)
class DosingRegimen:
    """The study's ketamine: free administrations, or a fixed course (``administrations`` doses
    of ``dose_mg_per_kg`` over ``minutes``, ``per_week`` a week for ``weeks`` weeks, on ``days``
    counted from the first, day 0)."""

    kind: DosingKind
    dose_mg_per_kg: Decimal | None = None
    route: str = ""
    minutes: int | None = None
    administrations: int | None = None
    per_week: int | None = None
    weeks: int | None = None
    days: tuple[int, ...] = ()

    @property
    def is_fixed(self) -> bool:
        """Say whether the regimen is a fixed course."""
        return self.kind is DosingKind.FIXED_COURSE

    def describe(self) -> str:
        """Return the regimen in one line of plain English (e.g. for the administration site)."""
        if not self.is_fixed:
            return "free administrations"
        return (
            f"{self.administrations} x {self.dose_mg_per_kg} mg/kg {self.route.upper()} over "
            f"{self.minutes} min, {self.per_week} per week for {self.weeks} weeks"
        )


@dataclass(frozen=True)
class Eligibility:
    """Who may be enrolled, beyond what every study asks (a signed non-opposition form)."""

    min_age: int = 18
    max_age: int | None = None


@dataclass(frozen=True)
class StudyDefinition:
    """A study: its visits in order, its dosing, its rules and its analysis plan."""

    key: str
    code: str
    title: str
    reference: str
    visits: tuple[VisitDefinition, ...]
    dosing: DosingRegimen
    review_rules: tuple[str, ...]
    safety_rules: tuple[str, ...]
    analysis_plan: str
    baseline: str = "chronic_pain"
    eligibility: Eligibility = Eligibility()

    @property
    def collects_pain_history(self) -> bool:
        """Say whether the patient file's chronic pain fields (etiology, duration) are collected."""
        return self.baseline == "chronic_pain"

    @property
    def collects_depression_baseline(self) -> bool:
        """Say whether each patient has a depression baseline (pain group, medications, ...)."""
        return self.baseline == "depression"

    @property
    def calls_by_phone(self) -> bool:
        """Say whether some visit is a phone call (preferred call times, call attempts)."""
        return any(v.mode == "phone" for v in self.visits)

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the visits' codes, in order."""
        return tuple(v.code for v in self.visits)

    def visit(self, code: str) -> VisitDefinition:
        """Return the visit of a code, or raise ValueError."""
        for candidate in self.visits:
            if candidate.code == code:
                return candidate
        raise ValueError(f"study {self.key}: unknown visit {code!r}")

    def instruments(self) -> tuple[str, ...]:
        """Return every instrument collected at some visit, in the order of ``INSTRUMENTS``."""
        used = {name for v in self.visits for name in v.instruments}
        return tuple(name for name in INSTRUMENTS if name in used)


_STUDY_FIELDS = {
    "key",
    "code",
    "title",
    "reference",
    "visits",
    "dosing",
    "review_rules",
    "safety_rules",
    "analysis_plan",
    "baseline",
}
_VISIT_FIELDS = {"code", "label", "anchor", "days", "months", "before", "after", "mode"}
_DOSING_FIELDS = {"kind", "dose_mg_per_kg", "route", "minutes", "administrations", "per_week"}


def parse(data: Mapping[str, Any]) -> StudyDefinition:
    """Return the definition a mapping (a parsed JSON file) describes, or raise DefinitionError."""
    if not isinstance(data, Mapping):
        raise DefinitionError("a study definition must be an object")
    key = data.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise DefinitionError(f"study key {key!r}: lower-case letters, digits, underscores")
    where = f"study {key}"
    _fields(where, data, required=_STUDY_FIELDS, optional={"eligibility"})
    code, title = _text(where, data, "code"), _text(where, data, "title")
    visits = _visits(where, data["visits"])
    return StudyDefinition(
        key=key,
        code=code,
        title=title,
        reference=_text(where, data, "reference"),
        visits=visits,
        dosing=_dosing(where, data["dosing"]),
        review_rules=_names(where, data, "review_rules", REVIEW_RULES),
        safety_rules=_names(where, data, "safety_rules", SAFETY_RULES),
        analysis_plan=_choice(where, data, "analysis_plan", ANALYSIS_PLANS),
        baseline=_choice(where, data, "baseline", BASELINES),
        eligibility=_eligibility(where, data.get("eligibility", {})),
    )


def _eligibility(where: str, data: Any) -> Eligibility:
    """Return the eligibility of a definition: ``min_age`` (default 18), ``max_age`` if any."""
    if not isinstance(data, Mapping):
        raise DefinitionError(f"{where}: eligibility must be an object")
    at = f"{where}, eligibility"
    _fields(at, data, required=set(), optional={"min_age", "max_age"})
    min_age = _count(at, data, "min_age") if "min_age" in data else Eligibility.min_age
    max_age = _count(at, data, "max_age") if "max_age" in data else None
    if min_age > 120 or (max_age is not None and not min_age <= max_age <= 120):
        raise DefinitionError(f"{at}: ages from 0 to 120, the minimum first")
    return Eligibility(min_age=min_age, max_age=max_age)


def _fields(where: str, data: Mapping[str, Any], *, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - set(data))
    if missing:
        raise DefinitionError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise DefinitionError(f"{where}: unknown field {', '.join(unknown)}")


def _text(where: str, data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{where}: {name} must be a non-empty text")
    return value


def _count(where: str, data: Mapping[str, Any], name: str, *, low: int = 0) -> int:
    value = data.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DefinitionError(f"{where}: {name} must be a whole number, {low} or more")
    return value


def _choice(where: str, data: Mapping[str, Any], name: str, known: tuple[str, ...]) -> str:
    value = data.get(name)
    if value not in known:
        raise DefinitionError(f"{where}: unknown {name} {value!r} (known: {', '.join(known)})")
    return str(value)


def _names(
    where: str, data: Mapping[str, Any], name: str, known: tuple[str, ...]
) -> tuple[str, ...]:
    values = data.get(name)
    if not isinstance(values, list):
        raise DefinitionError(f"{where}: {name} must be a list")
    for value in values:
        if value not in known:
            raise DefinitionError(f"{where}: unknown {name} entry {value!r}")
    if len(set(values)) != len(values):
        raise DefinitionError(f"{where}: {name} names an entry twice")
    return tuple(values)


def _visit(where: str, data: Any) -> VisitDefinition:
    if not isinstance(data, Mapping):
        raise DefinitionError(f"{where}: each visit must be an object")
    code = data.get("code")
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise DefinitionError(f"{where}: visit code {code!r}: a capital letter, then up to 2 more")
    at = f"{where}, visit {code}"
    _fields(
        at,
        data,
        required={"code", "label", "anchor", "before", "after", "mode"},
        optional=(_VISIT_FIELDS | {"instruments"}),
    )
    anchor = _choice(at, data, "anchor", tuple(Anchor))
    mode = _choice(at, data, "mode", tuple(Mode))
    instruments = _names(
        at, {"instruments": data.get("instruments", [])}, "instruments", INSTRUMENTS
    )
    return VisitDefinition(
        code=code,
        label=_text(at, data, "label"),
        anchor=Anchor(anchor),
        before=_count(at, data, "before"),
        after=_count(at, data, "after"),
        mode=Mode(mode),
        days=_count(at, data, "days"),
        months=_count(at, data, "months"),
        instruments=instruments,
    )


def _visits(where: str, data: Any) -> tuple[VisitDefinition, ...]:
    if not isinstance(data, list) or not data:
        raise DefinitionError(f"{where}: visits must be a non-empty list")
    visits = tuple(_visit(where, item) for item in data)
    codes = [v.code for v in visits]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise DefinitionError(f"{where}: visit code used twice: {', '.join(twice)}")
    first = visits[0]
    if (first.code, first.anchor, first.days, first.months) != (
        BASELINE,
        Anchor.INCLUSION,
        0,
        0,
    ) or (first.before, first.after) != (0, 0):
        raise DefinitionError(
            f"{where}: the first visit must be {BASELINE}, on the inclusion date, no window"
        )
    later = visits[1:]
    for v in later:
        if v.anchor is not Anchor.INCLUSION:
            continue
        raise DefinitionError(f"{where}, visit {v.code}: only {BASELINE} counts from inclusion")
    offsets = [(v.months, v.days) for v in later]
    if offsets != sorted(offsets) or len(set(offsets)) != len(offsets):
        raise DefinitionError(f"{where}: the follow-up visits must come in order of their target")
    return visits


def _dosing(where: str, data: Any) -> DosingRegimen:
    at = f"{where}, dosing"
    if not isinstance(data, Mapping):
        raise DefinitionError(f"{at}: must be an object")
    kind = DosingKind(_choice(at, data, "kind", tuple(DosingKind)))
    if kind is DosingKind.FREE:
        _fields(at, data, required={"kind"}, optional=set())
        return DosingRegimen(kind=kind)
    _fields(at, data, required=_DOSING_FIELDS | {"weeks", "days"}, optional=set())
    try:
        dose = Decimal(str(data["dose_mg_per_kg"]))
    except InvalidOperation:
        raise DefinitionError(f"{at}: dose_mg_per_kg must be a number") from None
    if not dose.is_finite() or dose <= 0:
        raise DefinitionError(f"{at}: dose_mg_per_kg must be above 0")
    count = _count(at, data, "administrations", low=1)
    per_week, weeks = _count(at, data, "per_week", low=1), _count(at, data, "weeks", low=1)
    days = data["days"]
    if (
        not isinstance(days, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in days)
        or days[:1] != [0]
        or days != sorted(set(days))
    ):
        raise DefinitionError(f"{at}: days must start at 0 and increase")
    if count != len(days) or count != per_week * weeks:
        raise DefinitionError(f"{at}: administrations, per_week x weeks and days disagree")
    return DosingRegimen(
        kind=kind,
        dose_mg_per_kg=dose,
        route=_choice(at, data, "route", ROUTES),
        minutes=_count(at, data, "minutes", low=1),
        administrations=count,
        per_week=per_week,
        weeks=weeks,
        days=tuple(days),
    )


def read(path: Path) -> StudyDefinition:
    """Return the definition of one JSON file, whose name must be its key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DefinitionError(f"{path.name}: not valid JSON ({error})") from None
    definition = parse(data)
    if definition.key != path.stem:
        raise DefinitionError(f"{path.name}: the key must be the file's name, not {definition.key}")
    return definition


@cache
def load(key: str) -> StudyDefinition:
    """Return the definition of a known study, or raise DefinitionError."""
    if key not in KEYS:
        raise DefinitionError(f"unknown study definition {key!r} (known: {', '.join(KEYS)})")
    return read(HERE / f"{key}.json")


def definitions() -> tuple[StudyDefinition, ...]:
    """Return every known definition, in the order of ``KEYS``."""
    return tuple(load(key) for key in KEYS)


def timepoints(studies: tuple[StudyDefinition, ...] | None = None) -> tuple[str, ...]:
    """Return the union of the studies' visit codes: the first study's in order, then each
    other study's new codes after them. Raise DefinitionError when a study's visits would not
    come in its own order in the union (the calls are sorted by it)."""
    studies = definitions() if studies is None else studies
    union: list[str] = []
    for study in studies:
        union.extend(code for code in study.codes if code not in union)
        places = [union.index(code) for code in study.codes]
        if places != sorted(places):
            raise DefinitionError(f"study {study.key}: its visits are in another order than before")
    return tuple(union)


def labels(studies: tuple[StudyDefinition, ...] | None = None) -> dict[str, str]:
    """Return the English label of every visit code (the first study's wording wins)."""
    studies = definitions() if studies is None else studies
    found: dict[str, str] = {}
    for study in studies:
        for v in study.visits:
            found.setdefault(v.code, v.label)
    return found
