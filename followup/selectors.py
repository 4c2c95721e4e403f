"""Reads of follow-up data, scoped to what a user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from cohort import vocabulary as voc
from cohort.models import Patient
from cohort.selectors import patients_for_user
from followup import missed, schedule
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    FollowUpCall,
    LostProposalDismissal,
    window_closed_by,
    window_contains,
    window_opened_by,
)


def calls_for_user(user: Any) -> QuerySet[FollowUpCall]:
    """Return the calls of the patients a user may see."""
    return FollowUpCall.objects.filter(patient__in=patients_for_user(user)).select_related(
        "patient", "patient__site__study"
    )


def adverse_events_for_user(user: Any) -> QuerySet[AdverseEvent]:
    """Return the live adverse effects of the patients a user may see."""
    return AdverseEvent.objects.filter(
        voided_at__isnull=True, call__patient__in=patients_for_user(user)
    ).select_related("call", "call__patient")


def open_effects_before(call: FollowUpCall) -> list[AdverseEvent]:
    """Return the patient's effects reported at earlier calls and still present (to ask about)."""
    return list(
        AdverseEvent.objects.filter(
            call__patient_id=call.patient_id,
            call__sequence__lt=call.sequence,
            voided_at__isnull=True,
            outcome__in=voc.AE_OPEN_OUTCOMES,
        )
        .select_related("call")
        .order_by("call__sequence", "type")
    )


def call_counts_for_user(user: Any, *, today: dt.date) -> dict[str, int]:
    """Count the open follow-up calls of a user's patients: overdue, due now (window open),
    upcoming. Baseline is assessed in hospital, not called: like the worklist, it is left out."""
    open_calls = (
        calls_for_user(user).filter(status="due", patient__status="active").exclude(timepoint="BL")
    )
    overdue = open_calls.filter(window_closed_by(today)).count()
    due_now = open_calls.filter(window_contains(today)).count()
    upcoming = open_calls.exclude(window_opened_by(today)).count()
    return {"overdue": overdue, "due_now": due_now, "upcoming": upcoming}


def status_counts_for_user(user: Any) -> list[tuple[str, int]]:
    """Count the follow-up calls of a user's patients by status: (label, count), in code order."""
    rows = calls_for_user(user).exclude(timepoint="BL").values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    labels = dict(FollowUpCall._meta.get_field("status").choices)
    return [(str(labels[code]), counts[code]) for code in labels if code in counts]


# Rows shown per page of a worklist section; the section's count is always the full number.
WORKLIST_ROWS = 25
UPCOMING_DAYS = 30
WORKLIST_SECTIONS = ("overdue", "due_today", "this_week", "upcoming")


