"""What a query may point at: the rows, their fields as the pages name them, their values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cohort.models import KetamineAdministration, Patient
from followup.instruments import sf12
from followup.models import AdverseEvent, FollowUpCall

# Kinds of target, as written in a target choice "<kind>:<pk>:<field>".
MODELS: dict[str, type[models.Model]] = {
    "call": FollowUpCall,
    "patient": Patient,
    "administration": KetamineAdministration,
    "adverse_event": AdverseEvent,
}
KIND_OF_MODEL = {model: kind for kind, model in MODELS.items()}


def _call_fields() -> list[tuple[str, str]]:
    """Return the questionnaire fields of a call with their labels in the active language.

    The names are those of the call page's inputs, then whole instruments.
    """
    return [
        ("call_date", _("Date of the call")),
        ("nprs", _("NPRS (whole instrument)")),
        ("nprs_mean", _("Mean pain (NPRS)")),
        ("nprs_max", _("Maximal pain (NPRS)")),
        ("hads", _("HADS (whole instrument)")),
        ("hads_anxiety", _("HADS anxiety")),
        ("hads_depression", _("HADS depression")),
        *[(f"hads_{n}", _("HADS item %(number)d") % {"number": n}) for n in range(1, 15)],
        ("sf12", _("SF-12 (whole instrument)")),
        *[(f"sf12_{item.lower()}", f"SF-12 {item}") for item in sf12.ITEMS],
    ]


_PATIENT_FIELDS = (
    "age",
    "sex",
    "weight_kg",
    "etiology",
    "pain_duration_months",
    "inclusion_date",
    "consent_date",
    "dn4",
    "paroxysms_per_day",
    "status_date",
)
_ADMINISTRATION_FIELDS = ("date", "route", "dose_unit", "dose_value", "days", "infusion_minutes")
_ADVERSE_EVENT_FIELDS = ("type", "severity", "serious", "start_date")
_INSTRUMENT_SCORES = {"nprs": ("mean", "maximum"), "hads": ("anxiety", "depression")}
_INSTRUMENT_SCORES["sf12"] = ("pcs", "mcs")


@dataclass(frozen=True)
class Target:
    """One value a query may point at."""

    obj: models.Model
    field: str

    @property
    def kind(self) -> str:
        return KIND_OF_MODEL[type(self.obj)]

    @property
    def choice(self) -> str:
        return f"{self.kind}:{self.obj.pk}:{self.field}"


def field_label(model: type[models.Model], field: str) -> str:
    """Return the label of a queryable field of a model, in the active language."""
    if model is FollowUpCall:
        return dict(_call_fields()).get(field, field)
    try:
        return str(model._meta.get_field(field).verbose_name)
    except Exception:
        return field


def fields_of(model: type[models.Model]) -> list[str]:
    """Return the field names a query may name on a row of ``model``."""
    if model is FollowUpCall:
        return [name for name, _label in _call_fields()]
    if model is Patient:
        return list(_PATIENT_FIELDS)
    if model is KetamineAdministration:
        return list(_ADMINISTRATION_FIELDS)
    return list(_ADVERSE_EVENT_FIELDS)


def targets_of_call(call: FollowUpCall) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the choices of values to query from a call page, grouped by row.

    The call's own fields, then (at baseline) the patient's, then the patient's
    administrations, then the call's adverse events.
    """
    groups = [
        (
            _("This call"),
            [
                (Target(call, f).choice, field_label(FollowUpCall, f))
                for f in fields_of(FollowUpCall)
            ],
        )
    ]
    if call.is_baseline:
        patient = call.patient
        groups.append(
            (
                _("Patient"),
                [(Target(patient, f).choice, field_label(Patient, f)) for f in _PATIENT_FIELDS],
            )
        )
    for administration in call.patient.administrations.filter(voided_at__isnull=True):
        head = _("Administration of %(date)s") % {
            "date": date_format(administration.date, "SHORT_DATE_FORMAT")
        }
        choices = [
            (Target(administration, f).choice, field_label(KetamineAdministration, f))
            for f in _ADMINISTRATION_FIELDS
        ]
        groups.append((head, choices))
    for event in call.adverse_events.filter(voided_at__isnull=True):
        head = _("Adverse effect: %(type)s") % {"type": event.get_type_display()}
        choices = [
            (Target(event, f).choice, field_label(AdverseEvent, f)) for f in _ADVERSE_EVENT_FIELDS
        ]
        groups.append((head, choices))
    return groups


def parse_choice(choice: str) -> tuple[type[models.Model], int, str]:
    """Split "<kind>:<pk>:<field>" into (model, pk, field); ValidationError when malformed."""
    parts = choice.split(":")
    if len(parts) != 3 or parts[0] not in MODELS or not parts[1].isdigit():
        raise ValidationError({"target": _("Choose the value to query.")})
    model = MODELS[parts[0]]
    if parts[2] not in fields_of(model):
        raise ValidationError({"target": _("This field cannot be queried.")})
    return model, int(parts[1]), parts[2]


def patient_and_call(obj: models.Model) -> tuple[Patient, FollowUpCall | None]:
    """Return the patient a target row belongs to, and its call when it has one."""
    if isinstance(obj, FollowUpCall):
        return obj.patient, obj
    if isinstance(obj, AdverseEvent):
        return obj.call.patient, obj.call
    if isinstance(obj, KetamineAdministration):
        return obj.patient, None
    if isinstance(obj, Patient):
        return obj, None
    raise ValueError(f"cannot query a {type(obj).__name__}")


def _related(call: FollowUpCall, name: str) -> Any:
    try:
        return getattr(call, name)
    except ObjectDoesNotExist:
        return None


def current_value(obj: models.Model, field: str) -> str:
    """Return the value a target holds now, as text ("" when there is none)."""
    call = isinstance(obj, FollowUpCall)
    value = _call_value(obj, field) if call else getattr(obj, field, None)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)[:200]


def _call_value(call: FollowUpCall, field: str) -> Any:
    if field == "call_date":
        return call.call_date
    instrument, _sep, rest = field.partition("_")
    row = _related(call, instrument)
    if not rest:
        if row is None:
            return None
        scores = [getattr(row, name) for name in _INSTRUMENT_SCORES[instrument]]
        if all(score is None for score in scores):
            return f"missing: {row.missing_reason}" if row.missing_reason else None
        return " / ".join("–" if score is None else str(score) for score in scores)
    if row is None:
        return None
    if instrument == "nprs":
        return row.mean if rest == "mean" else row.maximum
    if instrument == "hads":
        return getattr(row, rest if rest in ("anxiety", "depression") else f"item_{rest}")
    return getattr(row, rest)
