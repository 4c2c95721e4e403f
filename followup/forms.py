"""Forms of the follow-up: the questionnaires of a call (baseline or telephone)."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cohort import vocabulary as voc
from cohort.clinical import REASON_MAX_LENGTH
from followup.instruments import hads, items, missing, sf12
from followup.models import ItemWording
from followup.validators import (
    HADS_FIELDS,
    QUESTIONNAIRE_FIELDS,
    REASON_FIELDS,
    SF12_FIELDS,
    adverse_event_errors,
    questionnaire_errors,
    treatment_errors,
)

logger = logging.getLogger(__name__)

_MISSING_CHOICES = [("", "—"), *((code, _(text)) for code, text in voc.MISSING_REASONS)]


def _integer(label: Any, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": low, "max": high}),
    )


# Every call form needs the wordings of its language; they change only when a data manager
# loads them, which forgets the cached copy (followup.signals). Read again after this long.
WORDINGS_CACHE_SECONDS = 600


def _wordings_key(language: str) -> str:
    return f"item-wordings:{language.split('-')[0]}"


def wordings_forget(language: str) -> None:
    """Forget the cached wordings of a language, so that the next form reads them again.

    Now and once more when the transaction commits: a form built meanwhile read the old rows.
    """
    wordings_cache_clear(language)
    transaction.on_commit(lambda: wordings_cache_clear(language))


def wordings_cache_clear(language: str) -> None:
    """Remove the cached wordings of a language."""
    try:
        cache.delete(_wordings_key(language))
    except Exception as error:  # the cache's errors vary by backend
        logger.error("Could not forget the cached item wordings (%s): %s", language, error)


def _loaded_wordings(language: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Return the licensed wordings loaded for a language: item texts, and answer texts, each
    keyed by field name."""
    key = _wordings_key(language)
    try:
        found = cache.get(key)
    except Exception as error:
        logger.warning("Cache unavailable, reading the item wordings: %s", error)
        found = None
    if found is not None:
        return found
    rows = ItemWording.objects.filter(language=language.split("-")[0])
    loaded: tuple[dict[str, str], dict[str, list[str]]] = ({}, {})
    for field, text, options in rows.values_list("field", "text", "options"):
        loaded[0][field] = text
        if options:
            loaded[1][field] = options
    try:
        cache.set(key, loaded, timeout=WORDINGS_CACHE_SECONDS)
    except Exception as error:
        logger.warning("Cache unavailable, not keeping the item wordings: %s", error)
    return loaded


