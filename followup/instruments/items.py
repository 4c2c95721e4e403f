"""Neutral item labels and option counts of the questionnaires, as plain data.

The HADS and SF-12 wordings are copyrighted and licensed per study, so the code carries only
short neutral labels naming the topic of each item. Forms render these labels; the licensed
French wording can be loaded later as data, keyed by the same field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ItemLabel:
    """One questionnaire item: field name, neutral label and its answer codes.

    The answer codes run from ``first_code`` to ``first_code + options - 1``.
    """

    field: str
    label: str
    options: int
    first_code: int


# HADS answers are stored as keyed scores 0..3 (see hads.key_item for the printed order).
HADS: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(field=f"hads_{number}", label=f"HADS {number} - {topic}", options=4, first_code=0)
    for number, topic in (
        (1, "tension (A)"),
        (2, "enjoyment of usual things (D)"),
        (3, "sense of foreboding (A)"),
        (4, "laughter and seeing the funny side (D)"),
        (5, "worrying thoughts (A)"),
        (6, "cheerfulness (D)"),
        (7, "ability to relax (A)"),
        (8, "feeling slowed down (D)"),
        (9, "anxious bodily sensations (A)"),
        (10, "interest in own appearance (D)"),
        (11, "restlessness (A)"),
        (12, "looking forward to things (D)"),
        (13, "sudden panic (A)"),
        (14, "enjoyment of leisure activities (D)"),
    )
)

# SF-12 answers are stored as the codes numbered on the form, starting at 1.
SF12: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(
        field=f"sf12_{code.lower()}", label=f"SF-12 {code} - {topic}", options=n, first_code=1
    )
    for code, topic, n in (
        ("GH1", "general health", 5),
        ("PF02", "moderate activities limited", 3),
        ("PF04", "climbing several flights of stairs limited", 3),
        ("RP2", "accomplished less (physical health)", 2),
        ("RP3", "limited in kind of work (physical health)", 2),
        ("RE2", "accomplished less (emotional problems)", 2),
        ("RE3", "work done less carefully (emotional problems)", 2),
        ("BP2", "pain interference with work", 5),
        ("MH3", "calm and peaceful", 6),
        ("VT2", "energy", 6),
        ("MH4", "downhearted and low", 6),
        ("SF2", "interference with social activities", 5),
    )
)

NPRS: Final[tuple[ItemLabel, ...]] = (
    ItemLabel(field="nprs_mean", label="NPRS - mean pain intensity", options=11, first_code=0),
    ItemLabel(field="nprs_max", label="NPRS - maximum pain intensity", options=11, first_code=0),
)

# DN4 answers are yes/no: code 0 = no, 1 = yes.
DN4: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(field=f"dn4_{number}", label=f"DN4 {number} - {topic}", options=2, first_code=0)
    for number, topic in (
        (1, "burning"),
        (2, "painful cold"),
        (3, "electric shocks"),
        (4, "tingling"),
        (5, "pins and needles"),
        (6, "numbness"),
        (7, "itching"),
        (8, "hypoesthesia to touch (examination)"),
        (9, "hypoesthesia to pinprick (examination)"),
        (10, "pain caused or increased by brushing (examination)"),
    )
)

BY_INSTRUMENT: Final[dict[str, tuple[ItemLabel, ...]]] = {
    "hads": HADS,
    "sf12": SF12,
    "nprs": NPRS,
    "dn4": DN4,
}
