"""Follow-up calls, their attempts, and the answers collected at baseline and at each call.

Baseline (in hospital) and each telephone call are one ``FollowUpCall`` row per patient and
timepoint, so that every questionnaire hangs off the same kind of row. Raw item answers are
stored; scores are derived by ``followup.instruments`` and stored beside them for fast reads.

One module per part: ``calls`` (the calls, their windows as filters, the attempts), ``responses``
(NPRS, HADS, SF-12 and their missing reasons), ``assessments`` (the MADRS and SF-MPQ rated
at a study's visits), ``baseline`` (the depression study's baseline), ``events`` (adverse
effects, concomitant treatments) and ``wording`` (the licensed item wording). Importing the
package registers every model; every name is importable from ``followup.models``.
"""

from followup.models.calls import (
    TIMEPOINT_LABELS,
    TIMEPOINT_ORDER,
    CallAttempt,
    FollowUpCall,
    LostProposalDismissal,
    window_closed_by,
    window_contains,
    window_opened_by,
)

# The models register in this order, the order they were written in.
# isort: split
from followup.models.responses import (
    HADS_ITEM_FIELDS,
    SF12_ITEM_FIELDS,
    HadsResponse,
    MissingReasonMixin,
    NprsResponse,
    Sf12Response,
)

# isort: split
from followup.models.events import AdverseEvent, ConcomitantTreatment

# isort: split
from followup.models.wording import ItemWording

# isort: split
from followup.models.assessments import (
    MADRS_ITEM_FIELDS,
    SF_MPQ_DESCRIPTOR_FIELDS,
    VISIT_CODE_MAX_LENGTH,
    MadrsAssessment,
    SfMpqAssessment,
    VisitAssessment,
)

# isort: split
from followup.models.baseline import PAIN_GROUPS, DepressionBaseline

__all__ = [
    "HADS_ITEM_FIELDS",
    "MADRS_ITEM_FIELDS",
    "PAIN_GROUPS",
    "SF12_ITEM_FIELDS",
    "SF_MPQ_DESCRIPTOR_FIELDS",
    "TIMEPOINT_LABELS",
    "TIMEPOINT_ORDER",
    "VISIT_CODE_MAX_LENGTH",
    "AdverseEvent",
    "CallAttempt",
    "ConcomitantTreatment",
    "DepressionBaseline",
    "FollowUpCall",
    "HadsResponse",
    "ItemWording",
    "LostProposalDismissal",
    "MadrsAssessment",
    "MissingReasonMixin",
    "NprsResponse",
    "Sf12Response",
    "SfMpqAssessment",
    "VisitAssessment",
    "window_closed_by",
    "window_contains",
    "window_opened_by",
]
