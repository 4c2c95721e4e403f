"""The visit labels of the study definitions, marked for translation.

``makemessages`` reads Python, not JSON: each label a definition file gives that
``cohort.vocabulary.TIMEPOINTS`` does not already carry is repeated here with an identity
``_()``, so that the catalogue keeps it and the pages show it translated.
``tests/trials/test_definitions.py`` fails on a label missing here.
"""

from __future__ import annotations


def _(text: str) -> str:
    """Mark a label for translation: makemessages collects it, the pages translate it."""
    return text


LABELS: tuple[str, ...] = (
    _("Morning after infusion 1 (day 1)"),
    _("Morning after infusion 2 (day 3)"),
    _("Morning after infusion 3 (day 5)"),
    _("Morning after infusion 4 (day 8)"),
    _("Morning after infusion 5 (day 10)"),
    _("Morning after infusion 6 (day 12)"),
    _("Day 26"),
)
