"""Give an ongoing demo study the day-to-day work of every role (``seed_demo --ongoing``).

The generator writes a cohort as it happened; a study in progress also has calls flagged for
the clinicians, follow-ups locked and waiting for a signature, open queries and a site the
central monitoring flags (planted by the generator). This puts them in through the services,
as the demo users would have, so that each role finds something to do on the first visit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.services import demo_users_create
from cohort.selectors import followups_ready_to_lock
from cohort.services import patient_lock
from followup.models import FollowUpCall, NprsResponse
from followup.services import REVIEW_HADS_DEPRESSION_FROM, REVIEW_NPRS_RISE
from trials.definitions import FIRST_STUDY

# Calls completed this recently and worth a look are still waiting for the clinician.
REVIEW_DAYS = 14
# Follow-ups locked by the data manager and left for the clinician to sign.
LOCKED_FOR_SIGNATURE = 3


def demo_work_stage() -> dict[str, int]:
    """Flag recent calls, lock some finished follow-ups, raise the queries; return counts."""
    from quality.services import query_raise, rules_run

    demo_users_create()
    manager = User.objects.get(username="datamanager")
    counts = {"flagged": _flag_recent_calls()}
    # Before any follow-up is locked: acknowledging sets the effect's causality.
    counts |= _safety_alerts()
    locked = 0
    for patient in followups_ready_to_lock(manager).filter(site__is_demo=True)[
        :LOCKED_FOR_SIGNATURE
    ]:
        patient_lock(patient=patient, by=manager)
        locked += 1
    counts["locked"] = locked
    counts |= {f"queries_{k}": v for k, v in rules_run().items()}
    recent = (
        FollowUpCall.objects.filter(
            patient__site__is_demo=True, status="reached", nprs__mean__isnull=False
        )
        .exclude(timepoint="BL")
        .order_by("-call_date", "pk")
        .select_related("patient")
        .first()
    )
    if recent is not None:
        query_raise(
            target=recent,
            field="nprs_mean",
            kind="other",
            text="Mean pain much higher than at the last call: please confirm it with the patient.",
            by=manager,
        )
        counts["queries_by_hand"] = 1
    return counts


# Hours the demo clinician took to acknowledge each past alert, in turn (known truth).
ACK_HOURS = (3, 6, 20, 2, 30)


def _safety_alerts() -> dict[str, int]:
    """Raise the alerts of the demo's serious effects, acknowledged as the clinician would have;
    then report one serious effect at the latest call, left for the clinician to acknowledge.

    Past alerts are dated at 11:00 on the day of their call; the clinician's assessment
    confirms the causality drawn by the generator.
    """
    from followup.models import AdverseEvent
    from followup.services import adverse_event_record
    from safety.models import SafetyAlert
    from safety.services import alert_acknowledge, alert_raise

    clinician = User.objects.get(username="clinician")
    nurse = User.objects.get(username="nurse")
    local = timezone.get_current_timezone()
    past = (
        AdverseEvent.objects.filter(
            call__patient__site__is_demo=True, serious=True, voided_at__isnull=True
        )
        .select_related("call")
        .order_by("call__call_date", "pk")
    )
    acknowledged = 0
    for index, effect in enumerate(past):
        raised = dt.datetime.combine(effect.call.call_date, dt.time(11), local)
        alert = alert_raise(adverse_event=effect, by=nurse, at=raised)
        if alert is None:
            continue
        alert_acknowledge(
            alert=alert,
            by=clinician,
            relation=effect.relation or "possible",
            action_taken="none",
            assessment="Seen with the patient's physician; causality as reported.",
            at=raised + dt.timedelta(hours=ACK_HOURS[index % len(ACK_HOURS)]),
        )
        acknowledged += 1
    latest = (
        # A call of the first study's demo: the second study's visits are in hospital.
        FollowUpCall.objects.filter(
            patient__site__is_demo=True,
            patient__site__study__definition=FIRST_STUDY,
            status="reached",
        )
        .exclude(timepoint="BL")
        .exclude(adverse_events__type="dissociation_hallucination")
        .order_by("-call_date", "pk")
        .first()
    )
    opened = 0
    if latest is not None and latest.call_date is not None:
        adverse_event_record(
            call=latest,
            values={
                "type": "dissociation_hallucination",
                "severity": "severe",
                "serious": True,
                "criteria": ["hospitalisation"],
                "start_date": latest.call_date - dt.timedelta(days=2),
                "outcome": "recovering",
            },
            by=nurse,
            reason="Reported at the call",
        )
        opened = SafetyAlert.objects.filter(acknowledged_at__isnull=True).count()
    return {"alerts_acknowledged": acknowledged, "alerts_open": opened}


def _flag_recent_calls() -> int:
    """Flag the recent calls the review rule picks (HADS depression, a rise of pain)."""
    since = timezone.localdate() - dt.timedelta(days=REVIEW_DAYS)
    baseline = NprsResponse.objects.filter(
        call__patient=OuterRef("patient"), call__timepoint="BL"
    ).values("mean")[:1]
    calls = (
        FollowUpCall.objects.filter(
            patient__site__is_demo=True, status="reached", call_date__gte=since
        )
        .exclude(timepoint="BL")
        .annotate(baseline_mean=Subquery(baseline))
        .select_related("nprs", "hads")
    )
    flagged = 0
    for call in calls.filter(
        Q(hads__depression__gte=REVIEW_HADS_DEPRESSION_FROM) | Q(nprs__mean__isnull=False)
    ):
        reasons = _reasons(call)
        if reasons:
            FollowUpCall.objects.filter(pk=call.pk).update(
                needs_review=True, review_reasons=reasons
            )
            flagged += 1
    return flagged


def _reasons(call: Any) -> list[str]:
    reasons = []
    hads = getattr(call, "hads", None)
    if hads is not None and (hads.depression or 0) >= REVIEW_HADS_DEPRESSION_FROM:
        reasons.append("depression")
    nprs = getattr(call, "nprs", None)
    if (
        nprs is not None
        and nprs.mean is not None
        and call.baseline_mean is not None
        and nprs.mean - call.baseline_mean >= REVIEW_NPRS_RISE
    ):
        reasons.append("pain_rise")
    return reasons
