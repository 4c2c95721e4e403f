"""The audit trail of a patient or a call, read from the history of every clinical model.

Each history row says who, when, what (created, changed, voided) and why; a change lists the
fields with their old and new values. Identifiers (the contact's names and phones) are shown to
site staff only; for everyone else a change to them reads "changed", without values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from cohort import vocabulary as voc
from cohort.free_text import HIDDEN, free_text_fields
from cohort.models import KetamineAdministration, Patient, PatientContact, PatientLock, Signature

# Bookkeeping columns a reader does not need to see in a change.
HIDDEN_FIELDS = frozenset({"updated_at", "created_at", "version", "id"})
ACTIONS = {"+": gettext_lazy("created"), "~": gettext_lazy("changed"), "-": gettext_lazy("deleted")}


@dataclass
class Change:
    """One field of one history row: its label, and the values before and after."""

    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One history row, ready to show."""

    when: datetime
    who: str
    what: str  # e.g. "Call M3", "Administration 2026-01-05"
    action: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def _value(value: Any, model_field: Any = None) -> str:
    """Return a stored value as a reader reads it: labels, not codes; the local date format."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    labels = dict(getattr(model_field, "flatchoices", None) or [])
    if isinstance(value, (list, tuple)):
        return ", ".join(_label(v) for v in value) or "–"
    if value in labels:
        return str(labels[value])
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _label(code: Any) -> str:
    """Return the label of a vocabulary code stored in a list (comorbidities)."""
    for vocabulary in (voc.COMORBIDITIES, voc.REVIEW_REASONS):
        if code in dict(vocabulary):
            return gettext(dict(vocabulary)[code])
    return str(code)


# Reasons the services give their own changes, shown in the reader's language.
SYSTEM_REASONS = frozenset(
    {
        gettext_noop("Enrolment"),
        gettext_noop("Schedule created at enrolment"),
        gettext_noop("Administration recorded"),
        gettext_noop("Draft saved"),
        gettext_noop("Call completed"),
        gettext_noop("Unticked at the call"),
        gettext_noop("Stopped or unticked at the call"),
        gettext_noop("Follow-up locked"),
        gettext_noop("Assessment recorded"),
    }
)


def _reason(text: str, identifiers: bool = True) -> str:
    """Return the reason of a change; the services' own words in the reader's language.

    A reason typed by someone is free text (cohort.free_text): readers who do not see
    identifiers read that it is hidden.
    """
    kind, _sep, code = text.partition(": ")
    if kind == "Attempt" and code in dict(voc.ATTEMPT_OUTCOMES):
        return _("Attempt: %(outcome)s") % {"outcome": code_label((voc.ATTEMPT_OUTCOMES,), code)}
    if text in SYSTEM_REASONS:
        return gettext(text)
    if not text or identifiers or _SERVICE_WORDS.fullmatch(text):
        return text
    return str(HIDDEN)


# Reasons the services compose from codes and dates only (no typed text).
_SERVICE_WORDS = re.compile(
    r"First administration on \d{4}-\d{2}-\d{2}|Status set to [a-z_]+|Preferred call time changed"
)


def code_label(vocabularies: tuple[voc.Vocabulary, ...], code: str) -> str:
    """Return the label of a code in the first of ``vocabularies`` that has it, translated."""
    for vocabulary in vocabularies:
        if code in dict(vocabulary):
            return gettext(dict(vocabulary)[code])
    return code


def history_entries(
    history: Any, describe: Any, *, identifiers: bool, act: Any = None
) -> list[Entry]:
    """Turn the history rows of one model (all objects) into entries, oldest first per object.

    ``act(before, row)``, when given, names the action of a row and its changes are not listed
    (the lock and the signatures say what happened in the action and the reason).
    """
    rows = list(history.order_by("id", "history_date", "history_id").select_related("history_user"))
    entries = []
    previous: dict[Any, Any] = {}
    for row in rows:
        before = previous.get(row.id)
        changes = []
        if act is not None:
            entries.append(
                Entry(
                    when=row.history_date,
                    who=_who(row),
                    what=describe(row),
                    action=str(act(before, row)),
                    reason=_reason(row.history_change_reason or "", identifiers),
                )
            )
            previous[row.id] = row
            continue
        if before is not None and row.history_type == "~":
            delta = row.diff_against(before)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                model_field = row.instance._meta.get_field(change.field)
                label = str(model_field.verbose_name)
                hidden = change.field in free_text_fields(type(row.instance))
                if (hidden or isinstance(row.instance, PatientContact)) and not identifiers:
                    changes.append(Change(label, _("hidden"), _("changed")))
                else:
                    old, new = _value(change.old, model_field), _value(change.new, model_field)
                    changes.append(Change(label, old, new))
        if before is not None and row.history_type == "~" and not changes:
            previous[row.id] = row
            continue  # a save that changed only bookkeeping columns
        action = _("voided") if _voided(before, row) else ACTIONS.get(row.history_type, "")
        entries.append(
            Entry(
                when=row.history_date,
                who=_who(row),
                what=describe(row),
                action=str(action),
                reason=_reason(row.history_change_reason or "", identifiers),
                changes=changes,
            )
        )
        previous[row.id] = row
    return entries


def _who(row: Any) -> str:
    """Name the author of a change as they were named then (rows before that: the username)."""
    if getattr(row, "history_user_name", ""):
        return str(row.history_user_name)
    user = row.history_user
    return user.username if user else _("system")


def _lock_action(before: Any, row: Any) -> str:
    return _("locked") if row.locked else _("unlocked")


def _signature_action(before: Any, row: Any) -> str:
    return _("signature voided") if row.voided_at else _("signed")


def _voided(before: Any, row: Any) -> bool:
    return (
        before is not None
        and getattr(before, "voided_at", None) is None
        and getattr(row, "voided_at", None) is not None
    )


# The parts of a patient's trail kept by the apps above the cohort (the follow-up's calls and
# everything recorded at them), registered by their ``AppConfig.ready()``: each returns the
# entries of one patient, given whether the reader sees identifiers.
TrailPart = Callable[[Patient, bool], list["Entry"]]
_trail_parts: list[TrailPart] = []


def register_trail_part(part: TrailPart) -> None:
    """Add a part to every patient's trail (once, however often it is registered)."""
    if part not in _trail_parts:
        _trail_parts.append(part)


