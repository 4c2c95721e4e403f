"""The clinician's acknowledgement of a safety alert."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.models import _choices


class AcknowledgeForm(forms.Form):
    """Causality confirmed or changed, the action taken, and a short assessment."""

    relation = forms.ChoiceField(
        label=_("Relation to ketamine"),
        choices=_choices(voc.AE_RELATIONS),
        widget=forms.RadioSelect,
    )
    action_taken = forms.ChoiceField(
        label=_("Action taken"), choices=[("", "—"), *_choices(voc.AE_ACTIONS)]
    )
    assessment = forms.CharField(
        label=_("Assessment"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you concluded and did; no names or other identifiers."),
    )
