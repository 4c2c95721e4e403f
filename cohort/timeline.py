"""Reads behind the patient list (scoped by the caller's selectors).

The timeline's series and the trajectory groups are read by the apps above the cohort
(``followup.timeline``, ``analytics.memberships``) through ``cohort.patient_pages``.
"""

from __future__ import annotations

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from cohort.models import KetamineAdministration, Patient

# Call statuses counted as missed on the list and drawn as missed on the timeline.
MISSED = ("unreachable", "refused", "withdrawn")


def patient_rows(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Annotate the patients with their cumulative dose, flags, calls made and missed."""
    dose = (
        KetamineAdministration.objects.filter(patient=OuterRef("pk"), voided_at__isnull=True)
        .values("patient")
        .annotate(total=Sum("total_mg"))
        .values("total")
    )
    zero = Value(0, output_field=DecimalField(max_digits=10, decimal_places=2))
    return patients.annotate(
        cumulative_mg=Coalesce(Subquery(dose, output_field=DecimalField()), zero),
        flagged=Count("calls", filter=Q(calls__needs_review=True), distinct=True),
        reached=Count("calls", filter=Q(calls__status="reached"), distinct=True),
        missed=Count("calls", filter=Q(calls__status__in=MISSED), distinct=True),
    )
