"""Reads of cohort data, scoped to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from cohort import vocabulary as voc
from cohort.models import Patient, Signature, Site, Study


def sites_for_user(user: Any) -> QuerySet[Site]:
    """Return the sites a user works for (every site for all-site roles)."""
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_site_scoped:
        return user.sites.all()
    return Site.objects.all()


def studies_for_user(user: Any) -> QuerySet[Study]:
    """Return the studies a user sees: those of their sites (every study for all-site roles)."""
    if not user.is_authenticated:
        return Study.objects.none()
    if user.is_site_scoped:
        return Study.objects.filter(sites__in=user.sites.all()).distinct()
    return Study.objects.all()


def patients_for_user(user: Any) -> QuerySet[Patient]:
    """Return the patients a user may see, with their site."""
    if not user.is_authenticated:
        return Patient.objects.none()
    patients = Patient.objects.select_related("site__study")
    if user.is_site_scoped:
        patients = patients.filter(site__in=user.sites.all())
    return patients


def with_lock_state(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Annotate ``has_open_calls`` (a call still to make) and ``is_signed`` (a live signature)."""
    # The follow-up's calls, through their reverse relation (``Patient.calls``): the cohort sits
    # below the follow-up and does not import it.
    call_model = Patient._meta.get_field("calls").related_model
    open_calls = call_model._default_manager.filter(
        patient=OuterRef("pk"), status__in=voc.OPEN_CALL_STATUSES
    )
    live = Signature.objects.filter(patient=OuterRef("pk"), voided_at__isnull=True)
    return patients.annotate(has_open_calls=Exists(open_calls), is_signed=Exists(live))


# The lock states the patient list filters on, and what each means.
LOCK_STATES = {
    "ready": Q(Q(lock__isnull=True) | Q(lock__locked=False))
    & Q(~Q(status="active") | Q(has_open_calls=False)),
    "locked": Q(lock__locked=True),
    "unsigned": Q(lock__locked=True, is_signed=False),
    "signed": Q(is_signed=True),
}


def patients_in_lock_state(patients: QuerySet[Patient], state: str) -> QuerySet[Patient]:
    """Keep the patients in one lock state: ready (to lock), locked, unsigned, signed."""
    return with_lock_state(patients).filter(LOCK_STATES[state])


def followups_ready_to_lock(user: Any) -> QuerySet[Patient]:
    """Return the user's patients whose follow-up is over and not locked."""
    return patients_in_lock_state(patients_for_user(user), "ready").order_by("study_code")


def followups_awaiting_signature(user: Any) -> QuerySet[Patient]:
    """Return the user's locked patients without a live signature, locked first first."""
    patients = patients_in_lock_state(patients_for_user(user), "unsigned")
    return patients.select_related("lock__locked_by").order_by("lock__locked_at", "study_code")
