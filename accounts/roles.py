"""The four roles of the study team, kept as Django groups."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A role is the name of a Django group; a user normally has exactly one."""

    NURSE = "nurse"
    CLINICIAN = "clinician"
    STATISTICIAN = "statistician"
    DATA_MANAGER = "data_manager"


# Roles whose members see patient identifiers (name, phone) of their own sites.
SEES_IDENTIFIERS = frozenset({Role.NURSE, Role.CLINICIAN})
# Roles scoped to their own sites; the others see every site.
SITE_SCOPED = frozenset({Role.NURSE, Role.CLINICIAN})
