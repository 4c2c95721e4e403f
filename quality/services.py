"""Writes of queries: raise, answer (in words or by correcting the value), close, reopen, and
the automatic queries of the data-quality rules. Every step adds a message to the thread."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import Role
from cohort.models import Patient
from cohort.services import patient_guard_edit
from followup.models import FollowUpCall
from quality import targets
from quality.models import MonitoringSnapshot, Query, QueryMessage
from quality.rules import Finding

State = Query.State
Action = QueryMessage.Action

# The states from which each action may start.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    Action.ANSWER: frozenset({State.OPEN}),
    Action.CORRECT: frozenset({State.OPEN}),
    Action.CLOSE: frozenset({State.OPEN, State.ANSWERED}),
    Action.REOPEN: frozenset({State.ANSWERED, State.CLOSED}),
}
RESOLVED_TEXT = gettext_noop("Resolved by data correction: the rule no longer finds it.")


def is_data_manager(user: Any) -> bool:
    """Say whether a user manages queries (raises, closes, reopens them)."""
    return bool(user.is_superuser or user.has_role(Role.DATA_MANAGER))


def can_answer(user: Any, query: Query) -> bool:
    """Say whether a user answers a query: nurses and clinicians of the patient's site."""
    if not (user.has_role(Role.NURSE) or user.has_role(Role.CLINICIAN)):
        return False
    return user.sites.filter(pk=query.patient.site_id).exists()


def _step(query: Query, *, action: str, by: Any, text: str, state: str) -> QueryMessage:
    if query.state not in ALLOWED_FROM.get(action, frozenset(State.values)):
        raise ValidationError(
            _("This query is %(state)s: it cannot be %(action)s now.")
            % {"state": query.get_state_display(), "action": Action(action).label}
        )
    query.state = state
    query.save(update_fields=["state", "updated_at"])
    return QueryMessage.objects.create(query=query, action=action, by=by, text=text, state=state)


@transaction.atomic
def query_raise(*, target: models.Model, field: str, kind: str, text: str, by: Any) -> Query:
    """Raise a query on one value of a call, a patient, an administration or an adverse event."""
    if not is_data_manager(by):
        raise PermissionDenied(_("Only data managers raise queries."))
    if field not in targets.fields_of(type(target)):
        raise ValidationError({"target": _("This field cannot be queried.")})
    if not text.strip():
        raise ValidationError({"text": _("Write the question.")})
    patient, call = targets.patient_and_call(target)
    query = Query(
        patient=patient,
        call=call,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        field=field,
        kind=kind,
        text=text.strip(),
        value_at_raise=targets.current_value(target, field),
        raised_by=by,
    )
    query.full_clean()
    query.save()
    QueryMessage.objects.create(
        query=query, action=Action.RAISE, by=by, text=query.text, state=State.OPEN
    )
    return query


@transaction.atomic
def query_answer(*, query: Query, text: str, by: Any) -> Query:
    """Answer an open query in words (the site's nurse or clinician); it becomes answered."""
    query = Query.objects.select_for_update().get(pk=query.pk)
    if not can_answer(by, query):
        raise PermissionDenied(_("Only the staff of the patient's site answer its queries."))
    if not text.strip():
        raise ValidationError({"text": _("Write the answer.")})
    _step(query, action=Action.ANSWER, by=by, text=text.strip(), state=State.ANSWERED)
    return query


@transaction.atomic
def query_close(*, query: Query, by: Any, text: str = "") -> Query:
    """Close a query (data managers): the answer or the correction is accepted."""
    if not is_data_manager(by):
        raise PermissionDenied(_("Only data managers close queries."))
    query = Query.objects.select_for_update().get(pk=query.pk)
    _step(query, action=Action.CLOSE, by=by, text=text.strip(), state=State.CLOSED)
    return query


@transaction.atomic
def query_reopen(*, query: Query, by: Any, text: str) -> Query:
    """Reopen an answered or closed query (data managers), saying what is still wrong."""
    if not is_data_manager(by):
        raise PermissionDenied(_("Only data managers reopen queries."))
    if not text.strip():
        raise ValidationError({"text": _("Say why the query is reopened.")})
    query = Query.objects.select_for_update().get(pk=query.pk)
    _step(query, action=Action.REOPEN, by=by, text=text.strip(), state=State.OPEN)
    return query


@transaction.atomic
def queries_answer_on_correction(
    *, patient: Patient, by: Any, reason: str, call: FollowUpCall | None = None
) -> list[Query]:
    """Mark answered the open queries of a patient (or of one call) whose value has changed.

    Called after a correction went through the clinical services: the correction's reason is
    the answer. Queries whose value is unchanged stay open.
    """
    change = f"call:{call.timepoint}" if call is not None else "patient"
    patient_guard_edit(patient=patient, by=by, change=change, reason=reason)
    queries = Query.objects.select_for_update().filter(patient=patient, state=State.OPEN)
    if call is not None:
        queries = queries.filter(call=call)
    answered = []
    for query in queries.select_related("target_type"):
        target = query.target
        if target is None:
            continue
        now = targets.current_value(target, query.field)
        if now == query.value_at_raise:
            continue
        text = _("Corrected from “%(old)s” to “%(new)s”: %(reason)s") % {
            "old": query.value_at_raise or "–",
            "new": now or "–",
            "reason": reason.strip(),
        }
        _step(query, action=Action.CORRECT, by=by, text=text, state=State.ANSWERED)
        answered.append(query)
    return answered


