from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        # The wording cache's receivers connect on import; the schedule's are connected here.
        from cohort import audit as cohort_audit
        from cohort import patient_pages
        from followup import audit, scheduling, signals, timeline  # noqa: F401

        scheduling.connect()
        cohort_audit.register_trail_part(audit.patient_calls_trail)
        patient_pages.provide(
            effect_spans=timeline.patient_effect_spans, timeline=timeline.timeline
        )
