"""Write P values one way everywhere: JAMA style (AMA Manual of Style, 11th ed., 19.5).

* below .001: ``<.001``;
* below .01: three decimals (``.004``);
* otherwise two decimals (``.04``, ``.56``), except where two decimals would read as .05 or
  above for a P below .05 (``.046`` stays ``.046``, not ``.05``);
* above .99: ``>.99``.

No leading zero in English (a P value cannot exceed 1). The pages pass their language's
decimal mark; French keeps the leading zero (``0,04``), as French journals write it.
Pure Python: the report, the monitoring sentences, the pages and the exports all call this.
"""

from __future__ import annotations

import math

SIGNIFICANCE = 0.05


def _digits(p: float) -> int:
    if p < 0.01:
        return 3
    if p < SIGNIFICANCE and round(p, 2) >= SIGNIFICANCE:
        return 3  # .046 must not print as .05
    return 2


def format_p(p: float | None, *, decimal: str = ".", leading_zero: bool = False) -> str | None:
    """Return ``p`` as text (``"<.001"``, ``".004"``, ``".04"``, ``">.99"``); None if unknown."""
    if p is None:
        return None
    p = float(p)
    if not math.isfinite(p) or p < 0 or p > 1:
        return None
    if p < 0.001:
        sign, text = "<", "0.001"
    elif p > 0.99:
        sign, text = ">", "0.99"
    else:
        sign, text = "", f"{p:.{_digits(p)}f}"
    if not leading_zero:
        text = text.removeprefix("0")
    return sign + text.replace(".", decimal)


def p_phrase(p: float | None, *, decimal: str = ".", leading_zero: bool = False) -> str:
    """Return ``"P = .04"``, ``"P < .001"`` or ``"P > .99"`` (an en dash when unknown)."""
    text = format_p(p, decimal=decimal, leading_zero=leading_zero)
    if text is None:
        return "P = –"
    if text[0] in "<>":
        return f"P {text[0]} {text[1:]}"
    return f"P = {text}"
