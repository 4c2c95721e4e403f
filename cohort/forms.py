"""Forms of the cohort: enrolment, ketamine administrations, leaving the follow-up."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.call_times import WEEKDAYS as ISO_WEEKDAYS
from cohort.clinical import REASON_MAX_LENGTH
from cohort.services import (
    PAIN_HISTORY_FIELDS,
    call_times_errors,
    eligibility_errors,
    pain_history_errors,
    site_eligibility_errors,
)


def _choices(vocabulary: voc.Vocabulary) -> list[tuple[str, str]]:
    return [(code, _(text)) for code, text in vocabulary]


_BLANK = [("", "—")]
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class AdministrationForm(forms.Form):
    """One ketamine administration: a daily dose (mg or mg/kg) given on consecutive days."""

    date = forms.DateField(label=_("Date (first day)"), widget=_DATE)
    route = forms.ChoiceField(label=_("Route"), choices=_BLANK + _choices(voc.ROUTES))
    dose_unit = forms.ChoiceField(label=_("Dose unit"), choices=_choices(voc.DOSE_UNITS))
    dose_value = forms.DecimalField(
        label=_("Daily dose"), min_value=0, max_digits=8, decimal_places=3, localize=True
    )
    days = forms.IntegerField(label=_("Number of days"), min_value=1, max_value=60, initial=1)
    infusion_minutes = forms.IntegerField(
        label=_("Infusion length (minutes)"), required=False, min_value=1, max_value=24 * 60
    )

    def values(self, prefix: str = "") -> dict[str, Any]:
        """Return the cleaned values for ``administration_record``."""
        skipped = {"reason", "seen"}
        return {name: self.cleaned_data[name] for name in self.fields if name not in skipped}


class AdministrationEditForm(AdministrationForm):
    """A change to a recorded administration: the reason is required.

    ``seen`` carries when the row was last saved as the editor saw it, so that a change made
    meanwhile by someone else is not overwritten.
    """

    reason = forms.CharField(label=_("Reason for the change"), max_length=REASON_MAX_LENGTH)
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def seen_at(self) -> dt.datetime | None:
        """Return when the row was last saved as the editor saw it, if the page said."""
        try:
            return dt.datetime.fromisoformat(self.cleaned_data.get("seen") or "")
        except ValueError:
            return None


class PatientEnrolForm(forms.Form):
    """Enrolment: eligibility, identifiers (kept apart), baseline history, first administration."""

    site = forms.ChoiceField(label=_("Site"))
    sex = forms.ChoiceField(label=_("Sex"), choices=_choices(voc.SEXES), widget=forms.RadioSelect)
    age = forms.IntegerField(label=_("Age (years)"), min_value=0, max_value=120)
    inclusion_date = forms.DateField(label=_("Inclusion date"), widget=_DATE)
    consent_date = forms.DateField(
        label=_("Non-opposition form signed on"), widget=_DATE, required=False
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"), min_value=20, max_value=350, decimal_places=1, localize=True
    )
    last_name = forms.CharField(label=_("Last name"), max_length=120)
    first_name = forms.CharField(label=_("First name"), max_length=120)
    phone = forms.CharField(label=_("Phone"), max_length=40)
    phone_alt = forms.CharField(label=_("Other phone"), max_length=40, required=False)
    etiology = forms.ChoiceField(
        label=_("Pain etiology"), choices=_BLANK + _choices(voc.ETIOLOGIES)
    )
    pain_duration_months = forms.IntegerField(
        label=_("Pain duration (months)"), min_value=0, max_value=1200
    )
    comorbidities = forms.MultipleChoiceField(
        label=_("Medical history"),
        choices=_choices(voc.COMORBIDITIES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    ketamine_naive = forms.NullBooleanField(
        label=_("Never received ketamine before"),
        widget=forms.Select(choices=[("unknown", "—"), ("true", _("Yes")), ("false", _("No"))]),
        required=False,
    )
    dn4 = forms.IntegerField(label=_("DN4 score (0-10)"), min_value=0, max_value=10, required=False)
    paroxysms_per_day = forms.IntegerField(
        label=_("Pain paroxysms per day"), min_value=0, max_value=500, required=False
    )
    # One token per form shown: the same form sent twice enrols one patient (a double click,
    # the page sent again after "back").
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = uuid.uuid4().hex
        self.sites = {str(site.pk): site for site in sites.select_related("study")}
        self.fields["site"].choices = [(pk, str(site)) for pk, site in self.sites.items()]
        if len(self.sites) == 1:
            self.fields["site"].initial = next(iter(self.sites))
        # The sites whose study collects the chronic pain history: the fields are asked only
        # there. With sites of both kinds, the site chosen decides (the page hides the fields
        # for the others); with none, the fields are not on the form at all.
        self.pain_sites = {
            pk for pk, site in self.sites.items() if site.study.protocol.collects_pain_history
        }
        self.fields["site"].widget.attrs["data-pain-history-sites"] = " ".join(
            sorted(self.pain_sites)
        )
        if not self.pain_sites:
            for name in _PAIN_FIELDS:
                del self.fields[name]
        elif self.pain_sites != set(self.sites):
            self.fields["etiology"].required = False
            self.fields["pain_duration_months"].required = False

    @property
    def asks_pain_history(self) -> bool:
        """Say whether the form holds the chronic pain fields (some site collects them)."""
        return bool(self.pain_sites)

    @property
    def pain_history_mixed(self) -> bool:
        """Say whether only some of the user's sites collect the chronic pain history."""
        return bool(self.pain_sites) and self.pain_sites != set(self.sites)

    def _collects_pain_history(self, site_pk: str | None) -> bool:
        if site_pk in self.sites:
            return site_pk in self.pain_sites
        return self.pain_sites == set(self.sites)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        site = self.sites.get(cleaned.get("site") or "")
        values = {
            "age": cleaned.get("age"),
            "pain_duration_months": cleaned.get("pain_duration_months"),
            "consent_date": cleaned.get("consent_date"),
            "inclusion_date": cleaned.get("inclusion_date"),
        }
        if site is None:
            chronic_pain = self._collects_pain_history(None)
            problems = eligibility_errors(chronic_pain=chronic_pain, **values)
        else:
            problems = site_eligibility_errors(site, **values)
        if site is not None and self.asks_pain_history:
            given = {name: cleaned.get(name) for name in _PAIN_FIELDS}
            problems = pain_history_errors(site, **given) | problems
        for field, message in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        fibromyalgia = cleaned.get("etiology") in voc.DN4_NOT_ASKED_FOR
        if fibromyalgia and cleaned.get("dn4") is not None and "dn4" not in self.errors:
            self.add_error("dn4", _("DN4 is not asked for fibromyalgia."))
        return cleaned

    def values(self) -> dict[str, Any]:
        """Return the cleaned values for ``patient_enrol``."""
        values = dict(self.cleaned_data)
        values.pop("submission", None)
        values["site"] = self.sites[values["site"]]
        values["phone_alt"] = values.get("phone_alt") or ""
        if not self._collects_pain_history(self.cleaned_data["site"]):
            # Nothing of the pain history goes to a study that does not collect it.
            for name in _PAIN_FIELDS:
                values.pop(name, None)
        elif values.get("dn4") is None and values.get("etiology") not in voc.DN4_NOT_ASKED_FOR:
            values["dn4_missing_reason"] = "not_asked"
        return values


