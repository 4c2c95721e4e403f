"""Remove the demo patients and everything that hangs off them; real sites are never touched."""

from __future__ import annotations

from django.db.models import Model

from cohort.models import (
    EnrolmentKey,
    KetamineAdministration,
    Patient,
    PatientContact,
    PatientLock,
    Signature,
)
from followup.models import (
    AdverseEvent,
    CallAttempt,
    ConcomitantTreatment,
    DepressionBaseline,
    FollowUpCall,
    HadsResponse,
    MadrsAssessment,
    NprsResponse,
    Sf12Response,
    SfMpqAssessment,
)

# Children first: the order in which demo rows are removed.
CLINICAL_MODELS: tuple[type[Model], ...] = (
    CallAttempt,
    NprsResponse,
    HadsResponse,
    Sf12Response,
    AdverseEvent,
    ConcomitantTreatment,
    FollowUpCall,
    MadrsAssessment,
    SfMpqAssessment,
    DepressionBaseline,
    KetamineAdministration,
    PatientContact,
    Patient,
)


def demo_purge() -> dict[str, int]:
    """Remove every patient of the demo sites, with their history; keep the sites and users."""
    demo_patients = Patient.objects.filter(site__is_demo=True).values("id")
    demo_calls = FollowUpCall.objects.filter(patient__site__is_demo=True).values("id")
    removed: dict[str, int] = {}
    keys = EnrolmentKey.objects.filter(patient_id__in=demo_patients)
    removed["enrolmentkey"] = keys._raw_delete(keys.db)
    # The safety alerts of demo effects go before the effects they point at.
    from safety.models import SafetyAlert

    alerts = SafetyAlert.objects.filter(adverse_event__call_id__in=demo_calls)
    alert_history = SafetyAlert.history.model.objects.filter(id__in=alerts.values("id"))
    alert_history._raw_delete(alert_history.db)
    removed["safetyalert"] = alerts._raw_delete(alerts.db)
    # The data-quality queries raised on demo patients (an ongoing demo raises some) go too.
    from quality.models import Query, QueryMessage

    queries = Query.objects.filter(patient_id__in=demo_patients)
    messages = QueryMessage.objects.filter(query_id__in=queries.values("id"))
    removed["querymessage"] = messages._raw_delete(messages.db)
    removed["query"] = queries._raw_delete(queries.db)
    # A demo follow-up may have been locked and signed on the pages: those rows go first.
    for model in (Signature, PatientLock, *CLINICAL_MODELS):
        if model is Patient:
            live = model.objects.filter(id__in=demo_patients)
        elif hasattr(model, "call"):
            live = model.objects.filter(call_id__in=demo_calls)
        else:
            live = model.objects.filter(patient_id__in=demo_patients)
        history = model.history.model.objects.filter(id__in=live.values("id"))  # type: ignore[attr-defined]
        history._raw_delete(history.db)
        removed[model._meta.model_name] = live._raw_delete(live.db)
    return removed
