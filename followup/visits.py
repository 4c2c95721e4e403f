"""The visits at which a patient's study rates the MADRS and the SF-MPQ.

A study's definition (``trials/definitions/<key>.json``, ``docs/studies.md``) names the
instruments collected at each of its visits; the services take the allowed visit codes as a
parameter (``followup.services.assessments``) and the pages and the API ask
``assessment_visits`` for them. A patient whose study rates neither (the first study) is
offered no visit, so nothing can be recorded for them.
"""

from __future__ import annotations

from typing import Any, Final

from django.utils.translation import gettext

from trials import definitions
from trials.definitions import Mode, StudyDefinition

MADRS: Final = "madrs"
SF_MPQ: Final = "sf_mpq"
INSTRUMENTS: Final[tuple[str, ...]] = (MADRS, SF_MPQ)
# The name each instrument has in the study definitions (``trials.definitions.INSTRUMENTS``).
DEFINITION_NAMES: Final[dict[str, str]] = {MADRS: "MADRS", SF_MPQ: "SFMPQ"}


def visits_rating(protocol: StudyDefinition, instrument: str) -> tuple[str, ...]:
    """Return the codes of a study's visits at which ``instrument`` is rated, in order."""
    name = DEFINITION_NAMES[instrument]
    return tuple(v.code for v in protocol.visits if name in v.instruments)


def completing_instruments(protocol: StudyDefinition, code: str) -> tuple[str, ...]:
    """Return the rated instruments that complete a visit (``madrs``, ``sf_mpq``), in order.

    A hospital visit whose definition names only rated instruments is done when they are all
    recorded; any other visit (a phone call, the first study's baseline) returns ``()`` and is
    completed on the call's page.
    """
    visit = next((v for v in protocol.visits if v.code == code), None)
    if visit is None or visit.mode != Mode.HOSPITAL or not visit.instruments:
        return ()
    keys = {name: key for key, name in DEFINITION_NAMES.items()}
    if any(name not in keys for name in visit.instruments):
        return ()
    return tuple(key for key in INSTRUMENTS if DEFINITION_NAMES[key] in visit.instruments)


def assessment_visits(patient: Any, instrument: str) -> tuple[str, ...]:
    """Return the codes of the visits at which ``instrument`` is rated for ``patient``, in order."""
    return visits_rating(patient.study.protocol, instrument)


def rates_any(patient: Any) -> bool:
    """Say whether the patient's study rates the MADRS or the SF-MPQ at some visit."""
    return any(assessment_visits(patient, instrument) for instrument in INSTRUMENTS)


def visit_label(code: str) -> str:
    """Return the label of a visit code in the reader's language (the code if unknown)."""
    label = definitions.labels().get(code)
    return gettext(label) if label else code
