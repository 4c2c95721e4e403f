"""Forms of the MADRS and the SF-MPQ rated at a visit, entered from the keyboard.

As on the call page (``followup.forms.CallEntryForm``): each rating is a group of radio buttons
whose codes are digits, so a digit key picks the answer and moves to the next item
(``static/js/call-entry.js``); Enter moves on instead of submitting. The labels are the neutral
ones (``followup.instruments.items``) unless the study loaded the licensed wording.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cohort.clinical import REASON_MAX_LENGTH
from followup.forms import _integer, _loaded_wordings, _radio_choices
from followup.instruments import items, sf_mpq
from followup.models import VisitAssessment
from followup.validators import (
    MADRS_FIELDS,
    SF_MPQ_FIELDS,
    madrs_errors,
    sf_mpq_errors,
)


class AssessmentForm(forms.Form):
    """The date of a rated assessment and its answers; a correction also needs its reason.

    ``editing``: the assessment is already recorded, so the form asks for the reason for the
    change and carries the version it was loaded at (a change saved meanwhile is refused).
    """

    assessed_on = forms.DateField(
        label=_("Date of the assessment"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    reason = forms.CharField(
        label=_("Reason for the change"), required=False, max_length=REASON_MAX_LENGTH
    )

    LABELS: tuple[items.ItemLabel, ...] = ()
    FIELDS: tuple[str, ...] = ()

    def __init__(
        self, *args: Any, editing: bool = False, language: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        texts, answers = _loaded_wordings(language or get_language() or "en")
        for item in self.LABELS:
            label = texts.get(item.field) or _(item.label)
            last = item.first_code + item.options - 1
            field = _integer(label, item.first_code, last)
            if item.options <= 10:  # one digit per answer: radio buttons
                field.widget = forms.RadioSelect(
                    choices=_radio_choices(item, answers.get(item.field))
                )
            self.fields[item.field] = field
        if editing:
            self.fields["version"].required = True
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def problems(self, data: dict[str, Any]) -> dict[str, str]:
        """Return the instrument's problems (``followup.validators``), as the services do."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        present = {k: v for k, v in cleaned.items() if k not in self.errors}
        for field, message in self.problems(present).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def answers(self) -> dict[str, Any]:
        """Return the answers, flat, with the field names the services take."""
        return {name: self.cleaned_data.get(name) for name in self.FIELDS}

    def item_fields(self) -> list[forms.BoundField]:
        """Return the bound fields of the items, in the order of the questionnaire."""
        return [self[name] for name in self.FIELDS if name in self.fields]


class MadrsForm(AssessmentForm):
    """The MADRS: the rater, and ten ratings 0 to 6."""

    rater = forms.CharField(
        label=_("Rater (name or initials)"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    LABELS = items.MADRS
    FIELDS = MADRS_FIELDS

    def problems(self, data: dict[str, Any]) -> dict[str, str]:
        return madrs_errors(data)

    def answers(self) -> dict[str, Any]:
        return super().answers() | {"rater": self.cleaned_data.get("rater") or ""}


class SfMpqForm(AssessmentForm):
    """The SF-MPQ: fifteen descriptors 0 to 3, the pain VAS in mm, the present pain intensity."""

    LABELS = items.SF_MPQ
    FIELDS = SF_MPQ_FIELDS

    def problems(self, data: dict[str, Any]) -> dict[str, str]:
        return sf_mpq_errors(data)

    def sensory_fields(self) -> list[forms.BoundField]:
        return [self[sf_mpq.field_name(n)] for n in sf_mpq.SENSORY]

    def affective_fields(self) -> list[forms.BoundField]:
        return [self[sf_mpq.field_name(n)] for n in sf_mpq.AFFECTIVE]

    def intensity_fields(self) -> list[forms.BoundField]:
        return [self[sf_mpq.VAS_FIELD], self[sf_mpq.PPI_FIELD]]


FORMS: dict[str, type[AssessmentForm]] = {"madrs": MadrsForm, "sf_mpq": SfMpqForm}


def assessment_initial(assessment: VisitAssessment) -> dict[str, Any]:
    """Return the values of a recorded assessment, as its form shows them for a correction."""
    initial: dict[str, Any] = assessment.item_values()
    initial |= {"assessed_on": assessment.assessed_on, "version": assessment.version}
    rater = getattr(assessment, "rater", None)
    if rater is not None:
        initial["rater"] = rater
    return initial


class AssessmentVoidForm(forms.Form):
    """Void an assessment entered in error: the reason (wrong patient, wrong visit) is needed."""

    void_reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("For example: entered for the wrong patient or the wrong visit."),
    )
