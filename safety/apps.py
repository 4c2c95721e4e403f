from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        from safety import receivers  # noqa: F401  (connects the receivers: expectedness and alerts of adverse effects)
