"""Template filters of the analysis pages: P values written one way, codes shown as labels."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.utils import formats, translation
from django.utils.translation import gettext

from analytics.stats import pvalues
from cohort import vocabulary as voc

register = template.Library()
# A count over its denominator with a percentage, as analytics.report.shaping.fraction writes it.
SHARE = re.compile(r"(?P<n>\d+)/(?P<of>\d+)( \(\d+(\.\d+)?%\))?")

# Vocabularies whose codes the analysis pages show, by the name the templates use.
VOCABULARIES: dict[str, voc.Vocabulary] = {
    "drug": voc.DRUG_CLASSES,
    "non_drug": voc.NON_DRUG_TREATMENTS,
    "adverse_effect": voc.ADVERSE_EFFECTS,
    "timepoint": voc.TIMEPOINTS,
    "etiology": voc.ETIOLOGIES,
    "missing_reason": voc.MISSING_REASONS,
}


def p_style() -> dict[str, Any]:
    """Return the decimal mark and leading-zero choice of the active language."""
    language = translation.get_language() or "en"
    return {
        "decimal": str(formats.get_format("DECIMAL_SEPARATOR")),
        "leading_zero": not language.startswith("en"),
    }


@register.filter
def pvalue(value: Any) -> str:
    """Write a P value in JAMA style (``<.001``, ``.004``, ``.04``); an en dash if unknown."""
    try:
        return pvalues.format_p(value, **p_style()) or "–"
    except (TypeError, ValueError):
        return "–"


@register.filter
def p_equals(value: Any) -> str:
    """Write ``P = .04`` or ``P < .001`` in JAMA style."""
    try:
        return pvalues.p_phrase(value, **p_style())
    except (TypeError, ValueError):
        return "P = –"


@register.filter
def code_label(code: Any, vocabulary: str) -> str:
    """Show a stored code as its translated label (the code itself if unknown)."""
    labels = dict(VOCABULARIES[vocabulary])
    text = labels.get(str(code))
    return gettext(text) if text else str(code)


@register.filter
def day(value: Any) -> str:
    """Write a report's ISO day ("2026-12-07") as the reader's language writes a short date.

    A report stores its days as ISO text (JSON); anything that is not one is shown as it is.
    """
    try:
        parsed = dt.date.fromisoformat(str(value))
    except ValueError:
        return "" if value is None else str(value)
    return formats.date_format(parsed, "SHORT_DATE_FORMAT")


@register.filter
def share(value: Any) -> str:
    """Write a stored "n/N (x.y%)" with the reader's decimal mark ("17/52 (32,7%)" in French).

    The report keeps the paper's form of a count over its denominator (for the replication
    panel); the percentage is written as the cells beside it are. Anything else is shown as it is.
    """
    match = SHARE.fullmatch(str(value))
    if match is None:
        return "" if value is None else str(value)
    n, of = int(match["n"]), int(match["of"])
    if not of:
        return f"{n}/{of}"
    # number_format cuts the digits it drops: round first, as the stored text was.
    return f"{n}/{of} ({formats.number_format(round(100.0 * n / of, 1), 1)}%)"
