"""Questionnaire rules written once, called by the forms, the API serializers and the services.

Field names are those of the exports: ``nprs_mean``, ``nprs_max``, ``hads_1``..``hads_14``,
``sf12_gh1``..``sf12_sf2``. Every problem is returned at once, keyed by field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.utils.translation import gettext as _

from cohort import plausible
from cohort import vocabulary as voc
from followup.instruments import hads, madrs, missing, nprs, sf12, sf_mpq

NPRS_FIELDS = (nprs.MEAN_FIELD, nprs.MAX_FIELD)
HADS_FIELDS = tuple(hads.field_name(n) for n in range(1, 15))
SF12_FIELDS = tuple(sf12.field_name(item) for item in sf12.ITEMS)
QUESTIONNAIRE_FIELDS = NPRS_FIELDS + HADS_FIELDS + SF12_FIELDS
INSTRUMENT_REASON_FIELDS = tuple(f"{name}_missing_reason" for name in missing.INSTRUMENT_FIELDS)
ITEM_REASON_FIELDS = tuple(missing.reason_field(field) for field in QUESTIONNAIRE_FIELDS)
REASON_FIELDS = INSTRUMENT_REASON_FIELDS + ITEM_REASON_FIELDS
MADRS_FIELDS = tuple(madrs.field_name(n) for n in madrs.ITEMS)
SF_MPQ_DESCRIPTOR_FIELDS = tuple(sf_mpq.field_name(n) for n in sf_mpq.DESCRIPTORS)
SF_MPQ_FIELDS = (*SF_MPQ_DESCRIPTOR_FIELDS, sf_mpq.VAS_FIELD, sf_mpq.PPI_FIELD)


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

    Each entry has ``type``, ``severity``, ``serious`` and ``other_text``, and may have
    ``criteria``, ``start_date``, ``outcome`` and ``resolution_date``; every ticked effect needs
    a severity, "other" needs a description, and the record's rules apply
    (``adverse_event_record_errors``).
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
        for field, message in adverse_event_record_errors(entry, prefix=f"ae_{kind}_").items():
            errors.setdefault(field, message)
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


# The adverse-effect record (initial report and its follow-up), written once: the call form,
# the effect's own form, the API serializers and the services call ``adverse_event_record_errors``
# and the model turns ``adverse_event_constraints`` into the database's CHECK constraints.
CRITERION_FIELDS = tuple(f"criterion_{code}" for code in voc.codes(voc.SERIOUSNESS_CRITERIA))


def adverse_event_record_errors(
    values: Mapping[str, Any], *, prefix: str = "", today: Any = None
) -> dict[str, str]:
    """Return every problem of one adverse-effect record as {prefix + field: message}.

    ``values`` holds the model's field names; ``criteria`` (a list of criterion codes) may stand
    for the ``criterion_*`` booleans. A serious effect needs at least one ICH E2A criterion and a
    criterion makes it serious; a resolution date needs a resolved outcome and is not before the
    onset; both dates are plausible (not in the future, not before the study).
    """
    errors: dict[str, str] = {}
    criteria = _criteria(values)
    if values.get("serious") and not criteria:
        errors["criteria"] = _("A serious effect needs at least one seriousness criterion.")
    elif criteria and not values.get("serious"):
        errors["criteria"] = _("A seriousness criterion makes the effect serious: tick Serious.")
    unknown = set(criteria) - set(voc.codes(voc.SERIOUSNESS_CRITERIA))
    if unknown:
        errors["criteria"] = _("Unknown seriousness criterion %(code)s.") % {
            "code": sorted(unknown)[0]
        }
    for field, vocabulary in (("relation", voc.AE_RELATIONS), ("action_taken", voc.AE_ACTIONS)):
        if values.get(field) and values[field] not in voc.codes(vocabulary):
            errors[field] = _("Unknown value %(code)s.") % {"code": values[field]}
    outcome = values.get("outcome") or ""
    if outcome and outcome not in voc.codes(voc.AE_OUTCOMES):
        errors["outcome"] = _("Unknown value %(code)s.") % {"code": outcome}
    onset, resolved = values.get("start_date"), values.get("resolution_date")
    errors |= plausible.date_errors(onset, field="start_date", today=today)
    errors |= plausible.date_errors(resolved, field="resolution_date", today=today)
    if resolved is not None and "resolution_date" not in errors:
        if outcome not in voc.AE_RESOLVED_OUTCOMES:
            errors["resolution_date"] = _(
                "A resolution date needs a resolved outcome (recovered, with or without "
                "sequelae, or fatal)."
            )
        elif onset is not None and resolved < onset:
            errors["resolution_date"] = _("The resolution is before the onset of the effect.")
    return {prefix + field: message for field, message in errors.items()}


def _criteria(values: Mapping[str, Any]) -> list[str]:
    if values.get("criteria") is not None:
        return list(values["criteria"])
    return [field.removeprefix("criterion_") for field in CRITERION_FIELDS if values.get(field)]


def adverse_event_constraints() -> list[Any]:
    """Return the database's CHECK constraints of the adverse-effect record (the rules above)."""
    from django.db import models
    from django.db.models import F, Q
    from django.utils.translation import gettext_lazy

    any_criterion = Q()
    for field in CRITERION_FIELDS:
        any_criterion |= Q(**{field: True})
    resolved = voc.AE_RESOLVED_OUTCOMES
    return [
        models.CheckConstraint(
            condition=Q(serious=False, **dict.fromkeys(CRITERION_FIELDS, False))
            | (Q(serious=True) & any_criterion),
            name="ae_serious_has_criterion",
            violation_error_message=gettext_lazy(
                "A serious effect needs at least one seriousness criterion."
            ),
        ),
        models.CheckConstraint(
            condition=Q(resolution_date__isnull=True) | Q(outcome__in=resolved),
            name="ae_resolution_needs_resolved_outcome",
            violation_error_message=gettext_lazy("A resolution date needs a resolved outcome."),
        ),
        models.CheckConstraint(
            condition=Q(resolution_date__isnull=True)
            | Q(start_date__isnull=True)
            | Q(resolution_date__gte=F("start_date")),
            name="ae_resolution_not_before_onset",
            violation_error_message=_("The resolution is before the onset of the effect."),
        ),
        models.CheckConstraint(
            condition=Q(outcome__in=voc.codes(voc.AE_OUTCOMES))
            & (Q(relation="") | Q(relation__in=voc.codes(voc.AE_RELATIONS)))
            & (Q(action_taken="") | Q(action_taken__in=voc.codes(voc.AE_ACTIONS))),
            name="ae_codes_valid",
        ),
    ]


