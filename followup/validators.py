"""Questionnaire rules written once, called by the forms, the API serializers and the services.

Field names are those of the exports: ``nprs_mean``, ``nprs_max``, ``hads_1``..``hads_14``,
``sf12_gh1``..``sf12_sf2``. Every problem is returned at once, keyed by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from followup.instruments import hads, nprs, sf12

NPRS_FIELDS = (nprs.MEAN_FIELD, nprs.MAX_FIELD)
HADS_FIELDS = tuple(hads.field_name(n) for n in range(1, 15))
SF12_FIELDS = tuple(sf12.field_name(item) for item in sf12.ITEMS)
QUESTIONNAIRE_FIELDS = NPRS_FIELDS + HADS_FIELDS + SF12_FIELDS


def hads_answers(data: Mapping[str, Any]) -> dict[int, Any]:
    """Return the HADS answers of a flat mapping, keyed by item number."""
    return {n: data.get(hads.field_name(n)) for n in range(1, 15)}


def sf12_answers(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the SF-12 answers of a flat mapping, keyed by standard item name."""
    return {item: data.get(sf12.field_name(item)) for item in sf12.ITEMS}


def questionnaire_errors(data: Mapping[str, Any], *, complete: bool = False) -> dict[str, str]:
    """Return every problem of a flat questionnaire mapping as {field: message}.

    Ranges and types are always checked; with ``complete`` the NPRS is required too (HADS and
    SF-12 may miss items: the scoring rules handle missing items, and a reason is recorded).
    """
    errors: dict[str, str] = {}
    errors.update(
        nprs.validate_pair(data.get(nprs.MEAN_FIELD), data.get(nprs.MAX_FIELD), required=complete)
    )
    errors.update(hads.validate_answers(hads_answers(data)))
    errors.update(sf12.validate_answers(sf12_answers(data)))
    return errors
