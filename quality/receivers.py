"""Quality's receivers: corrections answer the open queries, analyses run the checks.

Connected in ``QualityConfig.ready``. A clinical change from any entry point (pages, API,
administration site, importer) answers the open queries whose value it changed, the change's
reason being the answer; a successful analysis queues the rules and the central monitoring on
the data it analysed.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from analytics.signals import analysis_finished
from cohort.signals import clinical_data_changed


@receiver(clinical_data_changed, dispatch_uid="quality_queries_answer_on_change")
def queries_answer_after_change(
    sender: Any, *, patient: Any, by: Any, reason: str, call: Any = None, **kwargs: Any
) -> None:
    """Mark answered the open queries (of the patient, or of the call) the change resolves.

    Most changes find no open query: one statement says so, and nothing else is done (the
    service that announced the change already guarded the patient against a locked follow-up
    and voided a signature the change breaks).
    """
    from quality.models import Query
    from quality.services import queries_answer_on_correction

    open_queries = Query.objects.filter(patient=patient, state=Query.State.OPEN)
    if not open_queries.filter(**({} if call is None else {"call": call})).exists():
        return
    queries_answer_on_correction(patient=patient, by=by, reason=reason, call=call)


@receiver(analysis_finished, dispatch_uid="quality_checks_after_analysis")
def checks_after_analysis(sender: Any, *, run: Any, as_of: Any, **kwargs: Any) -> None:
    """Queue the rules and the central monitoring of the data just analysed (same data cut)."""
    from quality import tasks

    tasks.rules_after_analysis()
    tasks.monitoring_after_analysis(run.pk, as_of.isoformat())