@dataclass(frozen=True)
class Section:
    """One page of one worklist section, and the section's full count."""

    key: str
    rows: list[FollowUpCall]
    count: int
    number: int = 1
    per_page: int = WORKLIST_ROWS

    @property
    def num_pages(self) -> int:
        """Return how many pages the section has (at least one)."""
        return max(1, -(-self.count // self.per_page))

    @property
    def first(self) -> int:
        """Return the position of the first row shown, from 1 (0 when none)."""
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """Return the position of the last row shown."""
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


@dataclass(frozen=True)
class Worklist:
    """The open calls of a nurse's patients in four paged sections, each with its full count."""

    today: dt.date
    parts: dict[str, Section]
    # Failed attempts that mark a call missed (CALL_FAILED_ATTEMPTS_TO_MISS).
    attempts_to_miss: int

    @property
    def counts(self) -> dict[str, int]:
        """Return the full count of each section."""
        return {key: part.count for key, part in self.parts.items()}

    def sections(self) -> list[Section]:
        """Return the sections, most urgent first."""
        return [self.parts[key] for key in WORKLIST_SECTIONS]

    @property
    def overdue(self) -> list[FollowUpCall]:
        return self.parts["overdue"].rows

    @property
    def due_today(self) -> list[FollowUpCall]:
        return self.parts["due_today"].rows

    @property
    def this_week(self) -> list[FollowUpCall]:
        return self.parts["this_week"].rows

    @property
    def upcoming(self) -> list[FollowUpCall]:
        return self.parts["upcoming"].rows


def call_time_now(at: dt.datetime) -> Q:
    """Return the condition "the patient's preferred call time is now" on calls.

    The same rule as ``cohort.call_times.is_preferred_time``, in the database so that the
    worklist can put these calls first before it cuts each section.
    """
    moment = at.time().replace(second=0, microsecond=0, tzinfo=None)
    has_preference = Q(patient__call_from__isnull=False) | ~Q(patient__call_days="")
    on_day = Q(patient__call_days="") | Q(patient__call_days__contains=str(at.isoweekday()))
    in_hours = Q(patient__call_from__isnull=True) | Q(
        patient__call_from__lte=moment, patient__call_to__gt=moment
    )
    return has_preference & on_day & in_hours


def _attempt_figures() -> dict[str, Any]:
    """Return the annotations of a call's failed attempts and its last attempt's time."""
    failed = (
        CallAttempt.objects.filter(call=OuterRef("pk"), outcome__in=voc.FAILED_ATTEMPT_OUTCOMES)
        .order_by()
        .values("call")
        .annotate(n=Count("id"))
        .values("n")
    )
    last = (
        CallAttempt.objects.filter(call=OuterRef("pk"))
        .order_by("-attempted_at")
        .values("attempted_at")[:1]
    )
    return {
        "failed_attempts": Coalesce(Subquery(failed), 0),
        "last_attempt_at": Subquery(last),
    }


def _call_now(now: dt.datetime, today: dt.date) -> Case:
    """Return "call this patient now" as a boolean expression on calls (window open too)."""
    return Case(
        When(call_time_now(now) & window_opened_by(today), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _worklist_scope(
    user: Any, *, sites: Any = None, site: Any = None, search: str = "", study: Any = None
) -> QuerySet[FollowUpCall] | None:
    """Return the open follow-up calls of the user's active patients, or None when none can be.

    The user's sites are given to the database as a list of ids (``sites``, when the caller has
    them already, else one small query): a subquery on the user's sites hides from the planner
    how many patients they hold, and it then walks every patient's calls one by one.
    """
    if not user.is_authenticated:
        return None
    patients = Q(patient__status="active")
    if user.is_site_scoped:
        if sites is None:
            sites = user.sites.all()
        ids = sorted({s.pk for s in sites})
        if not ids:
            return None
        patients &= Q(patient__site_id__in=ids)
    if site is not None:
        patients &= Q(patient__site_id=site.pk)
    if study is not None:
        patients &= Q(patient__site__study_id=study.pk)
    if search.strip():
        patients &= Q(patient__study_code__icontains=search.strip())
    return FollowUpCall.objects.filter(patients, status="due").exclude(timepoint="BL")


def worklist_for_user(
    user: Any,
    *,
    today: dt.date,
    now: dt.datetime | None = None,
    rows: int = WORKLIST_ROWS,
    pages: dict[str, int] | None = None,
    site: Any = None,
    search: str = "",
    sites: Any = None,
    study: Any = None,
) -> Worklist:
    """Return the visits and calls due, across the user's studies: overdue, due today, due this
    week, upcoming (the baseline, made at inclusion, is never listed).

    Overdue: the window has closed. Due today: the window is open and the target date has come.
    This week: the target date is in the next seven days. Upcoming: within ``UPCOMING_DAYS``.
    Each section is paged (``pages`` maps a section to its page, from 1; a page past the end
    shows the last one); ``site``, ``study`` and ``search`` (part of a study code) narrow
    every section and its count alike. In each section the calls whose window has opened and
    whose patient prefers to be called at ``now`` (local time, default the current time) come
    first, marked ``call_now``, then the others by target date and study code. ``sites``: the
    user's sites, when the caller has read them already.

    Five queries whatever the number of patients, each as fast at 30,000 patients as at 300:
    one aggregate counts every section, and in it the calls to make now (from the open calls'
    partial index and the active patients' covering index); then one query per section takes
    its page of ids in SQL, ordered by target date from the index (so the database reads the
    rows up to the page, not the whole section), and joins patient, site, contact and attempts
    to those ids only. The calls to make now come first: the counts say which of them, if any,
    fall on the page asked, so that only a page holding both kinds sorts the whole section.
    """
    now = timezone.localtime(now)
    horizon = today + dt.timedelta(days=UPCOMING_DAYS)
    conditions = _worklist_sections(today)
    scope = _worklist_scope(user, sites=sites, site=site, search=search, study=study)
    if scope is None:
        counts = dict.fromkeys(conditions, 0)
        now_counts = dict.fromkeys(conditions, 0)
        scope = FollowUpCall.objects.none()
    else:
        scope = scope.filter(target_date__lte=horizon)
        now_rule = call_time_now(now) & window_opened_by(today)
        figures = scope.aggregate(
            **{key: Count("id", filter=condition) for key, condition in conditions.items()},
            **{
                f"{key}_now": Count("id", filter=condition & now_rule)
                for key, condition in conditions.items()
            },
        )
        counts = {key: figures[key] for key in conditions}
        now_counts = {key: figures[f"{key}_now"] for key in conditions}
    call_now = _call_now(now, today)
    parts = {}
    for key, condition in conditions.items():
        count = counts[key]
        last_page = max(1, -(-count // rows))
        number = min(max(1, (pages or {}).get(key, 1)), last_page)
        page = _section_page(
            scope.filter(condition),
            count=count,
            first=now_counts[key],
            start=(number - 1) * rows,
            rows=rows,
            call_now=call_now,
        )
        parts[key] = Section(key, page, count, number, rows)
    return Worklist(
        today=today, parts=parts, attempts_to_miss=settings.CALL_FAILED_ATTEMPTS_TO_MISS
    )


# The order of a worklist section after the calls to make now: target date, then study code.
_BY_DATE = ("target_date", "patient__study_code", "pk")


def _worklist_sections(today: dt.date) -> dict[str, Q]:
    """Return the filter of each worklist section, in the order the page shows them."""
    week_end = today + dt.timedelta(days=7)
    horizon = today + dt.timedelta(days=UPCOMING_DAYS)
    # A window closes at most this many days after its target: a bound the index can use.
    latest_close = dt.timedelta(days=schedule.LATEST_CLOSE_DAYS)
    return {
        "overdue": Q(target_date__lt=today) & window_closed_by(today),
        "due_today": Q(target_date__gte=today - latest_close, target_date__lte=today)
        & window_contains(today),
        "this_week": Q(target_date__gt=today, target_date__lte=week_end),
        "upcoming": Q(target_date__gt=week_end, target_date__lte=horizon),
    }


def _section_page(
    section: QuerySet[FollowUpCall], *, count: int, first: int, start: int, rows: int, call_now: Any
) -> list[FollowUpCall]:
    """Return one page of a section: its ids taken in SQL, then the rows joined for them.

    The calls to make now (``first`` of the ``count``) come first: the page asked lies among
    them, after them, or across the two (only that page sorts the whole section).
    """
    if first in (0, count):
        ordered = section.order_by(*_BY_DATE)
    elif start + rows <= first:
        ordered = section.alias(call_now=call_now).filter(call_now=True).order_by(*_BY_DATE)
    elif start >= first:
        ordered = section.alias(call_now=call_now).filter(call_now=False).order_by(*_BY_DATE)
        start -= first
    else:
        ordered = section.alias(call_now=call_now).order_by("-call_now", *_BY_DATE)
    ids = ordered.values("pk")[start : start + rows]
    return list(
        FollowUpCall.objects.filter(pk__in=ids)
        .select_related("patient__site__study", "patient__contact")
        .annotate(**_attempt_figures(), call_now=call_now)
        .order_by("-call_now", *_BY_DATE)
    )


def previous_treatments(call: FollowUpCall) -> list[ConcomitantTreatment]:
    """Return the live treatments of the patient's latest earlier call that recorded some."""
    earlier = (
        ConcomitantTreatment.objects.filter(
            call__patient_id=call.patient_id,
            call__sequence__lt=call.sequence,
            voided_at__isnull=True,
        )
        .order_by("-call__sequence")
        .values_list("call__sequence", flat=True)
        .first()
    )
    if earlier is None:
        return []
    return list(
        ConcomitantTreatment.objects.filter(
            call__patient_id=call.patient_id, call__sequence=earlier, voided_at__isnull=True
        )
    )


def flagged_calls_for_user(user: Any) -> QuerySet[FollowUpCall]:
    """Return the completed calls waiting for a clinician's review, oldest first (to page)."""
    return (
        calls_for_user(user)
        .filter(needs_review=True)
        .select_related("nprs", "hads")
        .order_by("call_date", "patient__study_code", "pk")
    )


@dataclass(frozen=True)
class LostProposal:
    """A patient whose last ``LOST_TO_FOLLOW_UP_AFTER_MISSED`` or more calls were all missed."""

    patient: Patient
    missed_calls: list[FollowUpCall]

    @property
    def last_missed_call(self) -> FollowUpCall:
        """Return the latest missed call (a dismissal refers to it)."""
        return self.missed_calls[-1]

    def suggested_reason(self) -> str:
        """Return the reason offered when marking the patient lost (English, as stored)."""
        timepoints = ", ".join(call.timepoint for call in self.missed_calls)
        return f"Not reached at {len(self.missed_calls)} consecutive calls ({timepoints})"


def lost_proposals_for_user(
    user: Any, *, patient_ids: list[int] | None = None, threshold: int | None = None
) -> list[LostProposal]:
    """Return the active patients proposed as lost to follow-up, by site and study code.

    Data managers decide on them (every site). Two queries whatever the cohort size: the active
    patients with enough missed calls (with site and the order of the last call covered by a
    dismissal), then their follow-up calls with the failed attempts and the last attempt.
    """
    threshold = threshold or settings.LOST_TO_FOLLOW_UP_AFTER_MISSED
    dismissed = (
        LostProposalDismissal.objects.filter(patient=OuterRef("pk"))
        .order_by("-last_missed_call__sequence")
        .values("last_missed_call__sequence")[:1]
    )
    candidates = (
        patients_for_user(user)
        .filter(status="active")
        .annotate(
            missed_count=Count("calls", filter=Q(calls__status=voc.MISSED_CALL_STATUS)),
            dismissed_through=Subquery(dismissed),
        )
        .filter(missed_count__gte=threshold)
        .select_related("site")
        .order_by("site__code", "study_code")
    )
    if patient_ids is not None:
        candidates = candidates.filter(pk__in=patient_ids)
    patients = {patient.pk: patient for patient in candidates}
    if not patients:
        return []
    calls = (
        FollowUpCall.objects.filter(patient_id__in=list(patients))
        .exclude(timepoint="BL")
        .annotate(
            **_attempt_figures(),
        )
        .order_by("patient_id", "sequence")
    )
    by_patient: dict[int, list[FollowUpCall]] = {pk: [] for pk in patients}
    for call in calls:
        by_patient[call.patient_id].append(call)
    proposals = []
    for pk, patient in patients.items():
        streak = missed.missed_streak(by_patient[pk])
        if missed.is_proposed(
            streak, threshold=threshold, dismissed_through=patient.dismissed_through
        ):
            for call in streak:
                call.patient = patient
            proposals.append(LostProposal(patient=patient, missed_calls=streak))
    return proposals