class QuestionnaireForm(forms.Form):
    """NPRS, HADS (keyed scores 0-3) and SF-12 (codes as on the form) of one call.

    Range checks come from the field bounds and, once more, from the shared validators, so that
    the form, the API and the database refuse the same answers with the same messages. Each item
    has a ``<item>_missing_reason`` select; ``<instrument>_missing_reason`` covers every blank
    item of the instrument.
    """

    nprs_mean = _integer(_("Mean pain (0-10)"), 0, 10)
    nprs_max = _integer(_("Maximal pain (0-10)"), 0, 10)
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
        texts, self.answer_wordings = _loaded_wordings(language or get_language() or "en")
        # The neutral labels in the user's language, unless the study loaded licensed wordings.
        labels: dict[str, Any] = {item.field: _(item.label) for item in (*items.HADS, *items.SF12)}
        labels.update(texts)
        for field in HADS_FIELDS:
            self.fields[field] = _integer(labels[field], hads.ITEM_MIN, hads.ITEM_MAX)
        for item, field in zip(sf12.ITEMS, SF12_FIELDS, strict=True):
            self.fields[field] = _integer(labels[field], 1, sf12.RANGES[item])
        for field in QUESTIONNAIRE_FIELDS:
            # Beside each item, out of the keyboard's answer-to-answer path (call-entry.js).
            self.fields[missing.reason_field(field)] = forms.ChoiceField(
                label=format_lazy("{}: {}", self.fields[field].label, _("why missing")),
                choices=_MISSING_CHOICES,
                required=False,
                widget=forms.Select(attrs={"class": "item-reason", "data-skip-focus": ""}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        present = {k: v for k, v in cleaned.items() if k not in self.errors}
        for field, message in questionnaire_errors(present, complete=self.complete).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def item_reason(self, field: str) -> forms.BoundField:
        """Return the bound reason field of one item."""
        return self[missing.reason_field(field)]


def _radio_choices(item: items.ItemLabel, wording: list[str] | None) -> list[tuple[int, str]]:
    codes = range(item.first_code, item.first_code + item.options)
    if wording:
        return [(code, f"{code} – {text}") for code, text in zip(codes, wording, strict=True)]
    return [(code, str(code)) for code in codes]


def _choices(vocabulary: voc.Vocabulary) -> list[tuple[str, str]]:
    return [(code, _(text)) for code, text in vocabulary]


_BLANK = [("", "—")]


class CallEntryForm(QuestionnaireForm):
    """Everything said during one telephone call, in the order of the interview.

    The outcome of the attempt comes first; the questionnaires are radio buttons (a digit key
    picks an answer); then adverse effects since the last call, treatments (pre-filled from
    the last call), and a ketamine administration given since the last call, if any.
    """

    outcome = forms.ChoiceField(
        label=_("Outcome of this attempt"),
        choices=_choices(voc.ATTEMPT_OUTCOMES),
        widget=forms.RadioSelect,
        required=False,
    )
    note = forms.CharField(
        label=_("Note on the attempt"), required=False, max_length=500, widget=forms.TextInput
    )
    call_date = forms.DateField(
        label=_("Date of the call"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("Reason for the change"), required=False, max_length=REASON_MAX_LENGTH
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    ae_other_text = forms.CharField(label=_("Describe the other effect"), required=False)
    nondrug_other_text = forms.CharField(label=_("Describe the other treatment"), required=False)
    admin_date = forms.DateField(
        label=_("Date (first day)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    admin_route = forms.ChoiceField(
        label=_("Route"), choices=_BLANK + _choices(voc.ROUTES), required=False
    )
    admin_dose_unit = forms.ChoiceField(
        label=_("Dose unit"), choices=_BLANK + _choices(voc.DOSE_UNITS), required=False
    )
    admin_dose_value = forms.DecimalField(
        label=_("Daily dose"), required=False, min_value=0, max_digits=8, decimal_places=3
    )
    admin_days = forms.IntegerField(
        label=_("Number of days"), required=False, min_value=1, max_value=60
    )
    admin_infusion_minutes = forms.IntegerField(
        label=_("Infusion length (minutes)"), required=False, min_value=1, max_value=24 * 60
    )

    def __init__(self, *args: Any, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, language=language, **kwargs)
        for item in (*items.HADS, *items.SF12):
            field = self.fields[item.field]
            wording = self.answer_wordings.get(item.field)
            field.widget = forms.RadioSelect(choices=_radio_choices(item, wording))
        for code, label in voc.ADVERSE_EFFECTS:
            self.fields[f"ae_{code}"] = forms.BooleanField(label=_(label), required=False)
            self.fields[f"ae_{code}_severity"] = forms.ChoiceField(
                label=format_lazy("{}: {}", _(label), _("severity")),
                choices=_choices(voc.SEVERITIES),
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[f"ae_{code}_serious"] = forms.BooleanField(
                label=_("Serious"), required=False
            )
            self.fields[f"ae_{code}_criteria"] = forms.MultipleChoiceField(
                label=format_lazy("{}: {}", _(label), _("seriousness criteria")),
                choices=_choices(voc.SERIOUSNESS_CRITERIA),
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )
            self.fields[f"ae_{code}_start_date"] = forms.DateField(
                label=format_lazy("{}: {}", _(label), _("onset date")),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields[f"ae_{code}_outcome"] = forms.ChoiceField(
                label=format_lazy("{}: {}", _(label), _("outcome")),
                choices=_BLANK + _choices(voc.AE_OUTCOMES),
                required=False,
            )
            self.fields[f"ae_{code}_resolution_date"] = forms.DateField(
                label=format_lazy("{}: {}", _(label), _("resolution date")),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
        for code, label in voc.DRUG_CLASSES:
            self.fields[f"drug_{code}"] = forms.BooleanField(label=_(label), required=False)
            self.fields[f"drug_{code}_name"] = forms.CharField(
                label=_("Drug name"), required=False, max_length=120
            )
        for code, label in voc.NON_DRUG_TREATMENTS:
            self.fields[f"nondrug_{code}"] = forms.BooleanField(label=_(label), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The rules the service applies, run here too so that every problem shows at once.
        problems = {
            **self.unticked_detail_errors(),
            **adverse_event_errors(self.adverse_events()),
            **treatment_errors(self.treatments()),
        }
        for field, message in problems.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def unticked_detail_errors(self) -> dict[str, str]:
        """Return the details typed beside a box left unticked: each would be lost, so refused.

        A drug's name without its class, a severity or "serious" without the effect, a
        description of "other" without ticking it, a number of days without an administration.
        """
        data = self.cleaned_data
        errors: dict[str, str] = {}
        for code in voc.codes(voc.DRUG_CLASSES):
            if (data.get(f"drug_{code}_name") or "").strip() and not data.get(f"drug_{code}"):
                errors[f"drug_{code}_name"] = str(_("Tick the class or clear the name."))
        for code in voc.codes(voc.ADVERSE_EFFECTS):
            if data.get(f"ae_{code}"):
                continue
            if data.get(f"ae_{code}_severity"):
                errors[f"ae_{code}_severity"] = str(_("Tick the effect or clear its severity."))
            if data.get(f"ae_{code}_serious"):
                errors[f"ae_{code}_serious"] = str(_("Tick the effect or untick Serious."))
            for part in ("criteria", "start_date", "outcome", "resolution_date"):
                if data.get(f"ae_{code}_{part}"):
                    errors[f"ae_{code}_{part}"] = str(_("Tick the effect or clear this detail."))
        if (data.get("ae_other_text") or "").strip() and not data.get("ae_other"):
            errors["ae_other_text"] = str(_("Tick Other or clear the description."))
        if (data.get("nondrug_other_text") or "").strip() and not data.get("nondrug_other"):
            errors["nondrug_other_text"] = str(_("Tick Other or clear the description."))
        if data.get("admin_days") is not None and self.administration() is None:
            errors["admin_days"] = str(_("Give the administration, or clear the number of days."))
        return errors

    def hads_rows(self) -> list[dict[str, forms.BoundField]]:
        """Return each HADS item with the reason given when it is blank."""
        return [{"field": self[f], "reason": self.item_reason(f)} for f in HADS_FIELDS]

    def sf12_rows(self) -> list[dict[str, forms.BoundField]]:
        """Return each SF-12 item with the reason given when it is blank."""
        return [{"field": self[f], "reason": self.item_reason(f)} for f in SF12_FIELDS]

    def adverse_effect_rows(self) -> list[dict[str, Any]]:
        """Return the bound fields of each adverse effect of the checklist."""
        return [
            {
                "code": code,
                "ticked": self[f"ae_{code}"],
                "severity": self[f"ae_{code}_severity"],
                "serious": self[f"ae_{code}_serious"],
                "criteria": self[f"ae_{code}_criteria"],
                "start_date": self[f"ae_{code}_start_date"],
                "outcome": self[f"ae_{code}_outcome"],
                "resolution_date": self[f"ae_{code}_resolution_date"],
            }
            for code in voc.codes(voc.ADVERSE_EFFECTS)
        ]

    def drug_rows(self) -> list[dict[str, Any]]:
        """Return the bound fields of each drug class."""
        return [
            {"code": code, "ticked": self[f"drug_{code}"], "name": self[f"drug_{code}_name"]}
            for code in voc.codes(voc.DRUG_CLASSES)
        ]

    def non_drug_fields(self) -> list[forms.BoundField]:
        return [self[f"nondrug_{code}"] for code in voc.codes(voc.NON_DRUG_TREATMENTS)]

    def administration_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in (
                "admin_date",
                "admin_route",
                "admin_dose_unit",
                "admin_dose_value",
                "admin_days",
                "admin_infusion_minutes",
            )
        ]

    def questionnaire_data(self) -> dict[str, Any]:
        """Return the flat questionnaire answers for the services."""
        data: dict[str, Any] = {name: self.cleaned_data.get(name) for name in QUESTIONNAIRE_FIELDS}
        for key in REASON_FIELDS:
            data[key] = self.cleaned_data.get(key) or ""
        return data

    def adverse_events(self) -> list[dict[str, Any]]:
        """Return the ticked adverse effects for the services."""
        return [
            {
                "type": code,
                "severity": self.cleaned_data.get(f"ae_{code}_severity") or "",
                "serious": bool(self.cleaned_data.get(f"ae_{code}_serious")),
                "other_text": self.cleaned_data.get("ae_other_text") or "",
                "criteria": list(self.cleaned_data.get(f"ae_{code}_criteria") or []),
                "start_date": self.cleaned_data.get(f"ae_{code}_start_date"),
                "outcome": self.cleaned_data.get(f"ae_{code}_outcome") or "",
                "resolution_date": self.cleaned_data.get(f"ae_{code}_resolution_date"),
            }
            for code in voc.codes(voc.ADVERSE_EFFECTS)
            if self.cleaned_data.get(f"ae_{code}")
        ]

    def treatments(self) -> list[dict[str, Any]]:
        """Return the ticked drug classes and non-drug treatments for the services."""
        rows: list[dict[str, Any]] = [
            {
                "kind": "drug",
                "code": code,
                "name": self.cleaned_data.get(f"drug_{code}_name") or "",
                "other_text": "",
            }
            for code in voc.codes(voc.DRUG_CLASSES)
            if self.cleaned_data.get(f"drug_{code}")
        ]
        rows += [
            {
                "kind": "non_drug",
                "code": code,
                "name": "",
                "other_text": (self.cleaned_data.get("nondrug_other_text") or "")
                if code == "other"
                else "",
            }
            for code in voc.codes(voc.NON_DRUG_TREATMENTS)
            if self.cleaned_data.get(f"nondrug_{code}")
        ]
        return rows

    def administration(self) -> dict[str, Any] | None:
        """Return the new administration entered, or None when its fields are all empty."""
        values = {
            "date": self.cleaned_data.get("admin_date"),
            "route": self.cleaned_data.get("admin_route") or "",
            "dose_unit": self.cleaned_data.get("admin_dose_unit") or "",
            "dose_value": self.cleaned_data.get("admin_dose_value"),
            "days": self.cleaned_data.get("admin_days") or 1,
            "infusion_minutes": self.cleaned_data.get("admin_infusion_minutes"),
        }
        filled = [k for k, v in values.items() if v not in (None, "") and k != "days"]
        return values if filled else None


def call_initial(call: Any, previous_treatments: list[Any]) -> dict[str, Any]:
    """Return the initial values of the call page: saved answers, else the last treatments."""
    initial: dict[str, Any] = {
        "version": call.version,
        "call_date": call.call_date or timezone.localdate(),
        # A draft keeps the note typed for the attempt still to log.
        "note": call.notes if call.is_open else "",
    }
    for name in missing.INSTRUMENT_FIELDS:
        row = getattr(call, name, None)
        if row is not None:
            initial.update(row.item_values())
            initial[f"{name}_missing_reason"] = row.missing_reason
            for field, reason in (row.item_reasons or {}).items():
                if reason != row.missing_reason:
                    initial[missing.reason_field(field)] = reason
    for ae in call.adverse_events.all():
        if ae.voided_at is None:
            initial[f"ae_{ae.type}"] = True
            initial[f"ae_{ae.type}_severity"] = ae.severity
            initial[f"ae_{ae.type}_serious"] = ae.serious
            initial[f"ae_{ae.type}_criteria"] = ae.criteria
            initial[f"ae_{ae.type}_start_date"] = ae.start_date
            initial[f"ae_{ae.type}_outcome"] = ae.outcome
            initial[f"ae_{ae.type}_resolution_date"] = ae.resolution_date
            if ae.type == "other":
                initial["ae_other_text"] = ae.other_text
    current = [t for t in call.treatments.all() if t.voided_at is None]
    for treatment in current or previous_treatments:
        prefix = "drug" if treatment.kind == "drug" else "nondrug"
        initial[f"{prefix}_{treatment.code}"] = True
        if treatment.kind == "drug" and treatment.name:
            initial[f"drug_{treatment.code}_name"] = treatment.name
        if treatment.kind == "non_drug" and treatment.code == "other":
            initial["nondrug_other_text"] = treatment.other_text
    return initial


class MarkLostForm(forms.Form):
    """The data manager confirms a proposal: the patient is lost to follow-up from this date."""

    date = forms.DateField(
        label=_("Lost to follow-up on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )


class DismissProposalForm(forms.Form):
    """The data manager keeps a proposed patient in follow-up, saying why."""

    reason = forms.CharField(
        label=_("Why keep following"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