AUTOMATIC_KIND = {
    "call_outside_window": Query.Kind.OUT_OF_RANGE,
    "missing_baseline_instrument": Query.Kind.MISSING,
}


@transaction.atomic
def findings_sync(*, findings: Iterable[Finding]) -> dict[str, int]:
    """Raise one automatic query per new finding, close those whose finding is gone.

    Idempotent: each finding has a stable key, so a rerun raises nothing new. A query closed
    by the system comes back (reopened) when its finding reappears; one closed by a data
    manager stays closed.
    """
    wanted = {finding.key: finding for finding in findings}
    existing = {query.key: query for query in Query.objects.filter(automatic=True)}
    last_action = dict(
        QueryMessage.objects.filter(query__automatic=True)
        .order_by("query_id", "at", "pk")
        .values_list("query_id", "action")
    )
    counts = {"raised": 0, "resolved": 0, "reopened": 0, "unchanged": 0}
    new = [finding for key, finding in wanted.items() if key not in existing]
    now = timezone.now()
    created = _automatic_create(new, now=now)
    messages = [
        QueryMessage(query=q, action=Action.RAISE, text=q.text, state=State.OPEN, at=now)
        for q in created
    ]
    counts["raised"] = len(created)
    for key, query in existing.items():
        if key not in wanted and query.state != State.CLOSED:
            messages.append(
                QueryMessage(
                    query=query,
                    action=Action.RESOLVE,
                    text=RESOLVED_TEXT,
                    state=State.CLOSED,
                    at=now,
                )
            )
            query.state = State.CLOSED
            counts["resolved"] += 1
        elif (
            key in wanted
            and query.state == State.CLOSED
            and last_action.get(query.pk) == (Action.RESOLVE)
        ):
            messages.append(
                QueryMessage(
                    query=query,
                    action=Action.REAPPEAR,
                    text=wanted[key].message,
                    state=State.OPEN,
                    at=now,
                )
            )
            query.state = State.OPEN
            counts["reopened"] += 1
        else:
            counts["unchanged"] += 1
    changed = [m.query for m in messages if m.action != Action.RAISE]
    if changed:
        Query.objects.bulk_update(changed, ["state"])
        Query.objects.filter(pk__in=[q.pk for q in changed]).update(updated_at=now)
    QueryMessage.objects.bulk_create(messages)
    return counts


def _automatic_create(new: list[Finding], *, now: dt.datetime) -> list[Query]:
    """Create the automatic queries of new findings at once; return them with their ids."""
    content_types = {
        label: ContentType.objects.get_for_model(model) for label, model in targets.MODELS.items()
    }
    created = Query.objects.bulk_create(
        [
            Query(
                patient_id=finding.patient_id,
                call_id=finding.call_id,
                target_type=content_types[finding.target],
                target_id=finding.target_id,
                field=finding.field,
                kind=AUTOMATIC_KIND.get(finding.rule, Query.Kind.INCONSISTENT),
                text=finding.message,
                template=finding.template,
                params=finding.params,
                value_at_raise=finding.value[:200],
                automatic=True,
                rule=finding.rule,
                key=finding.key,
                raised_at=now,
            )
            for finding in new
        ]
    )
    if created and created[0].pk is None:
        # Back ends that do not return ids from a bulk insert: read them back by key.
        ids = dict(Query.objects.filter(key__in=[f.key for f in new]).values_list("key", "pk"))
        for query in created:
            query.pk = ids[query.key]
    return created


# Snapshots kept: the page reads the newest; the others show how the monitoring moved.
MONITORING_KEPT = 30


def monitoring_compute(*, as_of: dt.date, run: Any = None) -> MonitoringSnapshot:
    """Compute the central monitoring on the live data as of ``as_of`` and store it."""
    from quality import monitoring_data

    began = time.perf_counter()
    result = monitoring_data.compute(as_of=as_of)
    patients = sum(row["patients"] for row in result["rows"])
    with transaction.atomic():
        snapshot = MonitoringSnapshot.objects.create(
            as_of=as_of,
            run=run,
            patients=patients,
            seconds=time.perf_counter() - began,
            result=result,
        )
        old = MonitoringSnapshot.objects.values_list("pk", flat=True)[MONITORING_KEPT:]
        MonitoringSnapshot.objects.filter(pk__in=list(old)).delete()
    return snapshot


def rules_run() -> dict[str, int]:
    """Run the data-quality rules on the live data and bring the automatic queries in line."""
    from quality import loader, rules

    data = loader.load()
    findings = rules.run_rules(data.calls, data.administrations)
    counts = findings_sync(findings=findings)
    counts["findings"] = len(findings)
    return counts
