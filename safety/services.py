"""Writes of the safety workflow: raise, acknowledge and escalate alerts. Every write goes here."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Role
from cohort import vocabulary as voc
from cohort.clinical import history_stamp
from cohort.services import patient_guard_edit
from followup.models import AdverseEvent
from followup.visits import visit_label
from safety.models import ExpectedEffect, SafetyAlert

log = logging.getLogger(__name__)


def _not_future(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    return now if at is None else min(at, now)


def effect_is_expected(effect_type: str) -> bool | None:
    """Say whether an effect is on the study's list of expected effects (None for Other)."""
    if effect_type == "other":
        return None
    return ExpectedEffect.objects.filter(type=effect_type).exists()


def clinicians_of_site(site_id: int) -> Any:
    """Return the active clinicians working at a site."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.CLINICIAN.value, sites=site_id)
        .distinct()
    )


def data_managers() -> Any:
    """Return the active data managers (they see every site)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.DATA_MANAGER.value)
        .distinct()
    )


@transaction.atomic
def alert_raise(
    *, adverse_event: AdverseEvent, by: Any, at: dt.datetime | None = None
) -> SafetyAlert | None:
    """Raise the safety alert of a serious or severe effect, once; e-mail the site's clinicians.

    Returns the new alert, or None when the effect needs none or already has one. The mails go
    after the commit, so a rolled-back save tells no one. ``at`` (not in the future) dates an
    alert recorded after the fact.
    """
    if (
        not adverse_event.needs_alert
        or SafetyAlert.objects.filter(adverse_event=adverse_event).exists()
    ):
        return None
    site_id = adverse_event.call.patient.site_id
    alert = SafetyAlert(
        adverse_event=adverse_event,
        site_id=site_id,
        reason="serious" if adverse_event.serious else "severe",
        raised_at=_not_future(at),
        raised_by=by if getattr(by, "pk", None) else None,
    )
    alert.full_clean(validate_constraints=False)
    history_stamp(alert, by=by, reason=f"Raised: {alert.reason} adverse effect")
    alert.save()
    transaction.on_commit(lambda: alert_notify(alert_id=alert.pk))
    return alert


def _alert_mail(alert: SafetyAlert, *, escalated: bool) -> tuple[str, str]:
    """Return the subject and body of an alert's mail: study code only, never identifiers."""
    effect = alert.adverse_event
    call = effect.call
    words = {
        "code": call.patient.study_code,
        "effect": effect.label() if effect.type != "other" else _("Other"),
        "severity": _(voc.label(voc.SEVERITIES, effect.severity)),
        "reason": _(voc.label(voc.SAFETY_ALERT_REASONS, alert.reason)),
        # Any study's visit (the second study's D5 is not in the first study's vocabulary).
        "timepoint": visit_label(call.timepoint),
        "hours": settings.SAFETY_ACK_HOURS,
    }
    if escalated:
        subject = _("Safety alert not acknowledged: %(code)s") % words
        intro = (
            _("No clinician of the site has acknowledged this alert within %(hours)s hours.")
            % words
        )
    else:
        subject = _("Safety alert: %(reason)s, %(code)s") % words
        intro = _("Acknowledge it within %(hours)s hours with your assessment.") % words
    lines = [
        _("%(reason)s reported at the %(timepoint)s call of patient %(code)s.") % words,
        _("Effect: %(effect)s (%(severity)s).") % words,
    ]
    if effect.serious:
        lines.append(
            _("Seriousness: %(criteria)s.") % {"criteria": ", ".join(effect.criteria_labels())}
        )
    lines += [
        "",
        intro,
        settings.SITE_URL.rstrip("/") + reverse("safety:alert_detail", args=[alert.pk]),
    ]
    return subject, "\n".join(lines)


def _mail_users(users: Any, alert: SafetyAlert, *, escalated: bool) -> int:
    sent = 0
    for user in users:
        if not user.email:
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject, body = _alert_mail(alert, escalated=escalated)
        try:
            sent += send_mail(subject, body, None, [user.email])
        except OSError:
            # The alert stays on the home pages and is escalated anyway: log, do not fail.
            log.exception("safety alert %s: mail to user %s failed", alert.pk, user.pk)
    return sent


