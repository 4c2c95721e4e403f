"""The trajectory group of each analysed patient, read from the newest successful analysis.

Shown on the cohort's patient list and timeline (``cohort.patient_pages``, filled in by
``AnalyticsConfig.ready()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from analytics.models import AnalysisRun, TrajectoryMembership
from analytics.stats.trajectories.two_models import GBTM, MIXED
from cohort.models import Patient
from cohort.studies import FIRST_STUDY_CODE

# The models a run may take the memberships from (analytics.stats.trajectories.two_models).
MODEL_LABELS = {
    GBTM: _("group-based trajectory model"),
    MIXED: _("latent-class mixed model (random intercept per patient)"),
}


@dataclass(frozen=True)
class Membership:
    """A patient's trajectory group in the newest successful analysis."""

    group: str
    posterior: float | None
    run_pk: int
    # The model the group comes from ("group_based" or "latent_class_mixed"; "" if not said).
    model: str = ""

    @property
    def model_label(self) -> Promise | None:
        """Return the name of the model the group comes from, for pages (None if not said)."""
        return MODEL_LABELS.get(self.model)


def _membership_run() -> tuple[int, bool] | None:
    """Return the newest successful run's id, and whether its memberships are stored as rows.

    Runs stored before the membership rows existed (no summary) keep them in the report only.
    """
    # The trajectories are the first study's analysis plan: its runs hold them.
    run = (
        AnalysisRun.objects.filter(
            study__code=FIRST_STUDY_CODE, status=AnalysisRun.Status.SUCCEEDED
        )
        .order_by("-finished_at", "-pk")
        .annotate(tabled=ExpressionWrapper(Q(summary__isnull=False), BooleanField()))
        .values_list("pk", "tabled")
        .first()
    )
    return None if run is None else (run[0], bool(run[1]))


def _report_memberships(run_pk: int) -> dict[int, Membership]:
    """Return the memberships read from a run's report (runs without membership rows)."""
    table = (
        AnalysisRun.objects.filter(pk=run_pk)
        .values_list("report__results__trajectories__membership", flat=True)
        .first()
    )
    if not table:
        return {}
    model = str(table.get("model", ""))
    return {
        int(patient): Membership(group, posterior, run_pk, model)
        for patient, group, posterior in zip(
            table["patient"], table["group"], table["posterior"], strict=True
        )
        if group
    }


def trajectory_memberships(patients: Iterable[int] | None = None) -> dict[int, Membership]:
    """Return the trajectory group of the analysed patients (default all, else those given).

    Read from the newest successful run's membership rows: one patient's group costs one
    indexed row, not the report's table of every patient.
    """
    run = _membership_run()
    if run is None:
        return {}
    run_pk, tabled = run
    if not tabled:
        every = _report_memberships(run_pk)
        if patients is None:
            return every
        return {pk: every[pk] for pk in patients if pk in every}
    rows = TrajectoryMembership.objects.filter(run_id=run_pk)
    if patients is not None:
        rows = rows.filter(patient_id__in=list(patients))
    return {
        patient: Membership(group, posterior, run_pk, model)
        for patient, group, posterior, model in rows.values_list(
            "patient_id", "group", "posterior", "model"
        )
    }


def membership_of(patient_pk: int) -> Membership | None:
    """Return one patient's trajectory group in the newest successful run, if analysed."""
    return trajectory_memberships([patient_pk]).get(patient_pk)


def in_trajectory_group(patients: QuerySet[Patient], group: str) -> QuerySet[Patient]:
    """Narrow patients to those in a trajectory group of the newest successful run."""
    run = _membership_run()
    if run is None:
        return patients.none()
    run_pk, tabled = run
    if not tabled:
        chosen = [pk for pk, m in _report_memberships(run_pk).items() if m.group == group]
        return patients.filter(pk__in=chosen)
    members = TrajectoryMembership.objects.filter(run_id=run_pk, group=group)
    return patients.filter(pk__in=members.values("patient_id"))