# The MADRS and the SF-MPQ, rated at a study's visits: flat mappings with the field names of the
# forms and the API (``madrs_3``, ``sf_mpq_12``, ``sf_mpq_vas``, ``sf_mpq_ppi``).


def madrs_answers(data: Mapping[str, Any]) -> dict[int, Any]:
    """Return the MADRS ratings of a flat mapping, keyed by item number."""
    return {n: data.get(madrs.field_name(n)) for n in madrs.ITEMS}


def sf_mpq_descriptors(data: Mapping[str, Any]) -> dict[int, Any]:
    """Return the SF-MPQ descriptor ratings of a flat mapping, keyed by descriptor number."""
    return {n: data.get(sf_mpq.field_name(n)) for n in sf_mpq.DESCRIPTORS}


def madrs_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """Return every problem of a MADRS rating as {field: message}: ranges, and nothing rated."""
    errors = madrs.validate_answers(madrs_answers(data))
    if all(data.get(field) is None for field in MADRS_FIELDS):
        errors[MADRS_FIELDS[0]] = _("Rate the items: nothing is rated.")
    return errors


def sf_mpq_errors(data: Mapping[str, Any]) -> dict[str, str]:
    """Return every problem of an SF-MPQ as {field: message}: ranges, and nothing answered."""
    errors = sf_mpq.validate(
        sf_mpq_descriptors(data), data.get(sf_mpq.VAS_FIELD), data.get(sf_mpq.PPI_FIELD)
    )
    if all(data.get(field) is None for field in SF_MPQ_FIELDS):
        errors[SF_MPQ_FIELDS[0]] = _("Answer the questionnaire: nothing is answered.")
    return errors


def visit_code_errors(
    code: str, allowed: Collection[str], *, field: str = "visit_code"
) -> dict[str, str]:
    """Return the problem of a visit code that is not one of the ``allowed`` visits."""
    if code in allowed:
        return {}
    if not allowed:
        # A patient of a study that never rates the instrument (the first study's patients).
        return {field: _("This patient's study does not rate this questionnaire at any visit.")}
    return {
        field: _("%(code)s is not a visit of this patient's study (its visits: %(visits)s).")
        % {"code": code or "–", "visits": ", ".join(allowed) or "–"}
    }