def alert_notify(*, alert_id: int) -> int:
    """E-mail one alert to the clinicians of its site; return how many mails left."""
    alert = SafetyAlert.objects.select_related("adverse_event__call__patient").get(pk=alert_id)
    sent = _mail_users(clinicians_of_site(alert.site_id), alert, escalated=False)
    if sent != alert.emailed_to:
        alert.emailed_to = sent
        history_stamp(alert, by=None, reason=f"E-mailed to {sent} clinicians")
        alert.save(update_fields=["emailed_to", "updated_at"])
    return sent


def user_may_acknowledge(user: Any, alert: SafetyAlert) -> bool:
    """Say whether a user may acknowledge an alert: a clinician of the alert's site."""
    return user.has_role(Role.CLINICIAN) and user.sites.filter(pk=alert.site_id).exists()


@transaction.atomic
def alert_acknowledge(
    *,
    alert: SafetyAlert,
    by: Any,
    relation: str,
    action_taken: str,
    assessment: str,
    at: dt.datetime | None = None,
) -> SafetyAlert:
    """Acknowledge an alert with the clinician's assessment; set the effect's causality and action.

    The relation reported before is kept on the alert, so the history shows whether the
    clinician confirmed or changed it.
    """
    if not user_may_acknowledge(by, alert):
        raise PermissionDenied(_("Only a clinician of the patient's site acknowledges an alert."))
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    errors: dict[str, str] = {}
    if alert.acknowledged_at is not None:
        errors["assessment"] = _("This alert was already acknowledged.")
    if relation not in voc.codes(voc.AE_RELATIONS):
        errors["relation"] = _("Give the relation to ketamine.")
    if action_taken not in voc.codes(voc.AE_ACTIONS):
        errors["action_taken"] = _("Give the action taken.")
    if not assessment.strip():
        errors["assessment"] = errors.get("assessment") or _("Write a short assessment.")
    if errors:
        raise ValidationError(errors)
    effect = AdverseEvent.objects.select_related("call").get(pk=alert.adverse_event_id)
    patient_guard_edit(patient=effect.call.patient_id, by=by, change="adverse effect")
    reported = effect.relation
    effect.relation, effect.action_taken = relation, action_taken
    effect.full_clean(exclude=["call"])
    changed = "confirmed" if reported == relation else f"changed from {reported or 'none'}"
    history_stamp(effect, by=by, reason=f"Safety alert acknowledged: causality {changed}")
    effect.save(update_fields=["relation", "action_taken", "updated_at"])
    alert.acknowledged_at = max(_not_future(at), alert.raised_at)
    alert.acknowledged_by = by
    alert.relation_reported = reported
    alert.assessment = assessment.strip()
    history_stamp(alert, by=by, reason="Acknowledged")
    alert.save(
        update_fields=[
            "acknowledged_at",
            "acknowledged_by",
            "relation_reported",
            "assessment",
            "updated_at",
        ]
    )
    return alert


def alerts_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Escalate to the data managers every alert unacknowledged for ``SAFETY_ACK_HOURS``.

    Each alert is escalated once; returns how many were escalated now.
    """
    now = now or timezone.now()
    limit = now - dt.timedelta(hours=settings.SAFETY_ACK_HOURS)
    due = SafetyAlert.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True, raised_at__lte=limit
    ).values_list("pk", flat=True)
    escalated = 0
    for pk in list(due):
        with transaction.atomic():
            alert = (
                SafetyAlert.objects.select_for_update()
                .filter(pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True)
                .first()
            )
            if alert is None:
                continue
            alert.escalated_at = now
            history_stamp(
                alert,
                by=None,
                reason=f"Escalated: not acknowledged in {settings.SAFETY_ACK_HOURS} h",
            )
            alert.save(update_fields=["escalated_at", "updated_at"])
            transaction.on_commit(lambda pk=pk: _notify_escalation(pk))
            escalated += 1
    return escalated


def _notify_escalation(alert_id: int) -> int:
    alert = SafetyAlert.objects.select_related("adverse_event__call__patient").get(pk=alert_id)
    return _mail_users(data_managers(), alert, escalated=True)
