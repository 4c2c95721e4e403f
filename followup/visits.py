"""The visits at which the MADRS and the SF-MPQ are rated, until studies are defined as data.

The services take the allowed visit codes as a parameter (``followup.services.assessments``);
the pages and the API ask ``assessment_visits`` for them. Today every patient is offered the
visits of the Lan et al. 2022 trial (``docs/lan2022.md``): baseline before the first infusion,
the morning after each of the six infusions, and day 26; the SF-MPQ at baseline only. Once a
patient's study holds its visits, this function returns those instead, and nothing else moves.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext_lazy as _

MADRS: Final = "madrs"
SF_MPQ: Final = "sf_mpq"
INSTRUMENTS: Final[tuple[str, ...]] = (MADRS, SF_MPQ)

# Code and label of each visit of the Lan et al. 2022 trial, in order.
LAN2022_VISITS: Final[tuple[tuple[str, Any], ...]] = (
    ("BL", _("Baseline (before the first infusion)")),
    ("I1", _("Morning after infusion 1")),
    ("I2", _("Morning after infusion 2")),
    ("I3", _("Morning after infusion 3")),
    ("I4", _("Morning after infusion 4")),
    ("I5", _("Morning after infusion 5")),
    ("I6", _("Morning after infusion 6")),
    ("D26", _("Day 26")),
)
_COLLECTED: Final[dict[str, tuple[str, ...]]] = {
    MADRS: tuple(code for code, _label in LAN2022_VISITS),
    SF_MPQ: ("BL",),
}


def assessment_visits(patient: Any, instrument: str) -> tuple[str, ...]:
    """Return the codes of the visits at which ``instrument`` is rated for ``patient``, in order."""
    return _COLLECTED[instrument]


def visit_label(code: str) -> str:
    """Return the label of a visit code in the reader's language (the code if unknown)."""
    return str(dict(LAN2022_VISITS).get(code, code))
