from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # The cohort's patient list and timeline show each patient's trajectory group.
        from analytics import memberships
        from cohort import patient_pages

        patient_pages.provide(
            memberships=memberships.trajectory_memberships,
            membership_of=memberships.membership_of,
            in_trajectory_group=memberships.in_trajectory_group,
        )
