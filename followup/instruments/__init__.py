"""Scoring and validation of the questionnaires: HADS, SF-12, NPRS, DN4, MADRS and SF-MPQ.

Pure Python, no Django: forms, API serializers, exports and the analyses all call these
functions. Import the instrument modules themselves (``from followup.instruments import hads``).
"""

from __future__ import annotations

import numbers


def as_integer(value: object) -> int | None:
    """Return ``value`` as an int if it is a whole number, else None.

    Accept ints (numpy ones too) and floats without a fractional part; reject bools, strings,
    fractional or non-finite floats and everything else.
    """
    # bool is an int subclass, but a ticked checkbox is never a valid item score.
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    # Raw JSON or a spreadsheet may carry 3.0 for 3; is_integer() is False for inf and nan.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
