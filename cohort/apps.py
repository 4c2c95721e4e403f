from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CohortConfig(AppConfig):
    name = "cohort"
    verbose_name = _("Cohort")