# The enrolment form's chronic pain fields (its DN4 missing reason is derived, not asked).
_PAIN_FIELDS = tuple(name for name in PAIN_HISTORY_FIELDS if name != "dn4_missing_reason")


class PatientStatusForm(forms.Form):
    """The patient leaves the follow-up (or completes it): the remaining calls are closed."""

    status = forms.ChoiceField(
        label=_("New status"),
        choices=_BLANK + [c for c in _choices(voc.PATIENT_STATUSES) if c[0] != "active"],
    )
    date = forms.DateField(label=_("Date"), widget=_DATE)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH, required=False)


class PatientUnlockForm(forms.Form):
    """A data manager unlocks a follow-up, saying why."""

    reason = forms.CharField(
        label=_("Reason for unlocking"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("A change after unlocking voids the clinician's signature."),
    )


class SignatureForm(forms.Form):
    """A clinician signs a locked follow-up by typing their password again."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


LOCK_FILTERS = [
    ("", _("Any")),
    ("ready", _("Ready to lock")),
    ("locked", _("Locked")),
    ("unsigned", _("Locked, awaiting signature")),
    ("signed", _("Signed")),
]


class PatientFilterForm(forms.Form):
    """Search and filters of the patient list (every field optional)."""

    q = forms.CharField(label=_("Study code"), required=False, max_length=20)
    site = forms.ModelChoiceField(label=_("Site"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *_choices(voc.PATIENT_STATUSES)]
    )
    group = forms.ChoiceField(label=_("Pain trajectory"), required=False)
    flagged = forms.BooleanField(label=_("Calls to review only"), required=False)
    lock = forms.ChoiceField(label=_("Lock and sign-off"), required=False, choices=LOCK_FILTERS)

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["site"].empty_label = _("All my sites")  # type: ignore[attr-defined]
        self.fields["group"].choices = [  # type: ignore[attr-defined]
            ("", _("Any")),
            ("T1_lesser_pain", _("T1 lesser pain")),
            ("T2_moderate_pain", _("T2 moderate pain")),
            ("T3_severe_pain", _("T3 severe pain")),
        ]


class CallTimesForm(forms.Form):
    """When the patient prefers to be called: hours, weekdays, a short note (all optional)."""

    call_from = forms.TimeField(label=_("Call from"), required=False, widget=_TIME)
    call_to = forms.TimeField(label=_("Call until"), required=False, widget=_TIME)
    call_days = forms.TypedMultipleChoiceField(
        label=_("Days"),
        choices=[(day, WEEKDAYS[day - 1]) for day in ISO_WEEKDAYS],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: any day."),
    )
    call_note = forms.CharField(
        label=_("Note on calling"),
        max_length=200,
        required=False,
        help_text=_("For example: after her physiotherapy. No names or phone numbers here."),
    )

    @classmethod
    def initial_for(cls, patient: Any) -> dict[str, Any]:
        """Return the form's initial values from a patient."""
        return {
            "call_from": patient.call_from,
            "call_to": patient.call_to,
            "call_days": patient.call_weekdays(),
            "call_note": patient.call_note,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        problems = call_times_errors(
            call_from=cleaned.get("call_from"),
            call_to=cleaned.get("call_to"),
            days=cleaned.get("call_days") or [],
        )
        for field, message in problems.items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def enrolment_values(self) -> dict[str, Any]:
        """Return the cleaned values as ``patient_enrol`` takes them."""
        values = self.values()
        return {
            "call_from": values["call_from"],
            "call_to": values["call_to"],
            "call_days": values["days"],
            "call_note": values["note"],
        }

    def values(self) -> dict[str, Any]:
        """Return the cleaned values for ``patient_set_call_times``."""
        data = self.cleaned_data
        return {
            "call_from": data["call_from"],
            "call_to": data["call_to"],
            "days": list(data["call_days"] or []),
            "note": data["call_note"] or "",
        }
