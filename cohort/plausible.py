"""Plausible dates, written once: every service, form, serializer and the importer call these.

What has happened is never in the future; nothing is dated before the study started
(``STUDY_START``) or, where that is the rule, before the patient's consent or inclusion; a
reschedule never moves a call out of the study period (``STUDY_START`` to ``STUDY_END``). The
database repeats what a row can say about itself (``DATE_FLOOR``..``DATE_CEILING``, a status
after inclusion) as CHECK constraints; it cannot know today nor the study's dates, which are
settings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

# Bounds the database itself enforces on every clinical date (CHECK constraints): no study run
# by this product starts before the first, and no clinical event is dated after the second.
DATE_FLOOR = dt.date(2000, 1, 1)
DATE_CEILING = dt.date(2100, 1, 1)
# An attempt may be logged this far ahead of the server's clock (a client clock running fast).
CLOCK_SKEW = dt.timedelta(minutes=5)


def study_start() -> dt.date:
    """Return the first day of the study (``STUDY_START``)."""
    return settings.STUDY_START


def study_end() -> dt.date | None:
    """Return the last day of the study (``STUDY_END``), or None when it is open-ended."""
    return settings.STUDY_END


def _day(value: dt.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def date_errors(
    value: dt.date | None,
    *,
    field: str,
    today: dt.date | None = None,
    not_before: tuple[dt.date | None, str] | None = None,
) -> dict[str, str]:
    """Return the problem of one date of something that has happened, keyed by ``field``.

    It must not be in the future nor before the study's start; ``not_before`` is another bound
    with the words naming it ("the patient's consent").
    """
    if value is None:
        return {}
    today = today or timezone.localdate()
    if value > today:
        return {field: _("This date is in the future: give the day it happened.")}
    if value < study_start():
        return {
            field: _("This date is before the study started (%(start)s).")
            % {"start": _day(study_start())}
        }
    if not_before is not None:
        bound, words = not_before
        if bound is not None and value < bound:
            return {
                field: _("This date is before %(event)s (%(date)s).")
                % {"event": words, "date": _day(bound)}
            }
    return {}


def enrolment_date_errors(
    *, inclusion_date: dt.date | None, consent_date: dt.date | None, today: dt.date | None = None
) -> dict[str, str]:
    """Return the problems of the dates of an enrolment: inclusion and consent."""
    return date_errors(inclusion_date, field="inclusion_date", today=today) | date_errors(
        consent_date, field="consent_date", today=today
    )


def administration_date_errors(
    *, date: dt.date | None, patient: Any, field: str = "date", today: dt.date | None = None
) -> dict[str, str]:
    """Return the problem of an administration's date: not before the patient's consent."""
    consent = getattr(patient, "consent_date", None)
    return date_errors(
        date, field=field, today=today, not_before=(consent, _("the patient's consent"))
    )


def call_date_errors(
    *,
    call_date: dt.date | None,
    patient: Any,
    field: str = "call_date",
    today: dt.date | None = None,
) -> dict[str, str]:
    """Return the problem of the date a call was made: not before the patient's inclusion."""
    inclusion = getattr(patient, "inclusion_date", None)
    return date_errors(
        call_date, field=field, today=today, not_before=(inclusion, _("the patient's inclusion"))
    )


def status_date_errors(
    *, date: dt.date | None, patient: Any, field: str = "status_date", today: dt.date | None = None
) -> dict[str, str]:
    """Return the problem of the date a patient left the follow-up: not before inclusion."""
    inclusion = getattr(patient, "inclusion_date", None)
    return date_errors(
        date, field=field, today=today, not_before=(inclusion, _("the patient's inclusion"))
    )


def attempt_time_errors(
    *, at: dt.datetime | None, patient: Any, field: str = "at", now: dt.datetime | None = None
) -> dict[str, str]:
    """Return the problem of the time of a call attempt: not ahead of now, not before inclusion."""
    if at is None:
        return {}
    now = now or timezone.now()
    if at > now + CLOCK_SKEW:
        return {field: _("This time is in the future: give the time of the attempt.")}
    local_day = timezone.localtime(at).date() if timezone.is_aware(at) else at.date()
    return date_errors(
        local_day,
        field=field,
        today=timezone.localtime(now).date(),
        not_before=(getattr(patient, "inclusion_date", None), _("the patient's inclusion")),
    )


def schedule_errors(targets: list[dt.date], *, patient: Any, field: str = "date") -> dict[str, str]:
    """Return the problem of a call schedule leaving the study period or preceding inclusion."""
    if not targets:
        return {}
    inclusion = getattr(patient, "inclusion_date", None)
    first, last = min(targets), max(targets)
    if first < study_start() or (inclusion is not None and first < inclusion):
        return {field: _("The calls would be planned before the patient's inclusion.")}
    end = study_end()
    if end is not None and last > end:
        return {
            field: _("The calls would be planned after the end of the study (%(end)s).")
            % {"end": _day(end)}
        }
    return {}


def overlap_errors(
    *, date: dt.date, days: int, others: list[tuple[dt.date, int]], field: str = "date"
) -> dict[str, str]:
    """Return the problem of an administration whose days overlap another live one's."""
    last = date + dt.timedelta(days=max(days, 1) - 1)
    for other, other_days in sorted(others):
        other_last = other + dt.timedelta(days=max(other_days, 1) - 1)
        if date <= other_last and other <= last:
            return {
                field: _(
                    "These days overlap the administration of %(date)s (%(days)s days): "
                    "correct that one, or change the date or the number of days."
                )
                % {"date": _day(other), "days": other_days}
            }
    return {}
