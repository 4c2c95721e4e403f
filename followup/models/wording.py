"""The licensed wording of the questionnaire items, loaded by a data manager."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from cohort.clinical import clinical_history


class ItemWording(models.Model):
    """The licensed wording of a questionnaire item in one language, loaded by a data manager.

    The code ships neutral labels only (``followup.instruments.items``): HADS, SF-12, MADRS and
    SF-MPQ wordings are licensed per study. When a wording exists for an item and the user's
    language, the forms show it instead of the neutral label.
    """

    field = models.CharField(
        _("item"), max_length=20, help_text=_("Field name, e.g. hads_6 or sf12_gh1.")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(_("wording"))
    options = models.JSONField(
        _("answer options"),
        default=list,
        blank=True,
        help_text=_("Wording of each answer, in the order of the stored codes."),
    )
    source = models.CharField(_("licence or source"), max_length=200, blank=True)
    history = clinical_history()

    class Meta:
        ordering = ["field", "language"]
        verbose_name = _("item wording")
        verbose_name_plural = _("item wordings")
        constraints = [
            models.UniqueConstraint(fields=["field", "language"], name="wording_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.field} ({self.language})"

    def clean(self) -> None:
        from followup.instruments import items

        licensed = items.HADS + items.SF12 + items.MADRS + items.SF_MPQ
        known = {item.field: item for item in licensed}
        if self.field not in known:
            raise ValidationError({"field": _("Unknown questionnaire item.")})
        expected = known[self.field].options
        if self.options and len(self.options) != expected:
            raise ValidationError({"options": _("This item has %(n)s answers.") % {"n": expected}})
