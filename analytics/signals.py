"""What the analysis announces, and its receiver of the cohort's clinical changes.

``analysis_finished`` is sent once a successful run's report is committed, with ``run`` and
``as_of`` (the data cut analysed); quality connects its rules and central monitoring to it.

Every clinical change (``cohort.signals.clinical_data_changed``) schedules the re-analysis of the
patient's study once its transaction commits. Connected in ``AnalyticsConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal, receiver

from cohort.signals import clinical_data_changed

analysis_finished = Signal()


@receiver(clinical_data_changed, dispatch_uid="analytics_reanalysis_on_change")
def reanalysis_after_change(sender: Any, *, patient: Any = None, **kwargs: Any) -> None:
    """Schedule the re-analysis of the patient's study once the change's transaction commits
    (never fails the save); every active study's when the patient is not known."""
    from analytics.services import reanalysis_on_commit

    site = getattr(patient, "site", None)
    reanalysis_on_commit(study_id=getattr(site, "study_id", None))
