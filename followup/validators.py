"""Questionnaire rules written once, called by the forms, the API serializers and the services.

Field names are those of the exports: ``nprs_mean``, ``nprs_max``, ``hads_1``..``hads_14``,
``sf12_gh1``..``sf12_sf2``. Every problem is returned at once, keyed by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from cohort import vocabulary as voc
from followup.instruments import hads, missing, nprs, sf12

NPRS_FIELDS = (nprs.MEAN_FIELD, nprs.MAX_FIELD)
HADS_FIELDS = tuple(hads.field_name(n) for n in range(1, 15))
SF12_FIELDS = tuple(sf12.field_name(item) for item in sf12.ITEMS)
QUESTIONNAIRE_FIELDS = NPRS_FIELDS + HADS_FIELDS + SF12_FIELDS
INSTRUMENT_REASON_FIELDS = tuple(f"{name}_missing_reason" for name in missing.INSTRUMENT_FIELDS)
ITEM_REASON_FIELDS = tuple(missing.reason_field(field) for field in QUESTIONNAIRE_FIELDS)
REASON_FIELDS = INSTRUMENT_REASON_FIELDS + ITEM_REASON_FIELDS


def hads_answers(data: Mapping[str, Any]) -> dict[int, Any]:
    """Return the HADS answers of a flat mapping, keyed by item number."""
    return {n: data.get(hads.field_name(n)) for n in range(1, 15)}


def sf12_answers(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the SF-12 answers of a flat mapping, keyed by standard item name."""
    return {item: data.get(sf12.field_name(item)) for item in sf12.ITEMS}


def questionnaire_errors(data: Mapping[str, Any], *, complete: bool = False) -> dict[str, str]:
    """Return every problem of a flat questionnaire mapping as {field: message}.

    Ranges and types are always checked, and the missing-data reasons (``missing_reason_errors``):
    with ``complete``, every blank item needs a reason.
    """
    errors: dict[str, str] = {}
    errors.update(
        nprs.validate_pair(data.get(nprs.MEAN_FIELD), data.get(nprs.MAX_FIELD), required=False)
    )
    errors.update(hads.validate_answers(hads_answers(data)))
    errors.update(sf12.validate_answers(sf12_answers(data)))
    for field, message in missing_reason_errors(data, complete=complete).items():
        errors.setdefault(field, message)
    return errors


def missing_reason_errors(data: Mapping[str, Any], *, complete: bool = False) -> dict[str, str]:
    """Return the problems of the missing-data reasons of a flat mapping, keyed by field.

    ``<instrument>_missing_reason`` applies to every blank item of the instrument and
    ``<item>_missing_reason`` (``hads_3_missing_reason``) overrides it for one item. A reason is
    refused for an answered item, and an instrument's reason when nothing is blank. With
    ``complete``, a blank item without a reason is refused, the message beside the item.
    """
    errors: dict[str, str] = {}
    for instrument, fields in missing.INSTRUMENT_FIELDS.items():
        name = f"{instrument}_missing_reason"
        instrument_reason = data.get(name) or ""
        if instrument_reason and instrument_reason not in missing.REASONS:
            errors[name] = _("Unknown reason %(code)s.") % {"code": instrument_reason}
        blank = [field for field in fields if data.get(field) is None]
        if instrument_reason and not blank:
            errors[name] = _("Every answer is given: remove the reason.")
        for field in fields:
            reason = data.get(missing.reason_field(field)) or ""
            if reason and reason not in missing.REASONS:
                errors[missing.reason_field(field)] = _("Unknown reason %(code)s.") % {
                    "code": reason
                }
            elif reason and field not in blank:
                errors[missing.reason_field(field)] = _("This item is answered: remove the reason.")
            elif complete and field in blank and not (reason or instrument_reason):
                errors[field] = _("Give the answer, or why it is missing.")
    return errors


def item_reasons(data: Mapping[str, Any], instrument: str) -> dict[str, str]:
    """Return the reason of each blank item of an instrument: its own, else the instrument's."""
    fields = missing.INSTRUMENT_FIELDS[instrument]
    own = {field: data.get(missing.reason_field(field)) or "" for field in fields}
    return missing.resolve(data, own, data.get(f"{instrument}_missing_reason") or "", fields)


def adverse_event_errors(entries: list[Mapping[str, Any]]) -> dict[str, str]:
    """Return the problems of the adverse effects ticked at a call, keyed by call-form field.

    Each entry has ``type``, ``severity``, ``serious`` and ``other_text``; every ticked effect
    needs a severity, and "other" needs a description.
    """
    errors: dict[str, str] = {}
    types = voc.codes(voc.ADVERSE_EFFECTS)
    severities = voc.codes(voc.SEVERITIES)
    for entry in entries:
        kind = entry.get("type")
        if kind not in types:
            errors["adverse_events"] = _("Unknown adverse effect %(type)s.") % {"type": kind}
            continue
        if entry.get("severity") not in severities:
            errors[f"ae_{kind}_severity"] = _("Give the severity of this adverse effect.")
        if kind == "other" and not str(entry.get("other_text") or "").strip():
            errors["ae_other_text"] = _("Describe the adverse effect when its type is Other.")
    return errors


def treatment_errors(entries: list[Mapping[str, Any]]) -> dict[str, str]:
    """Return the problems of the treatments ticked at a call, keyed by call-form field."""
    errors: dict[str, str] = {}
    known = {"drug": voc.codes(voc.DRUG_CLASSES), "non_drug": voc.codes(voc.NON_DRUG_TREATMENTS)}
    for entry in entries:
        kind, code = entry.get("kind"), entry.get("code")
        if kind not in known or code not in known[str(kind)]:
            errors["treatments"] = _("Unknown treatment %(code)s.") % {"code": code}
        elif kind == "non_drug" and code == "other" and not str(entry.get("other_text")).strip():
            errors["nondrug_other_text"] = _("Describe the other non-drug treatment.")
    return errors


def live_scores(data: Mapping[str, Any]) -> dict[str, Any]:
    """Score what has been answered so far: HADS subscales and bands, SF-12 PCS and MCS.

    Answers that are missing or out of range are left out (the form reports them); a subscale
    or summary the scoring rules cannot compute yet is None. Also counts the answered items.
    """
    hads_given = {n: v for n, v in hads_answers(data).items() if not hads.validate_answers({n: v})}
    sf12_given = {
        item: v for item, v in sf12_answers(data).items() if not sf12.validate_answers({item: v})
    }
    hads_score = hads.score(hads_given)
    sf12_score = sf12.score(sf12_given)
    return {
        "hads_answered": sum(v is not None for v in hads_given.values()),
        "sf12_answered": sum(v is not None for v in sf12_given.values()),
        "hads": hads_score,
        "sf12": sf12_score,
    }
