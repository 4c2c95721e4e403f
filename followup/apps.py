from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        # The wording cache's receivers connect on import; the schedule's are connected here.
        from followup import scheduling, signals  # noqa: F401

        scheduling.connect()
