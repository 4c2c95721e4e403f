"""Forms of the follow-up: the questionnaires of a call (baseline or telephone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from followup.instruments import hads, items, sf12
from followup.models import ItemWording
from followup.validators import HADS_FIELDS, SF12_FIELDS, questionnaire_errors

_MISSING_CHOICES = [("", "—"), *((code, _(text)) for code, text in voc.MISSING_REASONS)]


def _integer(label: str, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": low, "max": high}),
    )


def wordings(language: str) -> dict[str, str]:
    """Return the licensed item wordings loaded for a language, keyed by field name."""
    base = language.split("-")[0]
    rows = ItemWording.objects.filter(language=base).values_list("field", "text")
    return dict(rows)


class QuestionnaireForm(forms.Form):
    """NPRS, HADS (keyed scores 0-3) and SF-12 (codes as on the form) of one call.

    Range checks come from the field bounds and, once more, from the shared validators, so that
    the form, the API and the database refuse the same answers with the same messages.
    """

    nprs_mean = _integer(str(_("Mean pain (0-10)")), 0, 10)
    nprs_max = _integer(str(_("Maximal pain (0-10)")), 0, 10)
    nprs_missing_reason = forms.ChoiceField(
        label=_("Why is pain missing?"), choices=_MISSING_CHOICES, required=False
    )
    hads_missing_reason = forms.ChoiceField(
        label=_("Why is HADS missing?"), choices=_MISSING_CHOICES, required=False
    )
    sf12_missing_reason = forms.ChoiceField(
        label=_("Why is SF-12 missing?"), choices=_MISSING_CHOICES, required=False
    )

    def __init__(
        self, *args: Any, complete: bool = False, language: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.complete = complete
        labels = {item.field: item.label for item in (*items.HADS, *items.SF12)}
        labels.update(wordings(language or get_language() or "en"))
        for field in HADS_FIELDS:
            self.fields[field] = _integer(labels[field], hads.ITEM_MIN, hads.ITEM_MAX)
        for item, field in zip(sf12.ITEMS, SF12_FIELDS, strict=True):
            self.fields[field] = _integer(labels[field], 1, sf12.RANGES[item])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        present = {k: v for k, v in cleaned.items() if k not in self.errors}
        for field, message in questionnaire_errors(present, complete=self.complete).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        for instrument, fields in (
            ("nprs", ("nprs_mean", "nprs_max")),
            ("hads", HADS_FIELDS),
            ("sf12", SF12_FIELDS),
        ):
            reason = cleaned.get(f"{instrument}_missing_reason")
            if reason and any(cleaned.get(f) is not None for f in fields):
                self.add_error(
                    f"{instrument}_missing_reason",
                    _("Give a reason only when the whole questionnaire is missing."),
                )
        return cleaned
