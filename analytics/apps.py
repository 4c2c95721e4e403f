from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # The receivers: a re-analysis after a clinical change (analytics.signals).
        from analytics import memberships, signals  # noqa: F401
        from cohort import patient_pages

        # The cohort's patient list and timeline show each patient's trajectory group.
        patient_pages.provide(
            memberships=memberships.trajectory_memberships,
            membership_of=memberships.membership_of,
            in_trajectory_group=memberships.in_trajectory_group,
        )