def patient_trail(patient: Patient, *, identifiers: bool) -> list[Entry]:
    """Return the history of a patient: the file, identifiers, administrations, every call.

    The calls' part comes from the follow-up (``register_trail_part``), newest entry first.
    """
    entries = history_entries(
        Patient.history.filter(id=patient.pk),  # type: ignore[attr-defined]
        lambda row: _("Patient file"),
        identifiers=identifiers,
    )
    entries += history_entries(
        PatientContact.history.filter(patient_id=patient.pk),  # type: ignore[attr-defined]
        lambda row: _("Identifiers"),
        identifiers=identifiers,
    )
    entries += history_entries(
        KetamineAdministration.history.filter(patient_id=patient.pk),  # type: ignore[attr-defined]
        lambda row: (
            _("Administration %(date)s") % {"date": date_format(row.date, "SHORT_DATE_FORMAT")}
        ),
        identifiers=identifiers,
    )
    for part in _trail_parts:
        entries += part(patient, identifiers)
    entries += history_entries(
        PatientLock.history.filter(patient_id=patient.pk),  # type: ignore[attr-defined]
        lambda row: _("Follow-up lock"),
        identifiers=identifiers,
        act=_lock_action,
    )
    entries += history_entries(
        Signature.history.filter(patient_id=patient.pk),  # type: ignore[attr-defined]
        lambda row: _("Signature of Dr %(name)s") % {"name": row.signer_name},
        identifiers=identifiers,
        act=_signature_action,
    )
    return newest_first(entries)


def newest_first(entries: list[Entry]) -> list[Entry]:
    """Return entries sorted newest first (entries of one moment keep their order)."""
    return sorted(entries, key=lambda e: e.when, reverse=True)
