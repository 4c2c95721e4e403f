"""Reads of cohort data, scoped to what a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cohort.models import Patient, Site


def sites_for_user(user: Any) -> QuerySet[Site]:
    """Return the sites a user works for (every site for all-site roles)."""
    if not user.is_authenticated:
        return Site.objects.none()
    if user.is_site_scoped:
        return user.sites.all()
    return Site.objects.all()


def patients_for_user(user: Any) -> QuerySet[Patient]:
    """Return the patients a user may see, with their site."""
    if not user.is_authenticated:
        return Patient.objects.none()
    patients = Patient.objects.select_related("site")
    if user.is_site_scoped:
        patients = patients.filter(site__in=user.sites.all())
    return patients
