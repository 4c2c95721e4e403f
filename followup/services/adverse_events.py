"""Adverse effects and concomitant treatments reported at a call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohort import vocabulary as voc
from cohort.clinical import history_stamp
from cohort.services import (
    patient_guard_edit,
)
from cohort.signals import clinical_change_announce, clinical_write
from followup.models import (
    AdverseEvent,
    ConcomitantTreatment,
    FollowUpCall,
)
from followup.scheduling import schedule_close as schedule_close
from followup.scheduling import schedule_create as schedule_create
from followup.scheduling import schedule_move as schedule_move
from followup.signals import adverse_event_recorded
from followup.validators import (
    adverse_event_errors,
    adverse_event_record_errors,
)

# Parts of an adverse effect a call may give; those absent from an entry are left as they are.
_AE_OPTIONAL = ("start_date", "outcome", "resolution_date")


def _ae_values(entry: Mapping[str, Any], kind: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "severity": entry["severity"],
        "serious": bool(entry.get("serious")),
        "other_text": str(entry.get("other_text") or "") if kind == "other" else "",
    }
    if "criteria" in entry:
        criteria = set(entry.get("criteria") or ())
        values |= {f"criterion_{code}": code in criteria for code in _CRITERIA}
    values |= {name: entry.get(name) for name in _AE_OPTIONAL if name in entry}
    if not values.get("outcome", True):
        values.pop("outcome")
    return values


_CRITERIA = voc.codes(voc.SERIOUSNESS_CRITERIA)
AE_CRITERIA = _CRITERIA
# What an update of an adverse effect may change (``criteria`` stands for the criterion flags).
AE_UPDATABLE = ("severity", "serious", "relation", "action_taken", *_AE_OPTIONAL)


def _sync_adverse_events(
    call: FollowUpCall, entries: list[Mapping[str, Any]], *, by: Any, reason: str
) -> None:
    """Make the call's live adverse effects those ticked; untick voids, never deletes.

    Each effect written is announced (``followup.signals.adverse_event_recorded``): safety
    raises the alert of a serious or severe one.
    """
    current = {ae.type: ae for ae in call.adverse_events.filter(voided_at__isnull=True)}
    wanted = {entry["type"]: entry for entry in entries}
    for kind, ae in current.items():
        if kind not in wanted:
            ae.voided_at = timezone.now()
            ae.void_reason = "Unticked at the call"
            history_stamp(ae, by=by, reason=ae.void_reason)
            ae.save(update_fields=["voided_at", "void_reason", "updated_at"])
    for kind, entry in wanted.items():
        ae = current.get(kind) or AdverseEvent(call=call, type=kind)
        values = _ae_values(entry, kind)
        if ae.pk and all(getattr(ae, f) == v for f, v in values.items()):
            continue
        for field, value in values.items():
            setattr(ae, field, value)
        ae.full_clean(exclude=["call"])
        history_stamp(ae, by=by, reason=reason)
        ae.save()
        adverse_event_recorded.send(sender=AdverseEvent, adverse_event=ae, by=by)


@clinical_write
@transaction.atomic
def adverse_event_record(
    *, call: FollowUpCall, values: Mapping[str, Any], by: Any, reason: str = ""
) -> AdverseEvent:
    """Record one adverse effect reported at a call (the initial report), with its alert.

    ``values`` is a call-form entry (``type``, ``severity``, ``serious``, ``criteria``...). An
    effect of a type already live at the call is refused: update that one instead.
    """
    patient_guard_edit(
        patient=call.patient_id, by=by, change=f"call:{call.timepoint}", reason=reason
    )
    kind = values.get("type")
    errors = adverse_event_errors([values])
    if (
        kind in voc.codes(voc.ADVERSE_EFFECTS)
        and call.adverse_events.filter(type=kind, voided_at__isnull=True).exists()
    ):
        errors["type"] = _("This effect is already recorded at this call: update it instead.")
    if errors:
        raise ValidationError(errors)
    ae = AdverseEvent(call=call, type=kind)
    for field, value in _ae_values(values, str(kind)).items():
        setattr(ae, field, value)
    ae.full_clean(exclude=["call"])
    history_stamp(ae, by=by, reason=reason or "Adverse effect reported")
    ae.save()
    _adverse_event_announce(ae, by=by, reason=reason or "Adverse effect reported")
    return ae


@clinical_write
@transaction.atomic
def adverse_event_update(
    *, adverse_event: AdverseEvent, values: Mapping[str, Any], by: Any, reason: str = ""
) -> AdverseEvent:
    """Update an adverse effect's record: its outcome at a later call, or its assessment.

    ``values`` holds model fields (``criteria`` may stand for the criterion booleans); the
    record's rules apply (``adverse_event_record_errors``). A change that makes the effect
    serious or severe raises its alert.
    """
    ae = AdverseEvent.objects.select_for_update().select_related("call").get(pk=adverse_event.pk)
    patient_guard_edit(
        patient=ae.call.patient_id, by=by, change=f"call:{ae.call.timepoint}", reason=reason
    )
    if ae.voided_at is not None:
        raise ValidationError(_("This adverse effect was voided."))
    editable = set(AE_UPDATABLE)
    unknown = set(values) - editable - {"criteria"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    changes = {k: v for k, v in values.items() if k in editable}
    if "criteria" in values:
        criteria = set(values.get("criteria") or ())
        changes |= {f"criterion_{code}": code in criteria for code in _CRITERIA}
    if changes.get("severity", ae.severity) not in voc.codes(voc.SEVERITIES):
        raise ValidationError({"severity": _("Give the severity of this adverse effect.")})
    record = {field.name: getattr(ae, field.name) for field in AdverseEvent._meta.fields} | changes
    record.pop("criteria", None)
    errors = adverse_event_record_errors(record)
    if errors:
        raise ValidationError(errors)
    fields = [f for f, v in changes.items() if getattr(ae, f) != v]
    if not fields:
        return ae
    for field in fields:
        setattr(ae, field, changes[field])
    ae.full_clean(exclude=["call"])
    why = reason or "Adverse effect updated: " + ", ".join(sorted(fields))
    history_stamp(ae, by=by, reason=why)
    ae.save(update_fields=[*fields, "updated_at"])
    _adverse_event_announce(ae, by=by, reason=why)
    return ae


def _adverse_event_announce(ae: AdverseEvent, *, by: Any, reason: str) -> None:
    """Announce an adverse effect written: a clinical change, then the effect (its alert)."""
    clinical_change_announce(
        sender=AdverseEvent, patient=ae.call.patient, by=by, reason=reason, call=ae.call
    )
    adverse_event_recorded.send(sender=AdverseEvent, adverse_event=ae, by=by)


def _sync_treatments(
    call: FollowUpCall, entries: list[Mapping[str, Any]], *, by: Any, reason: str
) -> None:
    """Make the call's live treatments those ticked (one per kind and code)."""
    current = {(t.kind, t.code): t for t in call.treatments.filter(voided_at__isnull=True)}
    wanted = {(entry["kind"], entry["code"]): entry for entry in entries}
    for key, row in current.items():
        if key not in wanted:
            row.voided_at = timezone.now()
            row.void_reason = "Stopped or unticked at the call"
            history_stamp(row, by=by, reason=row.void_reason)
            row.save(update_fields=["voided_at", "void_reason", "updated_at"])
    for (kind, code), entry in wanted.items():
        row = current.get((kind, code)) or ConcomitantTreatment(call=call, kind=kind, code=code)
        values = {
            "name": str(entry.get("name") or ""),
            "other_text": str(entry.get("other_text") or ""),
        }
        if row.pk and all(getattr(row, f) == v for f, v in values.items()):
            continue
        for field, value in values.items():
            setattr(row, field, value)
        row.full_clean(exclude=["call"])
        history_stamp(row, by=by, reason=reason)
        row.save()
