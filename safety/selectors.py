"""Reads of the safety workflow, scoped to the user: alerts, serious effects, their summary."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.roles import Role
from cohort import vocabulary as voc
from cohort.selectors import patients_for_user
from followup.models import AdverseEvent
from followup.validators import CRITERION_FIELDS
from safety.models import SafetyAlert

# Who opens the safety page: the site's clinicians, the data managers, the statisticians.
SAFETY_ROLES = (Role.CLINICIAN, Role.DATA_MANAGER, Role.STATISTICIAN)


def sees_alerts(user: Any) -> bool:
    """Say whether alerts are shown to the user: clinicians (their sites) and data managers."""
    return user.is_superuser or user.has_role(Role.CLINICIAN) or user.has_role(Role.DATA_MANAGER)


def alerts_for_user(user: Any) -> QuerySet[SafetyAlert]:
    """Return the alerts a user sees: a clinician those of their sites; none for the others."""
    alerts = SafetyAlert.objects.select_related(
        "adverse_event__call__patient", "site", "acknowledged_by"
    )
    if not sees_alerts(user):
        return alerts.none()
    return alerts.filter(adverse_event__call__patient__in=patients_for_user(user))


def open_alerts_for_user(user: Any) -> QuerySet[SafetyAlert]:
    """Return the alerts still waiting for a clinician's acknowledgement, oldest first.

    Data managers (without the clinician role) see only those escalated to them.
    """
    alerts = alerts_for_user(user).filter(acknowledged_at__isnull=True).order_by("raised_at")
    if not (user.is_superuser or user.has_role(Role.CLINICIAN)):
        alerts = alerts.filter(escalated_at__isnull=False)
    return alerts


def serious_effects_for_user(user: Any) -> QuerySet[AdverseEvent]:
    """Return the live serious adverse effects of the patients the user may see."""
    return (
        AdverseEvent.objects.filter(
            voided_at__isnull=True, serious=True, call__patient__in=patients_for_user(user)
        )
        .select_related("call__patient__site", "safety_alert")
        .order_by("call__patient__study_code", "call__sequence", "type")
    )


def safety_summary(user: Any) -> dict[str, Any]:
    """Count the serious effects by criterion, relation and expectedness; time to acknowledge."""
    serious = list(serious_effects_for_user(user))
    by_criterion = [
        (_(label), sum(getattr(ae, field) for ae in serious))
        for field, (_code, label) in zip(CRITERION_FIELDS, voc.SERIOUSNESS_CRITERIA, strict=True)
    ]
    relations = dict(voc.AE_RELATIONS)
    by_relation = [(_(relations[c]), sum(ae.relation == c for ae in serious)) for c in relations]
    by_relation.append((_("Not assessed yet"), sum(not ae.relation for ae in serious)))
    by_expected = [
        (_("Expected"), sum(ae.expected is True for ae in serious)),
        (_("Unexpected"), sum(ae.expected is False for ae in serious)),
        (_("Other (not on the list)"), sum(ae.expected is None for ae in serious)),
    ]
    hours = [
        h
        for h in (
            alert.hours_to_acknowledge()
            for alert in SafetyAlert.objects.filter(
                adverse_event__call__patient__in=patients_for_user(user),
                acknowledged_at__isnull=False,
            )
        )
        if h is not None
    ]
    return {
        "serious_count": len(serious),
        "open_serious": sum(ae.is_open for ae in serious),
        "by_criterion": by_criterion,
        "by_relation": by_relation,
        "by_expected": by_expected,
        "acknowledged": len(hours),
        "median_hours": statistics.median(hours) if hours else None,
        "max_hours": max(hours) if hours else None,
    }
