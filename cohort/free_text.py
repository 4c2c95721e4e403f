"""The free text of clinical rows that can carry identifiers, classed once.

A reason, a note or the description of an "other" is typed by site staff and may hold a name or
a phone number. Every surface treats these fields like the identifiers: shown to the roles that
see identifiers (nurses and clinicians of the patient's site), replaced by ``HIDDEN`` for the
others on the pages and the history, left out of the administration site's forms and history
for them, left out of the API for them (``private_text_fields`` of the serializers), never
exported, never logged. The reasons typed for a change (the history's reason) are free text
too; the services' own reasons (``cohort.audit.SYSTEM_REASONS``) are not.

tests/test_free_text.py enumerates every text field of every clinical model: each is either
here or in ``NOT_FREE_TEXT`` with why, and each field here is checked on every surface.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.identifiers import sees_identifiers

FREE_TEXT: dict[str, tuple[str, ...]] = {
    "cohort.Patient": ("status_reason", "call_note"),
    "cohort.KetamineAdministration": ("void_reason",),
    "cohort.PatientLock": ("unlock_reason",),
    "cohort.Signature": ("void_reason",),
    "followup.FollowUpCall": ("status_reason", "notes"),
    "followup.CallAttempt": ("note",),
    "followup.LostProposalDismissal": ("reason",),
    "followup.AdverseEvent": ("void_reason", "other_text"),
    "followup.ConcomitantTreatment": ("void_reason", "name", "other_text"),
    "followup.MadrsAssessment": ("void_reason",),
    "followup.SfMpqAssessment": ("void_reason",),
    "safety.SafetyAlert": ("assessment",),
}

# Text fields of clinical models that are not typed free text about a patient, and why.
NOT_FREE_TEXT: dict[str, str] = {
    "cohort.Study.code": "the study's code, set by the data managers",
    "cohort.Study.name": "the study's name",
    "cohort.Site.code": "the site's code, set by the study",
    "cohort.Site.name": "the clinic's name",
    "cohort.Site.city": "the clinic's city",
    "cohort.Patient.study_code": "the pseudonymous study code",
    "cohort.Patient.call_days": "weekday codes",
    "cohort.PatientContact.first_name": "an identifier (encrypted, cohort.PatientContact)",
    "cohort.PatientContact.last_name": "an identifier (encrypted, cohort.PatientContact)",
    "cohort.PatientContact.phone": "an identifier (encrypted, cohort.PatientContact)",
    "cohort.PatientContact.phone_alt": "an identifier (encrypted, cohort.PatientContact)",
    "cohort.PatientContact.preferred_call_time": "kept with the identifiers (PatientContact)",
    "cohort.EnrolmentKey.key": "a client's idempotency key",
    "cohort.EnrolmentKey.fingerprint": "a digest of the enrolment",
    "cohort.Signature.signer_name": "the signing clinician's name, study staff",
    "cohort.Signature.meaning": "the fixed wording of the signature",
    "cohort.Signature.voided_change": "the code of the change that voided it",
    "followup.ConcomitantTreatment.code": "a drug-class code",
    "followup.ItemWording.field": "a questionnaire field name",
    "followup.MadrsAssessment.visit_code": "a visit code of the study",
    "followup.MadrsAssessment.rater": "the rater's name or initials, study staff",
    "followup.SfMpqAssessment.visit_code": "a visit code of the study",
    "followup.ItemWording.text": "the wording of a questionnaire item",
    "followup.ItemWording.source": "the licence of a questionnaire",
    "quality.Query.field": "a field name",
    "quality.Query.text": "a data manager's query to the site, written for the study staff",
    "quality.Query.template": "a rule's template code",
    "quality.Query.value_at_raise": "the queried value (numbers and dates)",
    "quality.Query.rule": "a rule code",
    "quality.Query.key": "a rule's key",
    "quality.QueryMessage.text": "the exchange between a data manager and the site",
    "safety.ExpectedEffect.source": "the reference of the study's list of expected effects",
}

HIDDEN = _("(free text, hidden)")


def free_text_fields(model: Any) -> tuple[str, ...]:
    """Return the free-text fields of a model (or of the model a history row is about)."""
    instance_type = getattr(model, "instance_type", None) or model
    return FREE_TEXT.get(instance_type._meta.label, ())


def shown(value: Any, user: Any) -> Any:
    """Return the value for a user who sees identifiers, else ``HIDDEN`` (blank stays blank)."""
    if not value:
        return value
    return value if sees_identifiers(user) else HIDDEN


# Eight digits or more, with spaces, dots, dashes or slashes between them: a phone number.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s./-]*\d){7,}")


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"\w+", text.casefold()) if len(word) > 1}


def names_the_patient(text: str, patient: Any) -> bool:
    """Say whether a text typed about a patient holds their last name or a phone number.

    For the typed fields that every role reads (``NOT_FREE_TEXT``, e.g. a rater's name): a word
    of the patient's last name, or eight digits or more, make it an identifier.
    """
    if _PHONE_LIKE.search(text):
        return True
    contact = getattr(patient, "contact", None)
    if contact is None:
        return False
    return bool(_words(contact.last_name or "") & _words(text))


# Inputs of the call page whose stored value is free text (cohort.free_text).
FREE_TEXT_INPUTS = ("note", "ae_other_text", "nondrug_other_text")


class _BlankInput(forms.TextInput):
    """A text input that never writes the stored value into the page."""

    def format_value(self, value: Any) -> None:
        return None


def hide_free_text(form: forms.Form, user: Any, names: tuple[str, ...] = FREE_TEXT_INPUTS) -> None:
    """For a user who may not see identifiers, make a form's free-text inputs blank and read
    only: the page does not show the stored text, and a save keeps it as it is (a disabled
    field takes its initial value, whatever is posted)."""
    if sees_identifiers(user):
        return
    # The drug names of the treatment table: drug_<code>_name, one per drug class.
    drug_names = [n for n in form.fields if n.startswith("drug_") and n.endswith("_name")]
    for name in (*names, *drug_names):
        field = form.fields.get(name)
        if field is not None:
            field.disabled = True
            field.widget = _BlankInput(attrs={"placeholder": str(HIDDEN)})
