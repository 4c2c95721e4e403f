"""Why a questionnaire value is absent: item reasons, score reasons, reasons of calls not made.

Pure Python, no Django. Every blank item of a completed call carries one code of
``MISSING_REASONS``, stored apart from the value (never a sentinel number). A score that cannot be
computed takes its reason from its blank items. The values of a call that was not made get their
reason from the call's status and the patient's, derived when read, never stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Final

from cohort import vocabulary as voc
from followup.instruments import hads, nprs, sf12

REASONS: Final[tuple[str, ...]] = voc.codes(voc.MISSING_REASONS)
NOT_APPLICABLE: Final = "not_applicable"
# Reasons that are not missing data: the value does not exist to be measured.
NOT_MISSING: Final[frozenset[str]] = frozenset({NOT_APPLICABLE})

NPRS_FIELDS: Final = (nprs.MEAN_FIELD, nprs.MAX_FIELD)
HADS_FIELDS: Final = tuple(hads.field_name(n) for n in hads.ITEMS)
SF12_FIELDS: Final = tuple(sf12.field_name(item) for item in sf12.ITEMS)
INSTRUMENT_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "nprs": NPRS_FIELDS,
    "hads": HADS_FIELDS,
    "sf12": SF12_FIELDS,
}
ITEM_FIELDS: Final = NPRS_FIELDS + HADS_FIELDS + SF12_FIELDS

# The items each analysed score is computed from, and the instrument it belongs to.
SCORE_ITEMS: Final[dict[str, tuple[str, ...]]] = {
    "nprs_mean": (nprs.MEAN_FIELD,),
    "nprs_max": (nprs.MAX_FIELD,),
    "hads_a": tuple(hads.field_name(n) for n in hads.ANXIETY_ITEMS),
    "hads_d": tuple(hads.field_name(n) for n in hads.DEPRESSION_ITEMS),
    "sf12_pcs": SF12_FIELDS,
    "sf12_mcs": SF12_FIELDS,
}
SCORE_INSTRUMENT: Final[dict[str, str]] = {
    "nprs_mean": "nprs",
    "nprs_max": "nprs",
    "hads_a": "hads",
    "hads_d": "hads",
    "sf12_pcs": "sf12",
    "sf12_mcs": "sf12",
}

# The reason of every value of a call that was not made, by call status.
_CALL_STATUS_REASON: Final[dict[str, str]] = {
    "unreachable": "unreachable",
    "refused": "refused",
    "withdrawn": "refused",
}
# A call closed because the patient left: the reason follows why the patient left.
_CLOSED_REASON: Final[dict[str, str]] = {
    "lost": "lost",
    "withdrawn": "refused",
    "deceased": NOT_APPLICABLE,
}


def reason_field(field: str) -> str:
    """Return the name of the reason of a value, e.g. ``hads_3_missing_reason``."""
    return f"{field}_missing_reason"


def instrument_of(field: str) -> str:
    """Return the instrument of an item field (``nprs``, ``hads`` or ``sf12``)."""
    for instrument, fields in INSTRUMENT_FIELDS.items():
        if field in fields:
            return instrument
    raise KeyError(field)


def resolve(
    values: Mapping[str, object],
    item_reasons: Mapping[str, str],
    instrument_reason: str,
    fields: Iterable[str],
) -> dict[str, str]:
    """Return the reason of every blank item of ``fields``: its own, else the instrument's.

    A blank item with neither is left out; answered items never get a reason.
    """
    resolved: dict[str, str] = {}
    for field in fields:
        if values.get(field) is not None:
            continue
        reason = item_reasons.get(field) or instrument_reason
        if reason:
            resolved[field] = reason
    return resolved


def summary_reason(reasons: Iterable[str]) -> str | None:
    """Return the reason shared by most of ``reasons`` (ties in vocabulary order), or None."""
    counts = Counter(reason for reason in reasons if reason)
    if not counts:
        return None
    return max(counts, key=lambda reason: (counts[reason], -_rank(reason)))


def _rank(reason: str) -> int:
    return REASONS.index(reason) if reason in REASONS else len(REASONS)


def score_reason(score: str, item_reasons: Mapping[str, str], instrument_reason: str) -> str | None:
    """Return why a score of a reached call is missing, from the reasons of its blank items.

    Call it only for a missing score: a score computed despite a blank item (a prorated HADS
    subscale) has a value, and the item keeps its own reason.
    """
    given = [item_reasons[field] for field in SCORE_ITEMS[score] if item_reasons.get(field)]
    return summary_reason(given) or instrument_reason or None


def call_reason(call_status: str, patient_status: str) -> str | None:
    """Return why every value of a call not made is absent; None for a reached or due call."""
    if call_status == "closed":
        return _CLOSED_REASON.get(patient_status, NOT_APPLICABLE)
    return _CALL_STATUS_REASON.get(call_status)
