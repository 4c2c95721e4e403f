"""The form of the depression study's baseline: the pain group, suicidality, the treatments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cohort.clinical import REASON_MAX_LENGTH
from followup.models import PAIN_GROUPS, DepressionBaseline
from followup.models.baseline import MAX_ANTIDEPRESSANTS

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
FLAGS = ("suicidality", "mood_stabilisers", "benzodiazepines", "antipsychotics")


def _yes_no(label: Any) -> forms.TypedChoiceField:
    # Required, so that an unanswered question is refused rather than stored as "no".
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )


class DepressionBaselineForm(forms.Form):
    """Every answer of the baseline; a correction also needs its reason and carries a version."""

    pain_group = forms.ChoiceField(
        label=_("Pain group (the investigator's classification)"),
        choices=[(code, _(label)) for code, label in PAIN_GROUPS],
        widget=forms.RadioSelect,
    )
    suicidality = _yes_no(_("Suicidal ideation"))
    antidepressants = forms.IntegerField(
        label=_("Number of antidepressants taken"), min_value=0, max_value=MAX_ANTIDEPRESSANTS
    )
    mood_stabilisers = _yes_no(_("Mood stabilisers"))
    benzodiazepines = _yes_no(_("Benzodiazepines"))
    antipsychotics = _yes_no(_("Antipsychotics"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    reason = forms.CharField(
        label=_("Reason for the change"), required=False, max_length=REASON_MAX_LENGTH
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["version"].required = True
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def answers(self) -> dict[str, Any]:
        """Return the values the service takes."""
        names = ("pain_group", "antidepressants", *FLAGS)
        return {name: self.cleaned_data[name] for name in names}


def baseline_initial(row: DepressionBaseline) -> dict[str, Any]:
    """Return the form's initial values from a recorded baseline."""
    initial: dict[str, Any] = {
        "pain_group": row.pain_group,
        "antidepressants": row.antidepressants,
        "version": row.version,
    }
    return initial | {flag: "yes" if getattr(row, flag) else "no" for flag in FLAGS}
